"""Small helpers the image tests share: an HTTP client per key, PNG size, polling."""

from __future__ import annotations

import json
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai


def sdk(gateway, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=gateway.openai_base_url, api_key=key or gateway.admin_key, max_retries=0
    )


@dataclass
class Reply:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class HttpClient:
    """Plain HTTP (stdlib urllib) for the endpoints the openai SDK has no method for."""

    def __init__(self, base_url: str, key: str) -> None:
        self._base = base_url
        self._key = key

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        url = path if path.startswith("http") else self._base + path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, json: Any = None) -> Reply:
        return self.request("POST", path, json if json is not None else {})


def http(gateway, key: str | None = None) -> HttpClient:
    return HttpClient(gateway.base_url, key or gateway.admin_key)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def wait_until(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_for_job(client: HttpClient, job_id: str, *statuses: str, timeout: float = 10) -> dict:
    def check() -> dict | None:
        job = client.get(f"/v1/jobs/{job_id}").json()
        return job if job["status"] in statuses else None

    return wait_until(check, timeout, f"job {job_id} to be {'/'.join(statuses)}")
