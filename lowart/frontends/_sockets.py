"""Unix socket paths for any listener (HTTP and gRPC alike).

A neutral module: frontends do not import each other, so what they share about
sockets lives here.
"""

from __future__ import annotations

import os
import socket
import stat

__all__ = ["prepare_unix_socket_path"]


def prepare_unix_socket_path(path: str) -> None:
    """Remove a stale socket file left by a crash; refuse to steal a live one."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise RuntimeError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise RuntimeError(f"another server is listening on {path}")
