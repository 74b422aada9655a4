"""A registered server as the hub runs it: plain data, no MCP SDK needed to hold it."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ServerSpec"]


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """A registered server as the hub runs it (secrets decrypted, kept out of repr)."""

    name: str
    transport: str
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict, repr=False)
    enabled: bool = True
    call_timeout: float = 30.0
    max_result_bytes: int = 256 * 1024

    @property
    def secrets(self) -> list[str]:
        """Values that must never leave in an error text or a log line."""
        return [v for v in (*self.headers.values(), *self.env.values()) if len(v) >= 4]
