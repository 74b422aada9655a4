"""The registry end to end: the CLI (a separate process) and the admin API register an
HTTP upstream on a running gateway's database; the gateway follows at runtime, keeps
secrets encrypted, reconnects after the upstream comes back, and audits every call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from lowart.types import Principal
from tests.support.servers import GatewayHandle
from tests.support.waiting import wait_until
from tests.toolhub.conftest import SECRET, HttpUpstream, wait_connected

USER = Principal(key_id=1, name="test-admin", is_admin=True)


def cli(gateway: GatewayHandle, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": gateway.runtime.settings.database_url,
        "LOWART_SECRET_KEY": "test-secret",
        "UPSTREAM_TOKEN": f"Bearer {SECRET}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "lowart", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def state(gateway: GatewayHandle, name: str) -> str | None:
    return gateway.runtime.hub.servers().get(name, {}).get("state")


def followed(gateway: GatewayHandle, name: str) -> str | None:
    """The state after the gateway re-read the configuration (what its watcher does
    each tick, here on demand)."""
    gateway.run(gateway.runtime.reload())
    return state(gateway, name)


def call_whoami(gateway: GatewayHandle) -> str:
    access = gateway.runtime.tool_access

    async def run() -> str:
        tool = access.resolve(USER, "web__whoami")
        return (await access.call(USER, tool, {}, decision="auto")).text

    return gateway.run(run())


def checkpoint(gateway: GatewayHandle) -> None:
    """Copy the gateway's SQLite WAL into the database file: another process's reader
    on this machine's /tmp does not always see frames still in the WAL."""

    async def run() -> None:
        async with gateway.runtime.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")

    gateway.run(run())


def metrics(gateway: GatewayHandle) -> str:
    async def scrape() -> str:
        headers = {"Authorization": f"Bearer {gateway.admin_key}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(gateway.base_url + "/metrics", headers=headers) as response,
        ):
            return await response.text()

    return gateway.run(scrape())


def test_cli_registers_and_the_gateway_follows(
    hub_gateway: GatewayHandle, http_upstream: HttpUpstream
) -> None:
    cli(
        hub_gateway,
        "mcp-servers", "add", "web", "--url", http_upstream.url,
        "--header", "Authorization=env:UPSTREAM_TOKEN", "--timeout", "5",
    )  # fmt: skip
    cli(hub_gateway, "tools", "policy", "set", "web.*", "auto")
    hub_gateway.run(hub_gateway.runtime.reload())  # rather than wait for the watcher's tick
    wait_connected(hub_gateway, "web")
    # The header reached the upstream, which echoed it; the echo of a configured
    # secret never comes back out (the whole value was the header's).
    assert call_whoami(hub_gateway) == "[redacted]"

    listed = json.loads(cli(hub_gateway, "mcp-servers", "list", "--json").stdout)
    (web,) = listed
    assert web["transport"] == "http" and web["header_names"] == ["Authorization"]
    assert SECRET not in json.dumps(listed)
    assert wait_until(
        lambda: (
            json.loads(cli(hub_gateway, "mcp-servers", "list", "--json").stdout)[0]["state"]
            == "connected"
        ),
        timeout=10,
    )
    database = Path(hub_gateway.runtime.settings.database_url.split("///", 1)[1])
    assert SECRET.encode() not in database.read_bytes()

    tools = json.loads(cli(hub_gateway, "tools", "list", "--json").stdout)
    assert {"server": "web", "tool": "echo", "exposed": "web__echo", "policy": "auto",
            "allowed": True} in tools  # fmt: skip

    # The upstream goes away: the call fails cleanly; it comes back: reconnected.
    http_upstream.stop()
    assert wait_until(lambda: state(hub_gateway, "web") == "failed", timeout=20)
    http_upstream.start()
    wait_connected(hub_gateway, "web", timeout=40)
    assert call_whoami(hub_gateway) == "[redacted]"

    hub_gateway.run(hub_gateway.runtime.hub.audit.flush())  # the writer's next tick, now
    checkpoint(hub_gateway)
    logs = cli(hub_gateway, "logs", "--tools", "--json").stdout.splitlines()
    rows = [json.loads(line) for line in logs]
    assert [(r["server"], r["tool"], r["outcome"]) for r in rows] == [
        ("web", "whoami", "ok"),
        ("web", "whoami", "ok"),
    ]
    assert (
        'lowart_tool_calls_total{decision="auto",outcome="ok",server="web",tool="whoami"} 2.0'
        in (metrics(hub_gateway))
    )

    # Disabled, then removed, at runtime.
    cli(hub_gateway, "mcp-servers", "update", "web", "--disable")
    assert wait_until(lambda: followed(hub_gateway, "web") == "disabled", timeout=10)
    assert hub_gateway.runtime.tool_access.tools_for(USER) == []
    cli(hub_gateway, "mcp-servers", "remove", "web")
    assert wait_until(lambda: followed(hub_gateway, "web") is None, timeout=10)


