"""A fake Anthropic upstream speaking the Messages API's real wire format.

Like the real API it checks `x-api-key` and `anthropic-version`, requires
`max_tokens`, rejects non-alternating roles and system messages inside
`messages`, answers errors in `{"type":"error","error":{...}}`, and streams
named SSE events (`message_start`, `content_block_*`, `ping`, `message_delta`,
`message_stop`, `error`) with usage split between message_start and message_delta.

Behaviour by upstream model name: `claude-echo` (default: "echo: <last user
text>"), `claude-cached` (reports prompt-cache tokens), `claude-tools` (text
plus two parallel tool_use blocks), `fail-<status>`, `claude-midstream-error`
(an `error` event after some text), `claude-drop` (the connection dies without
message_stop). Extra body fields (they arrive only if the gateway passes them):
`fake_words` (answer "w0 w1 ..."), `fake_delay` (seconds between events).
Fault injection: `fail_next(count, status, retry_after)` makes the next Messages
requests fail whatever their model, with a `retry-after` header if given.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

API_KEY = "sk-ant-upstream-secret"
INPUT_TOKENS = 11
CACHE_CREATION = 7
CACHE_READ = 13
TOOL_CALLS = (
    ("toolu_01", "get_weather", {"city": "Paris", "unit": "celsius"}),
    ("toolu_02", "get_time", {"zone": "Europe/Paris"}),
)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def add_anthropic_route(
    gateway: Any, fake: FakeAnthropic, name: str, upstream: str, **fields: Any
) -> None:
    """Configure `name` on a live gateway as an anthropic route to this fake."""
    gateway.add_model(
        name,
        "anthropic",
        base_url=fake.base_url,
        upstream_model=upstream,
        api_key=API_KEY,
        **fields,
    )


def error_body(status: int, message: str) -> dict[str, Any]:
    error_type = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": error_type, "message": message}}


@dataclass
class FakeAnthropic:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)
    streams_started: int = 0
    streams_cancelled: int = 0
    streams_finished: int = 0
    port: int = 0
    failures: deque[tuple[int, str | None]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None

    def fail_next(self, count: int, status: int = 529, retry_after: str | None = None) -> None:
        """The next `count` Messages requests fail with `status` (and `retry-after`)."""
        self.failures.extend([(status, retry_after)] * count)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ checks

    def _check(
        self, request: web.Request, body: Any, *, count: bool = False
    ) -> web.Response | None:
        if request.headers.get("x-api-key") != API_KEY:  # echoed, as some vendors do
            return _error(401, f"invalid x-api-key: {request.headers.get('x-api-key')}")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return _error(400, "anthropic-version: header is required")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "messages: Field required")
        if not count and not isinstance(body.get("max_tokens"), int):
            return _error(400, "max_tokens: Field required")
        previous = None
        for index, message in enumerate(body["messages"]):
            role = message.get("role")
            if role not in ("user", "assistant"):
                return _error(400, f"messages.{index}.role: Input should be 'user' or 'assistant'")
            if role == previous:
                return _error(400, "messages: roles must alternate between user and assistant")
            previous = role
        return None

    # --------------------------------------------------------------- handlers

    async def _count_tokens(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        failed = self._check(request, body, count=True)
        if failed is not None:
            return failed
        unknown = set(body) - {"model", "messages", "system", "tools", "tool_choice", "thinking"}
        if unknown:
            return _error(400, f"{sorted(unknown)[0]}: Extra inputs are not permitted")
        tokens = len(orjson.dumps([body.get("system"), body["messages"], body.get("tools")])) // 4
        self.counted.append(tokens)
        return web.json_response({"input_tokens": tokens})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        failed = self._check(request, body)
        if failed is not None:
            return failed
        if self.failures:
            status, retry_after = self.failures.popleft()
            failure = _error(status, f"injected {status}")
            if retry_after is not None:
                failure.headers["retry-after"] = retry_after
            return failure
        model = body.get("model", "claude-echo")
        if model.startswith("fail-"):
            status = int(model.split("-", 1)[1])
            return _error(status, f"fake failure {status}")
        if body.get("stream"):
            return await self._stream(request, body, model)
        text, stop = _answer(body)
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if model == "claude-tools":
            content += [
                {"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in TOOL_CALLS
            ]
            stop = "tool_use"
        reply = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {**_start_usage(model), "output_tokens": output_tokens(body, model)},
        }
        return web.json_response(reply)

    async def _stream(self, request: web.Request, body: dict, model: str) -> web.StreamResponse:
        self.streams_started += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        delay = float(body.get("fake_delay", 0))
        text, stop = _answer(body)

        async def send(event: dict[str, Any]) -> None:
            data = orjson.dumps(event)
            await response.write(b"event: " + event["type"].encode() + b"\ndata: " + data + b"\n\n")
            if delay:
                await asyncio.sleep(delay)

        try:
            message = {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**_start_usage(model), "output_tokens": 1},
            }
            await send({"type": "message_start", "message": message})
            await send({"type": "content_block_start", "index": 0, "content_block": _empty_text()})
            await send({"type": "ping"})
            for position, word in enumerate(_words(text)):
                if model == "claude-drop" and position == 2:
                    request.transport.close()
                    return response
                if model == "claude-midstream-error" and position == 2:
                    await send(error_body(529, "Overloaded"))
                    await response.write_eof()
                    return response
                delta = {"type": "text_delta", "text": word}
                await send({"type": "content_block_delta", "index": 0, "delta": delta})
            await send({"type": "content_block_stop", "index": 0})
            if model == "claude-tools":
                await _send_tool_blocks(send)
                stop = "tool_use"
            await send(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": output_tokens(body, model)},
                }
            )
            await send({"type": "message_stop"})
            await response.write_eof()
            self.streams_finished += 1
        except (asyncio.CancelledError, ConnectionResetError, ConnectionError):
            self.streams_cancelled += 1
            raise
        return response


async def _send_tool_blocks(send: Any) -> None:
    for offset, (tool_id, name, arguments) in enumerate(TOOL_CALLS):
        index = 1 + offset
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        await send({"type": "content_block_start", "index": index, "content_block": block})
        raw = orjson.dumps(arguments).decode()
        pieces = ["", raw[: len(raw) // 2], raw[len(raw) // 2 :]]
        for piece in pieces:
            delta = {"type": "input_json_delta", "partial_json": piece}
            await send({"type": "content_block_delta", "index": index, "delta": delta})
        await send({"type": "content_block_stop", "index": index})


def _error(status: int, message: str) -> web.Response:
    return web.json_response(error_body(status, message), status=status)


def _empty_text() -> dict[str, Any]:
    return {"type": "text", "text": ""}


def _start_usage(model: str) -> dict[str, int]:
    cached = model == "claude-cached"
    return {
        "input_tokens": INPUT_TOKENS,
        "cache_creation_input_tokens": CACHE_CREATION if cached else 0,
        "cache_read_input_tokens": CACHE_READ if cached else 0,
    }


def _last_user_text(body: dict) -> str:
    for message in reversed(body["messages"]):
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            return content
        return " ".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


def _answer(body: dict) -> tuple[str, str]:
    """The reply text and stop reason, after max_tokens (one token per word here)."""
    if "fake_words" in body:
        text = "".join(f"w{i} " for i in range(int(body["fake_words"])))
    else:
        text = f"echo: {_last_user_text(body)}"
    words = _words(text)
    if len(words) > body["max_tokens"]:
        return "".join(words[: body["max_tokens"]]), "max_tokens"
    return text, "end_turn"


def _words(text: str) -> list[str]:
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1][:-1]
    return [w for w in words if w]


def output_tokens(body: dict, model: str) -> int:
    """What the fake reports as output tokens: one per word, plus ten per tool call."""
    extra = 10 * len(TOOL_CALLS) if model == "claude-tools" else 0
    return len(_words(_answer(body)[0])) + extra
