"""What an image request asks for, read from either API, checked before routing.

The OpenAI Images API (`prompt`, `n`, `size`, `response_format`) and a chat
completion on an image model (the last user message is the prompt) both become
one `ImageParams`; `binding_values` then maps it onto a route's bindings, and
refuses what the route's workflow cannot honour instead of silently ignoring it.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from typing import Any

from lowart._validate import validate_chat_request
from lowart.errors import InvalidRequest

__all__ = ["ImageParams", "binding_values", "params_from_chat", "params_from_images_api"]

_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})$")
_FORMATS = ("url", "b64_json")
MAX_N = 16


@dataclass(frozen=True, slots=True)
class ImageParams:
    model: str
    prompt: str
    n: int | None = None
    size: tuple[int, int] | None = None
    response_format: str = "url"
    seed: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    cfg: float | None = None
    run_async: bool = False
    stream: bool = False

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImageParams:
        size = data.get("size")
        return cls(**{**data, "size": tuple(size) if size else None})


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be an integer from {low} to {high}.", param=name)
    return value


def _common(body: dict[str, Any], prompt: str) -> dict[str, Any]:
    size = body.get("size")
    parsed_size = None
    if size is not None and size != "auto":
        match = _SIZE.match(size) if isinstance(size, str) else None
        if not match or not all(0 < int(v) <= 16384 for v in match.groups()):
            raise InvalidRequest("'size' must look like 1024x1024 (WIDTHxHEIGHT).", param="size")
        parsed_size = (int(match[1]), int(match[2]))
    negative = body.get("negative_prompt")
    if negative is not None and not isinstance(negative, str):
        raise InvalidRequest("'negative_prompt' must be a string.", param="negative_prompt")
    cfg = body.get("cfg")
    if cfg is not None and (not isinstance(cfg, int | float) or isinstance(cfg, bool)):
        raise InvalidRequest("'cfg' must be a number.", param="cfg")
    run_async = body.get("async", False)
    if not isinstance(run_async, bool):
        raise InvalidRequest("'async' must be a boolean.", param="async")
    return {
        "prompt": prompt,
        "n": _int(body, "n", 1, MAX_N),
        "size": parsed_size,
        "seed": _int(body, "seed", 0, 2**63 - 1),
        "negative_prompt": negative,
        "steps": _int(body, "steps", 1, 10_000),
        "cfg": float(cfg) if cfg is not None else None,
        "run_async": run_async,
    }


def params_from_images_api(body: Any, *, force_async: bool = False) -> ImageParams:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required and must be a string.", param="model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("'prompt' is required and must be a non-empty string.", param="prompt")
    response_format = body.get("response_format") or "url"
    if response_format not in _FORMATS:
        raise InvalidRequest(
            "'response_format' must be 'url' or 'b64_json'.", param="response_format"
        )
    common = _common(body, prompt)
    if force_async:
        common["run_async"] = True
    return ImageParams(model=model, response_format=response_format, **common)


def params_from_chat(body: Any) -> ImageParams:
    """The last user message is the prompt; image options may ride along as extra fields."""
    request = validate_chat_request(body)
    prompt = _last_user_text(request["messages"])
    if not prompt.strip():
        raise InvalidRequest(
            "An image model needs a user message with text: it is the prompt.", param="messages"
        )
    common = _common(request, prompt)
    return ImageParams(model=request["model"], stream=bool(request.get("stream")), **common)


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(
                str(part.get("text", "")) for part in content if part.get("type") == "text"
            )
    return ""


def binding_values(
    params: ImageParams, bindings: dict[str, list[str]], model: str
) -> dict[str, Any]:
    """The values to write into the workflow; asking for what it cannot bind is an error."""

    def refuse(what: str, binding: str) -> InvalidRequest:
        return InvalidRequest(
            f"Model '{model}' cannot take {what}: its workflow has no '{binding}' binding.",
            param=what.split()[0].strip("'"),
        )

    values: dict[str, Any] = {}
    if "prompt" in bindings:
        values["prompt"] = params.prompt
    if params.negative_prompt is not None:
        if "negative_prompt" not in bindings:
            raise refuse("'negative_prompt'", "negative_prompt")
        values["negative_prompt"] = params.negative_prompt
    if params.size is not None:
        if "width" not in bindings or "height" not in bindings:
            raise refuse("'size'", "width/height")
        values["width"], values["height"] = params.size
    if params.n is not None:
        if "batch_size" in bindings:
            values["batch_size"] = params.n
        elif params.n > 1:
            raise refuse("'n' above 1", "batch_size")
    if "seed" in bindings:
        # A fresh seed per request, as ComfyUI's own UI does; otherwise ComfyUI's
        # cache would hand back the same image for the same prompt.
        values["seed"] = params.seed if params.seed is not None else random.getrandbits(48)
    elif params.seed is not None:
        raise refuse("'seed'", "seed")
    for name in ("steps", "cfg"):
        value = getattr(params, name)
        if value is not None:
            if name not in bindings:
                raise refuse(f"'{name}'", name)
            values[name] = value
    return values
