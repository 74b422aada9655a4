"""Building GenerateImagesRequest from plain values, and reading the stream's events."""

from __future__ import annotations

from typing import Any

from lowart_client._proto import images_pb2

__all__ = ["build_images_request", "event_kind"]


def build_images_request(
    model: str,
    prompt: str,
    *,
    with_bytes: bool,
    image: bytes | None,
    image_type: str,
    options: dict[str, Any],
) -> images_pb2.GenerateImagesRequest:
    """`options` are ImageSpec fields: negative_prompt, n, width, height, seed, steps, cfg."""
    spec = images_pb2.ImageSpec(model=model, prompt=prompt, **options)
    if image is not None:
        spec.image.CopyFrom(images_pb2.InputImage(data=image, content_type=image_type))
    delivery = (
        images_pb2.IMAGE_DELIVERY_BYTES if with_bytes else images_pb2.IMAGE_DELIVERY_REFERENCE
    )
    return images_pb2.GenerateImagesRequest(spec=spec, delivery=delivery)


def event_kind(message: images_pb2.GenerateImagesResponse) -> str:
    """ "progress", "image" or "summary" (the last message of a successful stream)."""
    return message.WhichOneof("event") or ""
