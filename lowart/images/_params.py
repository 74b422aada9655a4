"""What an image request asks for, read from either API, checked before routing.

The OpenAI Images API (`prompt`, `n`, `size`, `response_format`) and a chat
completion on an image model (the last user message is the prompt) both become
one `ImageParams`; `binding_values` then maps it onto a route's bindings, and
refuses what the route's workflow cannot honour instead of silently ignoring it.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from lowart._validate import validate_chat_request
from lowart.errors import InvalidRequest

__all__ = [
    "ImageParams",
    "InputImage",
    "binding_values",
    "params_from_chat",
    "params_from_images_api",
]

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
    image: InputImage | None = None

    def as_json(self) -> dict[str, Any]:
        """What the job row keeps: the request's values, not the input image's bytes."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "image"}
        clean = {k: v for k, v in values.items() if v is not None}
        if self.image is not None:
            clean["image"] = {
                "content_type": self.image.content_type,
                "bytes": len(self.image.data),
            }
        return clean


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image the workflow starts from (uploaded to ComfyUI's input folder)."""

    data: bytes
    content_type: str

    @classmethod
    def checked(cls, data: bytes, content_type: str | None, param: str) -> InputImage:
        kind = (content_type or "").split(";")[0].strip().lower()
        if not data:
            raise InvalidRequest("The input image is empty.", param=param)
        if not kind.startswith("image/"):
            raise InvalidRequest(
                f"The input image must be an image (got {kind or 'no type'}).", param=param
            )
        return cls(data, kind)


def _int(body: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be an integer from {low} to {high}.", param=name)
    return value


def _common(body: Mapping[str, Any], prompt: str) -> dict[str, Any]:
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


def params_from_images_api(
    body: Any, *, force_async: bool = False, image: InputImage | None = None
) -> ImageParams:
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
    return ImageParams(model=model, response_format=response_format, image=image, **common)


def params_from_chat(body: Any) -> ImageParams:
    """The last user message is the prompt; image options may ride along as extra fields."""
    request = validate_chat_request(body)
    message = _last_user_message(request["messages"])
    prompt = _text_of(message)
    if not prompt.strip():
        raise InvalidRequest(
            "An image model needs a user message with text: it is the prompt.", param="messages"
        )
    common = _common(request, prompt)
    return ImageParams(
        model=request["model"],
        stream=bool(request.get("stream")),
        image=_image_part(message),
        **common,
    )


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    for message in reversed(messages):
        if message.get("role") == "user":
            return dict(message)
    return {}


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    return ""


_DATA_URL = re.compile(r"^data:(image/[\w.+-]+)(?:;[^,]*)?;base64,(.*)$", re.DOTALL)


def _image_part(message: dict[str, Any]) -> InputImage | None:
    """An `image_url` part of the prompt message, which must be a data: URL (lowart
    never fetches URLs on a caller's behalf)."""
    content = message.get("content")
    for part in content if isinstance(content, list) else ():
        if part.get("type") != "image_url":
            continue
        image_url = part.get("image_url")
        url = image_url.get("url") if isinstance(image_url, dict) else image_url
        match = _DATA_URL.match(url) if isinstance(url, str) else None
        if match is None:
            raise InvalidRequest(
                "Input images must be data: URLs (data:image/png;base64,...).",
                param="messages",
            )
        try:
            data = base64.b64decode(match[2], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("The input image is not valid base64.", param="messages") from exc
        return InputImage.checked(data, match[1], "messages")
    return None


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
    if params.image is not None and "image" not in bindings:
        raise refuse("'image'", "image")
    for name in ("steps", "cfg"):
        value = getattr(params, name)
        if value is not None:
            if name not in bindings:
                raise refuse(f"'{name}'", name)
            values[name] = value
    return values
