"""Agent Cards: what a caller with and without a key may discover, and from where."""

from __future__ import annotations

import httpx
import pytest
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import GetExtendedAgentCardRequest, SendMessageRequest, TaskState

from tests.frontends.a2a.conftest import agent, route_card, user_message


async def test_gateway_card_is_public_and_names_no_route(a2a_gateway, fake_openai):
    a2a_gateway.add_model(
        "secret-route",
        "openai",
        base_url=fake_openai.base_url,
        upstream_model="upstream-model-name",
        api_key="sk-x",
    )
    async with httpx.AsyncClient() as http:
        card = await A2ACardResolver(http, a2a_gateway.base_url).get_agent_card()
        raw = (await http.get(a2a_gateway.base_url + "/.well-known/agent-card.json")).text
    assert card.name == "lowart"
    assert card.capabilities.streaming and card.capabilities.push_notifications
    assert {s.id for s in card.skills} == {"chat", "image-generation"}
    bindings = {(i.protocol_binding, i.url) for i in card.supported_interfaces}
    assert ("JSONRPC", a2a_gateway.base_url + "/a2a") in bindings
    assert ("HTTP+JSON", a2a_gateway.base_url + "/a2a") in bindings
    assert ("GRPC", a2a_gateway.grpc_target) in bindings
    assert ("GRPC", f"unix:{a2a_gateway.grpc.uds}") in bindings
    assert card.security_schemes["lowart-key"].http_auth_security_scheme.scheme == "Bearer"
    for hidden in ("secret-route", "upstream-model-name", fake_openai.base_url, "echo"):
        assert hidden not in raw


async def test_route_card_needs_a_key_that_may_use_the_route(a2a_gateway):
    limited = a2a_gateway.create_key("limited", models=["echo"])
    url = a2a_gateway.base_url + "/a2a/echo/.well-known/agent-card.json"
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(url)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        for model, key, status in (
            ("echo", limited, 200),
            ("slow", limited, 403),
            ("no-such-model", limited, 404),
        ):
            response = await http.get(
                a2a_gateway.base_url + f"/a2a/{model}/.well-known/agent-card.json",
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == status, (model, response.text)
    card = await route_card(a2a_gateway, "echo", limited)
    assert card.name == "echo" and [s.id for s in card.skills] == ["chat:echo"]
    urls = {(i.protocol_binding, i.url, i.tenant) for i in card.supported_interfaces}
    assert ("JSONRPC", a2a_gateway.base_url + "/a2a/echo", "") in urls
    assert ("HTTP+JSON", a2a_gateway.base_url + "/a2a/echo", "") in urls
    assert ("GRPC", a2a_gateway.grpc_target, "echo") in urls


async def test_calls_without_a_key_are_refused(a2a_gateway):
    async with httpx.AsyncClient() as http:
        response = await http.post(
            a2a_gateway.base_url + "/a2a/echo",
            json={"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {}},
            headers={"A2A-Version": "1.0"},
        )
        assert response.status_code == 401
        response = await http.get(a2a_gateway.base_url + "/a2a/echo/tasks")
        assert response.status_code == 401


@pytest.mark.parametrize("binding", ["JSONRPC", "HTTP+JSON", "GRPC"])
async def test_gateway_card_with_the_route_as_tenant(a2a_gateway, binding):
    """A client that only knows the gateway card names the route as the tenant."""
    async with httpx.AsyncClient() as http:
        card = await A2ACardResolver(http, a2a_gateway.base_url).get_agent_card()
        for interface in card.supported_interfaces:
            interface.tenant = "echo"
        import grpc

        config = ClientConfig(
            streaming=False,
            httpx_client=http,
            supported_protocol_bindings=[binding],
            grpc_channel_factory=grpc.aio.insecure_channel,
        )
        client = ClientFactory(config).create(card)
        from a2a.client import ClientCallContext

        ctx = ClientCallContext(
            service_parameters={"authorization": f"Bearer {a2a_gateway.admin_key}"}
        )
        request = SendMessageRequest(message=user_message("via the tenant"))
        events = [e async for e in client.send_message(request, context=ctx)]
        assert events[0].task.status.state == TaskState.TASK_STATE_COMPLETED
        extended = await client.get_extended_agent_card(GetExtendedAgentCardRequest(), context=ctx)
        assert {"chat:echo", "chat:slow"} <= {s.id for s in extended.skills}
        await client.close()


async def test_grpc_over_the_unix_socket(a2a_gateway):
    async with agent(a2a_gateway, "echo", "GRPC", uds=True) as caller:
        events = await caller.send("over the socket")
        assert events[0].task.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_body_over_the_limit_is_refused(loop_thread, tmp_path, short_dir):
    from tests.frontends.a2a.conftest import start_a2a_gateway
    from tests.support.servers import stop_gateway

    handle = start_a2a_gateway(loop_thread, tmp_path, short_dir, max_body_bytes=4096)
    try:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {
                "message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "x" * 8000}]}
            },
        }
        headers = {"Authorization": f"Bearer {handle.admin_key}", "A2A-Version": "1.0"}
        async with httpx.AsyncClient() as http:
            response = await http.post(handle.base_url + "/a2a/echo", json=body, headers=headers)
        assert response.status_code == 413
        assert "larger than the limit" in response.text
    finally:
        stop_gateway(handle)
