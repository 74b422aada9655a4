"""Registry rows to `ServerSpec`s: the one place stored server secrets are decrypted."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from lowart.store import SecretBox, SecretBoxError
from lowart.toolhub._spec import ServerSpec

__all__ = ["seal_values", "spec_of"]

log = logging.getLogger("lowart.toolhub")


def seal_values(secrets: SecretBox, values: dict[str, str]) -> str:
    """A name -> value mapping as stored: the names in clear, each value encrypted."""
    return orjson.dumps({name: secrets.encrypt(value) for name, value in values.items()}).decode()


def _open_values(secrets: SecretBox, stored: str | None, server: str) -> dict[str, str]:
    opened: dict[str, str] = {}
    for name, token in (orjson.loads(stored) if stored else {}).items():
        try:
            opened[name] = secrets.decrypt(token)
        except SecretBoxError:
            log.error("MCP server %s: a stored secret (%s) cannot be decrypted", server, name)
    return opened


def spec_of(row: dict[str, Any], secrets: SecretBox) -> ServerSpec:
    name = row["name"]
    return ServerSpec(
        name=name,
        transport=row["transport"],
        url=row.get("url"),
        headers=_open_values(secrets, row.get("headers_encrypted"), name),
        command=row.get("command"),
        args=tuple(orjson.loads(row.get("args") or "[]")),
        env=_open_values(secrets, row.get("env_encrypted"), name),
        enabled=bool(row["enabled"]),
        call_timeout=float(row["call_timeout"]),
        max_result_bytes=int(row["max_result_bytes"]),
    )
