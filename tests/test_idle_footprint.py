"""What an idle `lowart serve` keeps out of memory until it is needed.

Idle RSS is one of the issue's targets and grpcio with the generated stubs is
its biggest optional part (~23 MiB): a stray top-level import would quietly
bring it into every gateway started with --no-grpc.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

GRPC_NATIVE_LIBRARY = "cygrpc"  # as it appears in /proc/PID/maps once grpcio is imported


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_a_gateway_without_grpc_never_loads_grpcio(tmp_path):
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'idle.db'}",
        "LOWART_SECRET_KEY": "idle-test",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowart", "serve", "--port", "0", "--no-grpc"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if re.search(r"serving on http://", line) or not line:
                break
        assert proc.poll() is None, "lowart serve exited"
        assert GRPC_NATIVE_LIBRARY not in Path(f"/proc/{proc.pid}/maps").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
