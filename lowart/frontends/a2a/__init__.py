"""The A2A (Agent2Agent) frontend: every route as an agent other agents can call.

Built on the official `a2a-sdk` (protocol 1.0; JSON-RPC also speaks 0.3): the
SDK does the protocol, lowart supplies the executor (one Gateway call per
message), the task stores (the AgentTasks service, per key, in the database)
and push delivery. The composition root builds one `A2aAgents` and mounts it
on the HTTP listener (`mount_a2a`) and the gRPC server (`add_a2a_service`).
"""

from lowart.frontends.a2a._cards import A2A_PATH
from lowart.frontends.a2a._grpc import A2A_SERVICE_NAME, add_a2a_service
from lowart.frontends.a2a._mount import AGENT_CARD_PATH, mount_a2a
from lowart.frontends.a2a._service import A2aAgents

__all__ = [
    "A2A_PATH",
    "A2A_SERVICE_NAME",
    "AGENT_CARD_PATH",
    "A2aAgents",
    "add_a2a_service",
    "mount_a2a",
]
