"""Who is calling and for which route: what each binding puts in the SDK's call context.

The HTTP bindings authenticate in aiohttp before the SDK sees the request and
put the Principal in the ASGI scope; gRPC hands over the presented key, checked
by the admitting handler (authentication is async, the SDK's context builders
are not). Either way the request handler and the executor read the caller from
`ServerCallContext.state` under these names.
"""

from __future__ import annotations

from typing import Any

from a2a.auth.user import User
from a2a.server.context import ServerCallContext

from lowart.types import Principal

__all__ = [
    "BASE_URL",
    "MODEL",
    "PRESENTED_KEY",
    "PRINCIPAL",
    "REQUEST_ID",
    "ROUTE",
    "KeyUser",
    "principal_of",
]

PRINCIPAL = "lowart.principal"
PRESENTED_KEY = "lowart.presented_key"  # gRPC: checked by the admitting handler
MODEL = "lowart.model"  # the route named in the URL path (HTTP); gRPC uses the tenant
ROUTE = "lowart.route"  # the route a SendMessage runs on, once admitted
REQUEST_ID = "lowart.request_id"
BASE_URL = "lowart.base_url"


class KeyUser(User):
    """The SDK's notion of a user: a lowart key, named by its id (never the secret)."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return f"key-{self.principal.key_id}"


def principal_of(context: ServerCallContext | None) -> Principal:
    """The admitted caller; a context without one is a bug, never a way in."""
    principal: Any = context.state.get(PRINCIPAL) if context is not None else None
    if not isinstance(principal, Principal):
        raise RuntimeError("an A2A call reached the task layer without an admitted key")
    return principal
