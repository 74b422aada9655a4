"""The TypeScript client (clients/typescript): its streaming example, run with node
against a live gateway over TCP and over the Unix socket."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.npm import npm_ci_once, output_tail
from tests.support.servers import GatewayHandle

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


@pytest.fixture(scope="session")
def example() -> Path:
    """Install the npm dependencies once (node_modules is kept), then compile."""
    npm_ci_once(PACKAGE, timeout=300)
    built = PACKAGE / "dist" / "examples" / "stream.js"
    if not _is_fresh(built):
        build = subprocess.run(
            ["npm", "run", "build"], cwd=PACKAGE, capture_output=True, text=True, timeout=180
        )
        assert build.returncode == 0, f"tsc failed:\n{output_tail(build)}"
    return built


def _is_fresh(built: Path) -> bool:
    """tsc is slow; skip it when nothing changed since the last build."""
    if not built.exists():
        return False
    sources = [PACKAGE / "tsconfig.json", PACKAGE / "package.json"]
    sources += [*PACKAGE.glob("src/**/*.ts"), *PACKAGE.glob("examples/*.ts")]
    return built.stat().st_mtime > max(p.stat().st_mtime for p in sources)


def test_generated_types_are_fresh(example: Path, tmp_path: Path) -> None:
    """`npm run generate` into a scratch folder must reproduce src/generated exactly."""
    script = json.loads((PACKAGE / "package.json").read_text())["scripts"]["generate"]
    command = script.replace("--outDir=src/generated", f"--outDir={tmp_path}").split()
    result = subprocess.run(
        ["npx", "--no-install", *command], cwd=PACKAGE, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, output_tail(result)
    committed = PACKAGE / "src" / "generated"
    fresh_files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.ts"))
    assert fresh_files == sorted(p.relative_to(committed) for p in committed.rglob("*.ts"))
    stale = [f for f in fresh_files if (tmp_path / f).read_bytes() != (committed / f).read_bytes()]
    assert not stale, f"stale TypeScript types {stale}: run `npm run generate`"


def _run(example: Path, target: str, key: str, *prompt: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(example), *prompt],
        env={"PATH": os.environ["PATH"], "LOWART_TARGET": target, "LOWART_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("transport", ["tcp", "uds"])
def test_streaming_example(grpc_gateway: GatewayHandle, example: Path, transport: str) -> None:
    target = f"unix://{grpc_gateway.grpc.uds}" if transport == "uds" else grpc_gateway.grpc_target
    result = _run(example, target, grpc_gateway.admin_key, "hi", "there")
    assert result.returncode == 0, output_tail(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("models: ") and "mock" in lines[0]
    assert lines[1] == "This is the lowart mock model. You said: hi there"
    usage = re.fullmatch(r"usage: prompt=(\d+) completion=(\d+) total=(\d+)", lines[2])
    assert usage, result.stdout
    prompt, completion, total = map(int, usage.groups())
    assert completion > 0 and total == prompt + completion
    (record,) = grpc_gateway.wait_for_records(1)
    assert record["interface"] == "grpc" and record["stream"] is True
    assert record["completion_tokens"] == completion


def test_example_reports_a_bad_key(grpc_gateway: GatewayHandle, example: Path) -> None:
    result = _run(example, grpc_gateway.grpc_target, "la-wrong")
    assert result.returncode == 1
    assert "code=16" in result.stderr  # UNAUTHENTICATED
    assert "Invalid or revoked API key" in result.stderr
