"""npm packages the client tests run: installed once from their committed lock file.

Every npm-based test (the TypeScript client, the agent CLIs, the A2A JavaScript SDK)
needs the same thing before it starts: `npm ci` in its pinned folder, kept between
runs, and a clear skip (a failure in CI) when node, npm or the registry is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import service_unavailable

__all__ = ["npm_ci_once", "output_tail"]

# npm's own chatter stays off the network too.
_QUIET_NPM = {
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


def output_tail(result: subprocess.CompletedProcess, size: int = 3000) -> str:
    """The end of what a command printed, for an assertion message."""
    return (result.stdout + result.stderr)[-size:]


def npm_ci_once(package: Path, *, needs: Path | None = None, timeout: float = 600) -> None:
    """`npm ci` in `package` unless its node_modules is already installed (and holds
    `needs`, when given); skipped (failed in CI) only when npm or its registry is missing."""
    if not shutil.which("node") or not shutil.which("npm"):
        service_unavailable("node/npm", "not installed")
    installed = (package / "node_modules" / ".package-lock.json").exists()
    if installed and (needs is None or needs.exists()):
        return
    try:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=package,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **_QUIET_NPM},
        )
    except subprocess.TimeoutExpired:
        service_unavailable("npm registry", "npm ci timed out")
    if result.returncode != 0:
        service_unavailable("npm registry", f"npm ci failed:\n{output_tail(result)}")
