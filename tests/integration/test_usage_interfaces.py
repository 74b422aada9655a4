"""Usage by interface: one request through each of lowart's interfaces leaves exactly
one record naming it, and `lowart stats --by interface` (a separate process on the
same database, as an operator runs it) reports them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from lowart._proto import chat_pb2
from tests.integration.conftest import (
    anthropic_client,
    grpc_auth,
    mcp_url,
    openai_client,
    records,
    user,
)
from tests.support.mcp_client import http_client

INTERFACES = ["anthropic", "grpc", "http", "mcp"]


def one_request_each(gateway, chat) -> None:
    openai_client(gateway).chat.completions.create(
        model="fake", messages=[{"role": "user", "content": "via openai"}]
    )
    anthropic_client(gateway).messages.create(
        model="claude", max_tokens=20, messages=[{"role": "user", "content": "via anthropic"}]
    )
    chat.CreateChatCompletion(
        chat_pb2.CreateChatCompletionRequest(model="fake", messages=[user("via grpc")]),
        metadata=grpc_auth(gateway.admin_key),
        timeout=10,
    )

    async def via_mcp() -> None:
        async with http_client(mcp_url(gateway), gateway.admin_key) as client:
            result = await client.call_tool("chat", {"model": "claude", "prompt": "via mcp"})
            assert not result.is_error, result

    asyncio.run(via_mcp())


def lowart_stats(gateway, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": gateway.runtime.settings.database_url,
        "LOWART_SECRET_KEY": "test-secret",
    }
    return subprocess.run(
        [sys.executable, "-m", "lowart", "stats", "--by", "interface", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_each_interface_leaves_one_record_with_its_name(live, chat):
    one_request_each(live, chat)
    found = records(live, 4)
    assert sorted(r["interface"] for r in found) == INTERFACES
    assert all(r["status"] == "ok" for r in found)
    by_interface = {r["interface"]: r for r in found}
    assert by_interface["anthropic"]["route"] == "claude"
    assert by_interface["mcp"]["vendor"] == "anthropic"
    assert by_interface["grpc"]["route"] == by_interface["http"]["route"] == "fake"

    summary = live.run(live.runtime.admin.usage_summary(by="interface"))
    assert [(row["interface"], row["requests"]) for row in summary] == [
        (name, 1) for name in INTERFACES
    ]
    tokens = {row["interface"]: row["total_tokens"] for row in summary}
    assert tokens == {name: by_interface[name]["total_tokens"] for name in INTERFACES}

    report = json.loads(lowart_stats(live, "--json").stdout)
    assert report["data"] == summary
    assert report["total"]["requests"] == len(INTERFACES)
    table = lowart_stats(live).stdout.splitlines()
    assert table[0].split()[:2] == ["INTERFACE", "REQUESTS"]
    listed = {line.split()[0]: line.split()[1] for line in table[1:] if line.strip()}
    assert {name: listed.get(name) for name in INTERFACES} == dict.fromkeys(INTERFACES, "1")
