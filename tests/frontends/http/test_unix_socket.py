"""The same API over a Unix socket, created owner-only and removed on shutdown."""

from __future__ import annotations

import os
import stat

import httpx2 as httpx
import openai

from tests.support.servers import start_gateway, stop_gateway, test_settings


def test_unix_socket_serves_the_same_api(loop_thread, tmp_path):
    path = tmp_path / "gw.sock"
    handle = start_gateway(loop_thread, test_settings(tmp_path, uds=str(path)))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert mode == 0o600
        http = httpx.Client(transport=httpx.HTTPTransport(uds=str(path)))
        api = openai.OpenAI(
            base_url="http://lowart/v1", api_key=handle.admin_key, http_client=http, max_retries=0
        )
        reply = api.chat.completions.create(
            model="mock", messages=[{"role": "user", "content": "uds"}]
        )
        assert reply.choices[0].message.content.endswith("You said: uds")
        chunks = list(
            api.chat.completions.create(
                model="mock", messages=[{"role": "user", "content": "uds"}], stream=True
            )
        )
        assert chunks[-1].choices[0].finish_reason == "stop"
        http.close()
    finally:
        stop_gateway(handle)
    assert not path.exists()


def test_stale_socket_file_is_replaced(loop_thread, tmp_path):
    import socket

    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # a crashed server leaves its socket file behind
    handle = start_gateway(loop_thread, test_settings(tmp_path, uds=str(path), port=None))
    try:
        assert handle.listener.addresses == [f"unix:{path}"]
    finally:
        stop_gateway(handle)
