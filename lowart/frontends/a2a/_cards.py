"""Agent Cards: how a caller discovers lowart's agents and reaches them.

What a card may show, and to whom (the gateway is a shared service; a card is
public by design of the protocol):

- The gateway card (`/.well-known/agent-card.json`, no key needed) names no
  route at all: two generic skills (chat, image generation), the interfaces
  where the route is chosen by the request's `tenant`, and the bearer scheme.
- A route's card (`/a2a/{model}/.well-known/agent-card.json`) needs a key that
  may use the route; without a key it is 401, for a route the key cannot use
  404 (so a key-less caller cannot probe which routes exist). It shows the
  route's public name and kind, never a provider URL or upstream model name.
- The extended card (GetExtendedAgentCard, authenticated) lists the routes the
  calling key may use as skills.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol

from lowart import __version__
from lowart.frontends.a2a._paths import A2A_PATH

__all__ = ["A2A_PATH", "Endpoints", "gateway_card", "route_card", "route_skill"]

_BEARER = "lowart-key"

CHAT_SKILL = AgentSkill(
    id="chat",
    name="Chat",
    description=(
        "Send a text message; a language model answers, streamed as it is written. "
        "Messages with the same contextId continue one conversation."
    ),
    tags=["chat", "llm", "text"],
    input_modes=["text/plain"],
    output_modes=["text/plain"],
)
IMAGE_SKILL = AgentSkill(
    id="image-generation",
    name="Image generation",
    description=(
        "Send a text prompt; an image workflow draws it. Progress arrives as working "
        "status updates and the images as an artifact of file parts."
    ),
    tags=["image", "generation"],
    input_modes=["text/plain"],
    output_modes=["image/png", "image/jpeg", "image/webp"],
)


@dataclass(frozen=True)
class Endpoints:
    """Where this process can be reached: its HTTP base URL and gRPC targets."""

    base_url: str
    grpc_targets: Sequence[str] = ()


def _interfaces(http_base: str, grpc_targets: Sequence[str], tenant: str) -> list[AgentInterface]:
    version = PROTOCOL_VERSION_CURRENT
    interfaces = [
        AgentInterface(
            url=http_base,
            protocol_binding=TransportProtocol.JSONRPC.value,
            protocol_version=version,
            tenant=tenant,
        ),
        AgentInterface(
            url=http_base,
            protocol_binding=TransportProtocol.HTTP_JSON.value,
            protocol_version=version,
            tenant=tenant,
        ),
    ]
    for target in grpc_targets:  # gRPC always names the route by tenant
        interfaces.append(
            AgentInterface(
                url=target,
                protocol_binding=TransportProtocol.GRPC.value,
                protocol_version=version,
                tenant=tenant,
            )
        )
    return interfaces


def _card(
    name: str, description: str, interfaces: list[AgentInterface], skills: list[AgentSkill]
) -> AgentCard:
    return AgentCard(
        name=name,
        description=description,
        supported_interfaces=interfaces,
        version=__version__,
        capabilities=AgentCapabilities(
            streaming=True, push_notifications=True, extended_agent_card=True
        ),
        security_schemes={
            _BEARER: SecurityScheme(
                http_auth_security_scheme=HTTPAuthSecurityScheme(
                    scheme="Bearer",
                    description="A lowart API key (also accepted as x-api-key).",
                )
            )
        },
        security_requirements=[SecurityRequirement(schemes={_BEARER: StringList()})],
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=skills,
    )


def gateway_card(endpoints: Endpoints) -> AgentCard:
    """The public card: lowart as one agent whose route is the request's tenant."""
    interfaces = _interfaces(endpoints.base_url + A2A_PATH, endpoints.grpc_targets, "")
    return _card(
        "lowart",
        "An AI gateway: every model it routes to is an agent. Set the request's tenant to "
        "the model name, or use a model's own card at /a2a/{model}/.well-known/"
        "agent-card.json (needs your key).",
        interfaces,
        [CHAT_SKILL, IMAGE_SKILL],
    )


def route_skill(name: str, kind: str) -> AgentSkill:
    skill = AgentSkill()
    skill.CopyFrom(IMAGE_SKILL if kind == "image" else CHAT_SKILL)
    skill.id = f"{skill.id}:{name}"
    skill.name = f"{skill.name} with {name}"
    return skill


def route_card(name: str, kind: str, endpoints: Endpoints) -> AgentCard:
    """One route as an agent: its own URL on HTTP, the tenant on gRPC."""
    http_base = f"{endpoints.base_url}{A2A_PATH}/{quote(name, safe='')}"
    interfaces = _interfaces(http_base, (), "")
    interfaces += _interfaces("", endpoints.grpc_targets, name)[2:]
    what = "generates images" if kind == "image" else "answers chat messages"
    description = f"The model '{name}' on lowart; it {what}."
    return _card(name, description, interfaces, [route_skill(name, kind)])
