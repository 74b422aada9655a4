"""The command line, run as a user would run it: a separate process on a database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def lowart(
    tmp_path: Path, *args: str, check: bool = True, set_up: bool = True
) -> subprocess.CompletedProcess:
    """`lowart ARGS` on tmp_path's database; set up first (`db upgrade`) as an operator does."""
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "LOWART_SECRET_KEY_FILE": str(tmp_path / "cli.key"),
    }
    env.pop("LOWART_SECRET_KEY", None)
    if set_up and not (tmp_path / "cli.key").exists() and args[:2] != ("db", "upgrade"):
        lowart(tmp_path, "db", "upgrade")
    result = subprocess.run(
        [sys.executable, "-m", "lowart", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"lowart {' '.join(args)} failed: {result.stderr}")
    return result


def test_keys_commands(tmp_path):
    created = lowart(tmp_path, "keys", "create", "--name", "ci", "--rpm", "10", "--tpm", "1000")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("la-") and len(key) > 40
    listing = lowart(tmp_path, "keys", "list").stdout
    assert "ci" in listing and key not in listing and key[:10] in listing and "active" in listing
    assert lowart(tmp_path, "keys", "create", "--name", "ci", check=False).returncode == 1
    lowart(tmp_path, "keys", "revoke", "ci")
    assert "revoked" in lowart(tmp_path, "keys", "list").stdout
    failed = lowart(tmp_path, "keys", "revoke", "ci", check=False)
    assert (
        failed.returncode == 1
        and "No active key" in failed.stderr
        and "Traceback" not in failed.stderr
    )


def test_models_commands(tmp_path):
    assert "mock" in lowart(tmp_path, "models", "list").stdout
    lowart(
        tmp_path,
        "models",
        "add",
        "gpt",
        "--vendor",
        "openai",
        "--base-url",
        "http://127.0.0.1:1/v1",
        "--upstream-model",
        "gpt-4o",
        "--api-key",
        "sk-cli-secret",
        "--option",
        "read_timeout=30",
    )
    listing = lowart(tmp_path, "models", "list").stdout
    assert (
        "gpt-4o" in listing and "stored (encrypted)" in listing and "sk-cli-secret" not in listing
    )
    lowart(tmp_path, "models", "update", "gpt", "--upstream-model", "gpt-4.1", "--disable")
    listing = lowart(tmp_path, "models", "list").stdout
    assert "gpt-4.1" in listing
    lowart(tmp_path, "models", "remove", "gpt")
    assert "gpt-4.1" not in lowart(tmp_path, "models", "list").stdout
    bad = lowart(
        tmp_path, "models", "add", "x", "--vendor", "openai", "--base-url", "nope", check=False
    )
    assert bad.returncode == 1 and "base_url" in bad.stderr


def test_db_upgrade_and_empty_stats(tmp_path):
    assert "latest revision" in lowart(tmp_path, "db", "upgrade").stdout
    assert "(none)" in lowart(tmp_path, "stats").stdout
    assert lowart(tmp_path, "stats", "--by", "day", "--json").stdout.strip() == "[]"


@pytest.mark.parametrize("by", ["model", "key", "day", "interface"])
def test_stats_after_traffic(tmp_path, by):
    import asyncio

    from lowart.store import UsageStore, migrate, open_engine
    from tests.support.records import make_record

    async def seed() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await migrate(engine)
        records = [
            make_record(
                f"r{i}",
                key_name="alice",
                route="gpt",
                vendor="openai",
                upstream_model="gpt-4o",
                status="ok" if i else "error",
                prompt_tokens=10,
                completion_tokens=5,
                latency_ms=12.0,
            )
            for i in range(4)
        ]
        await UsageStore(engine).write_batch(records)
        await engine.dispose()

    asyncio.run(seed())
    out = lowart(tmp_path, "stats", "--by", by, "--since", "7d").stdout
    assert "60" in out  # total tokens: 4 x 15
    assert "4" in out


def test_commands_other_than_db_upgrade_never_create_a_database(tmp_path):
    """Run from the wrong directory, a command says where it looked instead of starting afresh."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOWART_")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "lowart", *args],
            env=env,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=60,
        )

    for args in (["keys", "list"], ["models", "add", "m", "--vendor", "mock"], ["stats"]):
        refused = run(*args)
        assert refused.returncode == 1, refused.stderr
        assert f"no database at {elsewhere / 'lowart.db'}" in refused.stderr
        assert "lowart db upgrade" in refused.stderr and "LOWART_DATABASE_URL" in refused.stderr
        assert "Traceback" not in refused.stderr
    mcp = run("mcp", "--api-key", "la-whatever")
    assert mcp.returncode == 1 and "no database at" in mcp.stderr and mcp.stdout == ""
    assert list(elsewhere.iterdir()) == []  # no lowart.db, no lowart.key

    upgraded = run("db", "upgrade")
    assert f"database {elsewhere / 'lowart.db'} is at the latest revision" in upgraded.stdout
    assert sorted(p.name for p in elsewhere.iterdir() if "-" not in p.name) == [
        "lowart.db",
        "lowart.key",
    ]
    listing = run("keys", "list")
    assert listing.returncode == 0 and f"database: {elsewhere / 'lowart.db'}" in listing.stderr


def test_a_database_without_its_secret_key_file_is_refused(tmp_path):
    lowart(tmp_path, "db", "upgrade")
    (tmp_path / "cli.key").unlink()
    refused = lowart(tmp_path, "keys", "list", check=False, set_up=False)
    assert refused.returncode == 1
    assert f"no secret key file at {tmp_path / 'cli.key'}" in refused.stderr
    assert "LOWART_SECRET_KEY_FILE" in refused.stderr
    assert not (tmp_path / "cli.key").exists()


def test_the_readme_comfyui_example_is_accepted(tmp_path):
    """The README's `models add sd15` command, with the workflow shipped in examples/."""
    import shlex

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    start = readme.index("lowart models add sd15 --vendor comfyui")
    command = readme[start : readme.index("```", start)].replace("\\\n", " ")
    args = shlex.split(command)[1:]  # drop `lowart`
    workflow = args.index("--workflow") + 1
    assert (root / args[workflow]).is_file()
    args[workflow] = str(root / args[workflow])
    added = lowart(tmp_path, *args)
    assert "Added model 'sd15' (comfyui" in added.stdout
    assert "sd15" in lowart(tmp_path, "models", "list").stdout
