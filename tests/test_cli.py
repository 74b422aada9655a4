"""The command line, run as a user would run it: a separate process on a database file."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
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
    empty = json.loads(lowart(tmp_path, "stats", "--by", "day", "--json").stdout)
    assert empty["data"] == [] and empty["total"]["requests"] == 0


def _seed(tmp_path: Path, records: list) -> None:
    import asyncio

    from lowart.store import UsageStore, migrate, open_engine

    async def seed() -> None:
        engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        await migrate(engine)
        await UsageStore(engine).write_batch(records)
        await engine.dispose()

    asyncio.run(seed())


def _traffic() -> list:
    """Ten records of alice on gpt (one failed) with latencies 10..100 ms, and one of bob
    on claude; TTFT on the streamed ones; costs that a float would not add exactly."""
    from tests.support.records import make_record

    alice = [
        make_record(
            f"a{i}",
            key_name="alice",
            route="gpt",
            vendor="openai",
            upstream_model="gpt-4o",
            status="ok" if i else "error",
            http_status=200 if i else 502,
            error_code=None if i else "upstream_error",
            prompt_tokens=10,
            completion_tokens=5,
            cache_read_tokens=2,
            latency_ms=10.0 * (i + 1),
            ttft_ms=float(i + 1) if i % 2 else None,
            stream=bool(i % 2),
            cost=Decimal("0.1"),
            currency="USD",
        )
        for i in range(10)
    ]
    bob = make_record(
        "b0",
        key_name="bob",
        route="claude",
        vendor="anthropic",
        upstream_model="claude-sonnet-4-5",
        interface="anthropic",
        prompt_tokens=7,
        completion_tokens=3,
        latency_ms=500.0,
        cost=Decimal("0.2"),
        currency="USD",
    )
    return [*alice, bob]


@pytest.mark.parametrize("by", ["model", "key", "day", "hour", "interface", "vendor"])
def test_stats_after_traffic(tmp_path, by):
    _seed(tmp_path, _traffic())
    out = lowart(tmp_path, "stats", "--by", by, "--since", "7d").stdout
    lines = out.splitlines()
    assert lines[-1].startswith("TOTAL")
    total = lines[-1].split()
    # requests, errors, error rate, prompt, completion, cached, total tokens, cost, currency
    assert total[1:10] == ["11", "1", "9.1%", "107", "53", "20", "160", "1.2", "USD"]
    report = json.loads(lowart(tmp_path, "stats", "--by", by, "--json").stdout)
    assert report["total"]["cost"] == "1.2"  # exact: ten 0.1s and a 0.2
    assert sum(row["requests"] for row in report["data"]) == 11


def test_stats_percentiles_error_rate_and_csv(tmp_path):
    _seed(tmp_path, _traffic())
    report = json.loads(lowart(tmp_path, "stats", "--json").stdout)
    gpt = next(row for row in report["data"] if row["route"] == "gpt")
    # Nearest rank over 10, 20, ... 100 ms: p50 is the 5th value, p95 the 10th.
    assert (gpt["p50_latency_ms"], gpt["p95_latency_ms"]) == (50.0, 100.0)
    # TTFT only where there was one (2, 4, 6, 8, 10 ms): p50 the 3rd, p95 the 5th.
    assert (gpt["p50_ttft_ms"], gpt["p95_ttft_ms"]) == (6.0, 10.0)
    assert (gpt["errors"], gpt["error_rate"], gpt["cost"]) == (1, 0.1, "1")
    assert report["total"]["p95_latency_ms"] == 500.0
    assert report["total"]["p50_latency_ms"] == 60.0  # 6th of 11
    csv_out = lowart(tmp_path, "stats", "--by", "key", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("key_name,requests,errors,error_rate,")
    rows = list(csv.DictReader(csv_out))
    assert [r["key_name"] for r in rows] == ["alice", "bob", "TOTAL"]
    assert rows[1]["cost"] == "0.2" and rows[1]["p50_ttft_ms"] == ""
    assert rows[2]["requests"] == "11"
    assert lowart(tmp_path, "stats", "--by", "weather", check=False).returncode == 2
    failed = lowart(tmp_path, "stats", "--since", "yesterday", check=False)
    assert failed.returncode == 1 and "Invalid 'since'" in failed.stderr


def test_logs_filters_and_json(tmp_path):
    _seed(tmp_path, _traffic())
    out = lowart(tmp_path, "logs", "--limit", "3").stdout.splitlines()
    assert out[0].split()[:3] == ["ID", "CREATED_AT", "KEY_NAME"]
    assert [line.split()[2] for line in out[1:]] == ["alice", "alice", "bob"]  # oldest first
    lines = lowart(tmp_path, "logs", "--json", "--key", "alice", "--status", "error").stdout
    (failed,) = [json.loads(line) for line in lines.splitlines()]
    assert failed["request_id"] == "a0" and failed["error_code"] == "upstream_error"
    assert failed["cost"] == "0.1" and failed["http_status"] == 502
    anthropic = lowart(tmp_path, "logs", "--json", "--interface", "anthropic").stdout
    assert [json.loads(line)["request_id"] for line in anthropic.splitlines()] == ["b0"]
    by_model = lowart(tmp_path, "logs", "--json", "--model", "gpt", "--since", "1h").stdout
    assert len(by_model.splitlines()) == 10
    assert lowart(tmp_path, "logs", "--since", "2999-01-01").stdout.strip() == "(none)"
    assert lowart(tmp_path, "logs", "--limit", "0", check=False).returncode == 2


def test_logs_follow_prints_new_records(tmp_path):
    from tests.support.records import make_record

    _seed(tmp_path, _traffic()[:1])
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "LOWART_SECRET_KEY_FILE": str(tmp_path / "cli.key"),
    }
    lowart(tmp_path, "db", "upgrade")
    follower = subprocess.Popen(
        [sys.executable, "-m", "lowart", "logs", "--follow", "--interval", "0.2", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        assert first["request_id"] == "a0"
        _seed(tmp_path, [make_record("later-1"), make_record("later-2")])
        seen = [json.loads(follower.stdout.readline())["request_id"] for _ in range(2)]
        assert seen == ["later-1", "later-2"]
    finally:
        follower.terminate()
        follower.wait(timeout=10)


def test_keys_budgets_and_list_json(tmp_path):
    budget = ("--budget", "12.50", "--budget-period", "day")
    lowart(tmp_path, "keys", "create", "--name", "k1", *budget)
    (key,) = json.loads(lowart(tmp_path, "keys", "list", "--json").stdout)
    assert (key["name"], key["budget"], key["budget_period"], key["spent"]) == (
        "k1",
        "12.5",
        "day",
        "0",
    )
    bad = lowart(tmp_path, "keys", "update", "k1", "--budget", "-3", check=False)
    assert bad.returncode == 1 and "'budget' must be between 0" in bad.stderr
    lowart(tmp_path, "keys", "update", "k1", "--budget", "none")
    listing = lowart(tmp_path, "keys", "list").stdout.splitlines()
    assert listing[0].split()[-4:] == ["BUDGET", "BUDGET_PERIOD", "SPENT", "MODELS"]
    assert listing[1].split()[-4:] == ["-", "day", "0", "all"]


def test_model_prices_and_list_json(tmp_path):
    prices = ("--price-in", "2", "--price-out", "8", "--price-cached", "0.5", "--currency", "eur")
    lowart(
        tmp_path,
        "models",
        "add",
        "gpt",
        "--vendor",
        "openai",
        "--upstream-model",
        "gpt-4o",
        *prices,
    )
    models = json.loads(lowart(tmp_path, "models", "list", "--json").stdout)
    gpt = next(m for m in models if m["name"] == "gpt")
    assert gpt["price"] == {
        "input": "2",
        "cached": "0.5",
        "output": "8",
        "image": None,
        "currency": "EUR",
        "source": "route",
    }
    back_to_table = ("--price-in", "none", "--price-out", "none", "--price-cached", "none")
    lowart(tmp_path, "models", "update", "gpt", *back_to_table, "--currency", "none")
    listing = lowart(tmp_path, "models", "list").stdout
    assert "in 2.5 / cached 1.25 / out 10 per 1M USD (table 2025-11-24)" in listing
    bad = lowart(tmp_path, "models", "update", "gpt", "--price-in", "1e9", check=False)
    assert bad.returncode == 1 and "price_in" in bad.stderr
    lowart(tmp_path, "models", "fallback", "add", "gpt", "mock")
    edges = json.loads(lowart(tmp_path, "models", "fallback", "list", "--json").stdout)
    assert [(e["model"], e["fallback"]) for e in edges] == [("gpt", "mock")]


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
