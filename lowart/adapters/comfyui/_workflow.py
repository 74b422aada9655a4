"""A route's workflow template and the bindings that say where request values go.

A ComfyUI route stores an API-format workflow (`{node_id: {class_type, inputs}}`)
and bindings such as `prompt -> 6.inputs.text`. Both are checked when the route
is added, so a typo fails then, with a message naming the node and input,
instead of on the first user request.
"""

from __future__ import annotations

import copy
from typing import Any

from lowart.errors import InvalidRequest

__all__ = ["BINDABLE", "apply_bindings", "check_comfyui_options", "parse_binding"]

# What a request can put into a workflow, and the type each value must have.
BINDABLE: dict[str, type] = {
    "prompt": str,
    "negative_prompt": str,
    "seed": int,
    "steps": int,
    "cfg": float,
    "width": int,
    "height": int,
    "batch_size": int,
    "image": str,  # the name of an input image lowart uploaded (LoadImage.inputs.image)
}


def parse_binding(path: object) -> tuple[str, str]:
    """`6.inputs.text` -> ("6", "text")."""
    if not isinstance(path, str):
        raise InvalidRequest(f"Binding path {path!r} must be a string like '6.inputs.text'.")
    node, sep, name = path.partition(".inputs.")
    if not sep or not node or not name or "." in name:
        raise InvalidRequest(
            f"Binding path {path!r} must look like NODE.inputs.INPUT, e.g. '6.inputs.text'.",
            param="options.bindings",
        )
    return node, name


def _check_workflow(workflow: object) -> dict[str, Any]:
    if not isinstance(workflow, dict) or not workflow:
        raise InvalidRequest(
            "'workflow' must be a non-empty JSON object in ComfyUI's API format "
            "({node_id: {class_type, inputs}}; export it with 'Save (API)').",
            param="options.workflow",
        )
    if "nodes" in workflow and "links" in workflow:
        raise InvalidRequest(
            "This is a ComfyUI UI workflow, not the API format: export it with 'Save (API)'.",
            param="options.workflow",
        )
    for node_id, node in workflow.items():
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("class_type"), str)
            or not isinstance(node.get("inputs"), dict)
        ):
            raise InvalidRequest(
                f"Workflow node {node_id!r} must be an object with a 'class_type' string "
                "and an 'inputs' object.",
                param="options.workflow",
            )
        for name, value in node["inputs"].items():
            if _is_link(value) and value[0] not in workflow:
                raise InvalidRequest(
                    f"Workflow node {node_id!r} input {name!r} links to node {value[0]!r}, "
                    "which is not in the workflow.",
                    param="options.workflow",
                )
    return workflow


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _normalise_bindings(bindings: object, workflow: dict[str, Any]) -> dict[str, list[str]]:
    if bindings is None:
        return {}
    if not isinstance(bindings, dict):
        raise InvalidRequest("'bindings' must be an object.", param="options.bindings")
    clean: dict[str, list[str]] = {}
    for name, paths in bindings.items():
        if name not in BINDABLE:
            raise InvalidRequest(
                f"Unknown binding {name!r}; use one of {', '.join(BINDABLE)}.",
                param="options.bindings",
            )
        paths = [paths] if isinstance(paths, str) else paths
        if not isinstance(paths, list) or not paths:
            raise InvalidRequest(
                f"Binding {name!r} needs a path or a list of paths.", param="options.bindings"
            )
        for path in paths:
            node_id, input_name = parse_binding(path)
            node = workflow.get(node_id)
            if node is None:
                raise InvalidRequest(
                    f"Binding {name}={path}: the workflow has no node {node_id!r} "
                    f"(it has {', '.join(sorted(workflow))}).",
                    param="options.bindings",
                )
            if input_name not in node["inputs"]:
                raise InvalidRequest(
                    f"Binding {name}={path}: node {node_id!r} ({node['class_type']}) has no "
                    f"input {input_name!r} (it has {', '.join(sorted(node['inputs']))}).",
                    param="options.bindings",
                )
            if _is_link(node["inputs"][input_name]):
                raise InvalidRequest(
                    f"Binding {name}={path}: that input is a link to another node, not a value.",
                    param="options.bindings",
                )
        clean[name] = list(paths)
    return clean


def check_comfyui_options(options: object) -> dict[str, Any]:
    """Validate a comfyui route's options; returns them with bindings normalised to lists."""
    if not isinstance(options, dict) or "workflow" not in options:
        raise InvalidRequest(
            "A comfyui model needs a workflow: --workflow FILE.json (options.workflow).",
            param="options.workflow",
        )
    workflow = _check_workflow(options["workflow"])
    bindings = _normalise_bindings(options.get("bindings"), workflow)
    for name in ("timeout", "poll_interval"):
        value = options.get(name)
        if value is not None and (not isinstance(value, int | float) or value <= 0):
            raise InvalidRequest(f"'{name}' must be a positive number of seconds.")
    return {**options, "bindings": bindings}


def apply_bindings(
    workflow: dict[str, Any], bindings: dict[str, list[str]], values: dict[str, Any]
) -> dict[str, Any]:
    """A copy of the template with each given value written where its binding points."""
    filled = copy.deepcopy(workflow)
    for name, value in values.items():
        for path in bindings.get(name, ()):
            node_id, input_name = parse_binding(path)
            filled[node_id]["inputs"][input_name] = value
    return filled
