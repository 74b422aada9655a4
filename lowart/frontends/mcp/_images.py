"""The `generate_image` tool: a prompt on an image model (ComfyUI) -> the images.

It follows the generation through the Gateway's image engine, the
same one the Images API and gRPC use, so keys, limits, job rows and the one
usage record (interface `mcp`) are theirs. The images come back as MCP image
content; the structured result names the model, the stored files and the time
taken. With a progress token the tool reports queued / node / sampler step
progress as it happens; a cancelled call cancels the generation on ComfyUI.
"""

from __future__ import annotations

from typing import Any

from lowart.errors import GatewayError, InvalidRequest
from lowart.frontends.mcp._arguments import optional_string, reject_unknown, required_string
from lowart.frontends.mcp._spec import Caller, ToolImage, ToolOutput, ToolSpec
from lowart.gateway import Gateway
from lowart.images import GenerationResult, progress_text
from lowart.types import ImageProgress, Principal, Route

__all__ = ["GENERATE_IMAGE", "image_models"]

_OPTIONS = ("negative_prompt", "size", "n", "seed", "steps", "cfg")


def image_models(gateway: Gateway, principal: Principal) -> list[Route]:
    """The image routes this key may use (none when the image engine is off)."""
    return sorted(gateway.image_models(principal), key=lambda r: r.name)


def _model(caller: Caller, arguments: dict[str, Any]) -> str:
    """The model asked for; without one, the key's only image model."""
    model = optional_string(arguments, "model")
    if model:
        return model
    names = [r.name for r in image_models(caller.gateway, caller.principal)]
    if len(names) == 1:
        return names[0]
    raise InvalidRequest(
        f"'model' is required: this key may use several image models ({', '.join(names)}).",
        param="model",
    )


def image_request(caller: Caller, arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's arguments as an Images API body (the engine validates the values)."""
    reject_unknown(arguments, ("model", "prompt", *_OPTIONS))
    body: dict[str, Any] = {
        "model": _model(caller, arguments),
        "prompt": required_string(arguments, "prompt"),
    }
    body.update({name: arguments[name] for name in _OPTIONS if arguments.get(name) is not None})
    return body


async def _generate_image(caller: Caller, arguments: dict[str, Any]) -> ToolOutput:
    body = image_request(caller, arguments)
    ctx = caller.call_context(links_from_caller=False)
    reported = 0
    async with await caller.gateway.open_generation(caller.principal, body, ctx) as generation:
        async for event in generation:
            if isinstance(event, ImageProgress):
                if caller.wants_progress:
                    reported += 1
                    await caller.report_progress(reported, None, progress_text(event).strip())
                continue
            if caller.wants_progress:
                await caller.report_progress(reported + 1, reported + 1, "images ready")
            return await _output(event)
    raise GatewayError("The generation ended without a result.")  # pragma: no cover


async def _output(result: GenerationResult) -> ToolOutput:
    files: list[dict[str, Any]] = [
        {
            "file_id": o.file_id,
            "url": o.url,
            "content_type": o.content_type,
            "bytes": o.size,
        }
        for o in result.outputs
    ]
    count = len(files)
    text = (
        f"Generated {count} image{'s' if count != 1 else ''} with model '{result.model}' "
        f"in {result.duration_ms / 1000:.1f} s (job {result.job_id})."
    )
    if files:
        text += " Files: " + ", ".join(f["url"] for f in files)
    return ToolOutput(
        text,
        {
            "model": result.model,
            "job_id": result.job_id,
            "duration_ms": round(result.duration_ms, 1),
            "images": files,
        },
        images=tuple([ToolImage(await o.read(), o.content_type) for o in result.outputs]),
    )


GENERATE_IMAGE = ToolSpec(
    name="generate_image",
    title="Generate an image",
    description=(
        "Generate images from a text prompt on one of the gateway's image models (kind `image` "
        "in `list_models`; `model` may be left out when the key has only one). Optional: a "
        "`negative_prompt` (what to avoid), `size` as WIDTHxHEIGHT, `n` images, `seed`, "
        "`steps` and `cfg`; a model refuses options its workflow cannot take. Returns the "
        "images; the structured result has the model, the job id, the duration and each "
        "image's lowart file id and URL."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "model": {
                "type": "string",
                "description": "Image model name (kind `image` in list_models).",
            },
            "prompt": {"type": "string", "description": "What the image should show."},
            "negative_prompt": {"type": "string", "description": "What it should not show."},
            "size": {
                "type": "string",
                "pattern": "^[0-9]+x[0-9]+$",
                "description": "WIDTHxHEIGHT in pixels, for example 1024x1024.",
            },
            "n": {"type": "integer", "minimum": 1, "maximum": 16, "description": "How many."},
            "seed": {
                "type": "integer",
                "minimum": 0,
                "description": "Sampler seed, to reproduce an image; random when left out.",
            },
            "steps": {"type": "integer", "minimum": 1, "description": "Sampler steps."},
            "cfg": {"type": "number", "description": "Guidance scale (prompt adherence)."},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    },
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "job_id": {"type": "string"},
            "duration_ms": {"type": "number"},
            "images": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "file_id": {"type": "string"},
                        "url": {"type": "string"},
                        "content_type": {"type": "string"},
                        "bytes": {"type": "integer"},
                    },
                    "required": ["file_id", "url", "content_type", "bytes"],
                },
            },
        },
        "required": ["model", "job_id", "duration_ms", "images"],
    },
    run=_generate_image,
    read_only=False,
    available=lambda gateway, principal: bool(image_models(gateway, principal)),
)