def test_admin_api_crud_validation_and_audit(hub_gateway: GatewayHandle) -> None:
    status, body = hub_gateway.admin_call(
        "POST",
        "/admin/mcp-servers",
        {
            "name": "local",
            "command": sys.executable,
            "args": ["-m", "tests.support.mcp_upstream", "stdio"],
            "env": {
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                "UPSTREAM_SECRET": SECRET,
            },
            "timeout": 5,
        },
    )
    assert status == 201, body
    assert body["env_names"] == ["PYTHONPATH", "UPSTREAM_SECRET"] and SECRET not in str(body)
    for bad, field in (
        ({"name": "Bad_Name", "url": "http://x"}, "name"),
        ({"name": "ftp", "url": "ftp://example.com/mcp"}, "url"),
        ({"name": "both", "url": "http://x/mcp", "command": "x"}, None),
        ({"name": "slow", "url": "http://x/mcp", "timeout": 301}, "timeout"),
        ({"name": "huge", "url": "http://x/mcp", "max_result_bytes": 5 * 2**20}, None),
        ({"name": "local", "url": "http://x/mcp"}, "name"),
    ):
        status, error = hub_gateway.admin_call("POST", "/admin/mcp-servers", bad)
        assert status == 400, (bad, error)
        assert error["error"]["type"] == "invalid_request_error"
        if field:
            assert error["error"]["param"] == field
    wait_connected(hub_gateway, "local")
    status, body = hub_gateway.admin_call("GET", "/admin/mcp-servers/local")
    assert status == 200 and body["state"] in ("connected", "connecting")
    status, body = hub_gateway.admin_call(
        "POST", "/admin/tool-policies", {"pattern": "local.fail", "policy": "auto"}
    )
    assert status == 201 and body == {
        "pattern": "local.fail", "policy": "auto", "key": None, "key_id": None
    }  # fmt: skip
    hub_gateway.run(hub_gateway.runtime.reload())
    access = hub_gateway.runtime.tool_access

    async def fail() -> str:
        tool = access.resolve(USER, "local.fail")
        return (await access.call(USER, tool, {"how": "error"}, decision="auto")).text

    assert SECRET not in hub_gateway.run(fail())
    status, page = hub_gateway.admin_call("GET", "/admin/tool-calls?server=local&limit=1")
    assert status == 200
    (row,) = page["data"]
    assert (row["tool"], row["outcome"], row["key"]) == ("fail", "error", "test-admin")
    assert SECRET not in str(row)
    status, body = hub_gateway.admin_call("PATCH", "/admin/mcp-servers/local", {"enabled": False})
    assert status == 200 and body["state"] == "disabled"
    status, _ = hub_gateway.admin_call("DELETE", "/admin/mcp-servers/local")
    assert status == 200
    status, error = hub_gateway.admin_call("GET", "/admin/mcp-servers/local")
    assert status == 404 and error["error"]["code"] == "not_found"


def test_non_admin_keys_cannot_register(hub_gateway: GatewayHandle) -> None:
    key = hub_gateway.create_key("plain")

    async def post() -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                hub_gateway.base_url + "/admin/mcp-servers",
                json={"name": "evil", "command": "/bin/sh"},
                headers={"Authorization": f"Bearer {key}"},
            ) as response,
        ):
            return response.status

    assert hub_gateway.run(post()) == 403
    assert hub_gateway.run(hub_gateway.runtime.admin.tools.list_servers()) == []


def test_cli_takes_a_stdio_command_line_as_a_shell_would(hub_gateway: GatewayHandle) -> None:
    """What a server's README says to run (`npx -y @scope/server`) is pasted whole:
    argparse alone would take `--arg -y` for an option of lowart's."""
    line = f"'{sys.executable}' -m tests.support.mcp_upstream stdio"
    cli(hub_gateway, "mcp-servers", "add", "local", "--command", line, "--arg=--quiet")
    (row,) = json.loads(cli(hub_gateway, "mcp-servers", "list", "--json").stdout)
    assert row["command"] == sys.executable
    assert row["args"] == ["-m", "tests.support.mcp_upstream", "stdio", "--quiet"]
    refused = cli(hub_gateway, "mcp-servers", "add", "bad", "--command", "'unclosed", check=False)
    assert refused.returncode != 0 and "--command" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_cli_sets_a_keys_tools_when_creating_and_updating_it(hub_gateway: GatewayHandle) -> None:
    cli(hub_gateway, "keys", "create", "--name", "agent", "--tools", "web.echo*, fs.read_file")

    def tools_of(name: str) -> object:
        keys = json.loads(cli(hub_gateway, "keys", "list", "--json").stdout)
        return next(k for k in keys if k["name"] == name)["tools"]

    assert tools_of("agent") == ["web.echo*", "fs.read_file"]
    cli(hub_gateway, "keys", "update", "agent", "--tools", "all")
    assert tools_of("agent") is None
    refused = cli(hub_gateway, "keys", "create", "--name", "bad", "--tools", "no dots", check=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
