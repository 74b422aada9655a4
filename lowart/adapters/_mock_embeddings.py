"""The mock model's embeddings: deterministic, normalised vectors.

Each input's vector is drawn from a generator seeded by a hash of the input, so
the same text (or token array) always gets the same vector and different inputs
different ones. A shorter `dimensions` gives the first values of the same
stream, normalised again: what OpenAI's text-embedding-3 models do when asked
to shorten. Values are float32, as OpenAI sends them, so the `float` and
`base64` encodings carry the very same numbers.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from typing import Any

__all__ = ["DEFAULT_DIMENSIONS", "embedding_data"]

DEFAULT_DIMENSIONS = 1536


def _vector(item: str | list[int], dimensions: int) -> tuple[float, ...]:
    seed = hashlib.sha256(repr(item).encode()).digest()
    rnd = random.Random(seed)
    values = [rnd.random() * 2 - 1 for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return struct.unpack(
        f"<{dimensions}f", struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    )


def embedding_data(inputs: list[Any], dimensions: int, encoding: str) -> list[dict[str, Any]]:
    """OpenAI's `data` list for `inputs` (CPU work: run it off the loop when it is large)."""
    data = []
    for index, item in enumerate(inputs):
        vector = _vector(item, dimensions)
        value: Any = list(vector)
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    return data
