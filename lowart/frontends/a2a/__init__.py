"""The A2A (Agent2Agent) frontend: every route as an agent other agents can call.

Built on the official `a2a-sdk` (protocol 1.0; JSON-RPC also speaks 0.3): the
SDK does the protocol, lowart supplies the executor (one Gateway call per
message), the task stores (the AgentTasks service, per key, in the database)
and push delivery. The composition root builds one `A2aAgents` and mounts it
on the HTTP listener (`mount_a2a`) and the gRPC server (`add_a2a_service`).

Importing this package is cheap: the SDK loads only when a name that needs it
is first used (`mount_a2a` loads it on the first A2A request).
"""

from __future__ import annotations

import importlib
from typing import Any

from lowart.frontends.a2a._mount import mount_a2a
from lowart.frontends.a2a._paths import A2A_PATH, AGENT_CARD_PATH

__all__ = [
    "A2A_PATH",
    "A2A_SERVICE_NAME",
    "AGENT_CARD_PATH",
    "A2aAgents",
    "add_a2a_service",
    "mount_a2a",
]

_LAZY = {
    "A2aAgents": "_service",
    "A2A_SERVICE_NAME": "_grpc",
    "add_a2a_service": "_grpc",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
