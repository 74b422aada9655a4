"""A fake OpenAI-compatible upstream speaking the real wire format.

Behaviour is chosen per request, so one server serves every test:
- the upstream model name: `echo` (default), `no-usage`, `fail-<status>`,
  `reject-key` (401 whose message echoes the key sent, whole and masked, as vendors do),
  `slow` (waits `fake_delay` before answering), `long` (streams 200 words, 10 ms
  apart), `drop` (stream dies midway),
  `utf8` (multi-byte characters split across network writes), `tools` (one
  call; streamed: some text, then STREAMED_TOOL_CALLS as parallel calls; once
  the conversation ends with a tool result it answers like `echo`), `codex-shell`
  (the same with SHELL_CALL, Codex CLI's `exec_command`),
  `huge-event` (streamed: one event that never ends, `fake_event_bytes` of it,
  64 MiB by default, then the connection is cut; `huge_event_sent` counts the
  bytes written before the reader gave up);
- untrusted replies: `usage-huge`, `usage-negative`, `usage-string`,
  `usage-not-object` report that usage (BAD_USAGE), replied or streamed;
  `choices-string`, `choices-null` send those choices (BAD_CHOICES) in the reply,
  or in the second chunk of a stream;
- unknown request fields (they reach us only if the gateway passes them through):
  `fake_words` (stream length), `fake_delay` (seconds per streamed word).
`POST /v1/responses` serves the Responses API the way OpenAI does
(`responses_reply`, `responses_events`): `echo: <last input text>`, or one
function call for model `tools` until a function_call_output ends the input,
with RESPONSES_USAGE (cached and reasoning tokens included).
It records every request body and header set, and counts streams that ended
because the gateway went away.

Fault injection for resilience tests: `fail_next(count, status, retry_after)`
makes the next requests fail whatever their model (status 0 = the connection
is cut before any byte), and `closed_port()` gives a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

BAD_USAGE: dict[str, Any] = {
    "usage-huge": {"prompt_tokens": 2**63, "completion_tokens": 2**63, "total_tokens": 2**64 - 1},
    "usage-negative": {"prompt_tokens": -1000, "completion_tokens": -5, "total_tokens": -1005},
    "usage-string": {"prompt_tokens": "abc", "completion_tokens": 7, "total_tokens": 7},
    "usage-not-object": "x",
}
BAD_CHOICES: dict[str, Any] = {"choices-string": "xyz", "choices-null": [None]}


@dataclass
class FakeOpenAI:
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)  # distinct client connections seen
    streams_started: int = 0
    streams_cancelled: int = 0
    streams_finished: int = 0
    huge_event_sent: int = 0
    port: int = 0
    failures: deque[tuple[int, str | None]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """The next `count` requests fail with `status` (0: connection cut, no reply)."""
        self.failures.extend([(status, retry_after)] * count)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v1/responses", self._responses)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.connections.add(id(request.transport))
        model = body.get("model", "echo")
        if model in TOOL_MODELS and _tool_answered(body):
            model = "echo"  # like a model, it answers from the tool's result
        if self.failures:
            status, retry_after = self.failures.popleft()
            if status == 0:
                request.transport.close()
                return web.Response(status=500)
            headers = {"Retry-After": retry_after} if retry_after is not None else None
            return web.json_response(
                {"error": {"message": f"injected {status}", "type": "server_error", "code": None}},
                status=status,
                headers=headers,
            )
        if model.startswith("fail-"):
            status = int(model.split("-", 1)[1])
            return web.json_response(
                {
                    "error": {
                        "message": f"fake failure {status}",
                        "type": "server_error",
                        "code": None,
                    }
                },
                status=status,
            )
        if model == "reject-key":
            return _key_rejected(request.headers.get("Authorization", ""))
        if model == "slow":
            await asyncio.sleep(float(body.get("fake_delay", 5)))
        if body.get("stream"):
            return await self._stream(request, body, model)
        text = _reply_text(body)
        reply: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": _message(model, text),
                    "logprobs": None,
                    "finish_reason": "tool_calls" if model in TOOL_MODELS else "stop",
                }
            ],
        }
        if model != "no-usage":
            reply["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if model in BAD_USAGE:
            reply["usage"] = BAD_USAGE[model]
        if model in BAD_CHOICES:
            reply["choices"] = BAD_CHOICES[model]
        return web.Response(body=orjson.dumps(reply), content_type="application/json")

    async def _embeddings(self, request: web.Request) -> web.Response:
        """OpenAI's /embeddings: one vector per input (string, strings, token arrays),
        `dimensions` long (default 8), float or base64 (little-endian float32); the
        first value is the input's index, the second its length. Models `fail-<status>`."""
        body = orjson.loads(await request.read())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        model = body.get("model", "echo")
        if model.startswith("fail-"):
            status = int(model.split("-", 1)[1])
            error = {"message": f"fake failure {status}", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=status)
        given = body.get("input")
        if isinstance(given, str) or (given and all(isinstance(t, int) for t in given)):
            given = [given]
        size = int(body.get("dimensions") or 8)
        data, tokens = [], 0
        for index, item in enumerate(given):
            length = len(item) if isinstance(item, list) else len(item.split())
            tokens += length
            vector = [float(index), float(length)] + [0.5] * (size - 2)
            value: Any = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": value})
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        reply = {"object": "list", "data": data, "model": model, "usage": usage}
        return web.json_response(reply)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        """The Responses API, as OpenAI serves it (see `responses_reply`)."""
        body = orjson.loads(await request.read())
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if not isinstance(body.get("input"), str | list):
            return web.json_response(
                {"error": {"message": "Missing input", "type": "invalid_request_error"}},
                status=400,
            )
        if body.get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for event in responses_events(body):
                await response.write(
                    b"event: "
                    + event["type"].encode()
                    + b"\ndata: "
                    + orjson.dumps(event)
                    + b"\n\n"
                )
            await response.write_eof()
            return response
        return web.Response(
            body=orjson.dumps(responses_reply(body)), content_type="application/json"
        )

    async def _stream(self, request: web.Request, body: dict, model: str) -> web.StreamResponse:
        self.streams_started += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        long = model == "long"  # a long, slow stream for clients whose fields cannot say so
        words = int(body.get("fake_words", 200 if long else 5))
        delay = float(body.get("fake_delay", 0.01 if long else 0))
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
        }
        include_usage = (body.get("stream_options") or {}).get("include_usage")
        try:
            if model == "huge-event":
                await self._write_huge_event(
                    request, response, int(body.get("fake_event_bytes", 1 << 26))
                )
                return response
            if model == "utf8":
                await _write_split_utf8(response, base)
            elif model in TOOL_MODELS:
                await _write_tool_calls(response, base, TOOL_MODELS[model])
            else:
                for index in range(words):
                    if model == "drop" and index == 3:
                        request.transport.close()  # dies without a terminating chunk
                        return response
                    delta = {"content": f"w{index} "}
                    if index == 0:
                        delta["role"] = "assistant"
                    chunk = {
                        **base,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                    }
                    if include_usage:
                        chunk["usage"] = None
                    if index == 1 and model in BAD_CHOICES:
                        chunk["choices"] = BAD_CHOICES[model]
                    await response.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
                    if delay:
                        await asyncio.sleep(delay)
                final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                await response.write(b"data: " + orjson.dumps(final) + b"\n\n")
            if include_usage and model != "no-usage":
                usage = {
                    **base,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 11,
                        "completion_tokens": words,
                        "total_tokens": 11 + words,
                    },
                }
                if model in BAD_USAGE:
                    usage["usage"] = BAD_USAGE[model]
                await response.write(b"data: " + orjson.dumps(usage) + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
            await asyncio.sleep(
                0.005
            )  # the body's terminator arrives after [DONE], as on real servers
            await response.write_eof()
            self.streams_finished += 1
        except (asyncio.CancelledError, ConnectionResetError, ConnectionError):
            self.streams_cancelled += 1
            raise
        return response

    async def _write_huge_event(
        self, request: web.Request, response: web.StreamResponse, size: int
    ) -> None:
        piece = b"x" * 65536
        self.huge_event_sent = 0
        try:
            await response.write(b'data: {"choices": [{"delta": {"content": "')
            while self.huge_event_sent < size:
                await response.write(piece)
                self.huge_event_sent += len(piece)
        except (ConnectionResetError, ConnectionError):
            return  # the gateway gave up on us: what we measure
        assert request.transport is not None
        request.transport.close()


def _key_rejected(authorization: str) -> web.Response:
    """OpenAI's 401, which names the key it got (here both whole and masked)."""
    key = authorization.removeprefix("Bearer ")
    masked = key[:6] + "*" * 20 + key[-4:]
    message = (
        f"Incorrect API key provided: {masked}. Header sent: {authorization}. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    return web.json_response(
        {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}},
        status=401,
    )


def _tool_answered(body: dict) -> bool:
    """Whether the conversation ends with a tool's result (chat or Responses API)."""
    messages = body.get("messages") or body.get("input") or []
    last = messages[-1] if isinstance(messages, list) and messages else {}
    return isinstance(last, dict) and (
        last.get("role") == "tool" or last.get("type") == "function_call_output"
    )


def _reply_text(body: dict) -> str:
    messages = body.get("messages") or []
    last = messages[-1].get("content") if messages else ""
    return f"echo: {last}" if isinstance(last, str) else "echo"


def _message(model: str, text: str) -> dict[str, Any]:
    if model in TOOL_MODELS:
        call_id, name, arguments = (
            ("call_1", "get_weather", '{"city":"Paris"}')
            if model == "tools"
            else TOOL_MODELS[model][0]
        )
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        }
    return {"role": "assistant", "content": text, "refusal": None}


UTF8_TEXT = "héllo wörld ✓ 你好 🎉"


async def _write_split_utf8(response: web.StreamResponse, base: dict) -> None:
    """Send one event whose bytes are cut inside multi-byte characters."""
    chunk = {
        **base,
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": UTF8_TEXT},
                "finish_reason": "stop",
            }
        ],
    }
    data = b"data: " + orjson.dumps(chunk) + b"\n\n"
    cut = data.index("你".encode()) + 1
    cut2 = data.index("🎉".encode()) + 2
    for piece in (data[:cut], data[cut:cut2], data[cut2:]):
        await response.write(piece)
        await asyncio.sleep(0.02)


STREAMED_TOOL_CALLS = (
    ("call_a", "get_weather", '{"city": "Paris"}'),
    ("call_b", "get_time", '{"zone": "Europe/Paris"}'),
)


SHELL_CALL = ("call_sh1", "exec_command", '{"cmd": "echo lowart-$((6 * 7))"}')
TOOL_MODELS = {"tools": STREAMED_TOOL_CALLS, "codex-shell": (SHELL_CALL,)}
"""Models that call tools (until the conversation ends with a tool's result), and the
calls they stream; `codex-shell` runs a shell command the way Codex CLI's tool takes it."""


async def _write_tool_calls(
    response: web.StreamResponse, base: dict, calls: tuple[tuple[str, str, str], ...]
) -> None:
    """Text, then two parallel tool calls with arguments split across chunks, like OpenAI."""

    async def write(delta: dict[str, Any], finish: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        await response.write(b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n")

    await write({"role": "assistant", "content": "Checking. "})
    for index, (call_id, name, arguments) in enumerate(calls):
        first = {"id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        await write({"tool_calls": [{"index": index, **first}]})
        for piece in (arguments[:5], arguments[5:]):
            await write({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    await write({}, "tool_calls")


def closed_port() -> int:
    """A loopback port with nothing listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


RESPONSES_USAGE = {
    "input_tokens": 21,
    "input_tokens_details": {"cached_tokens": 8},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 4},
    "total_tokens": 30,
}


def _last_input_text(body: dict) -> str:
    value = body.get("input")
    if isinstance(value, str):
        return value
    for item in reversed(value or []):
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(item, dict) and item.get("type") == "function_call_output":
            return str(item.get("output"))
    return ""


def responses_reply(body: dict, status: str = "completed") -> dict[str, Any]:
    """A Response: `echo: <last input text>` (or, for model `tools`, one function call)."""
    model = body.get("model", "echo")
    if model == "tools" and not _tool_answered(body):
        item: dict[str, Any] = {
            "id": "fc_upstream1",
            "type": "function_call",
            "status": "completed",
            "arguments": '{"city":"Paris"}',
            "call_id": "call_up1",
            "name": "get_weather",
        }
    else:
        text = f"echo: {_last_input_text(body)}"
        item = {
            "id": "msg_upstream1",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }
    return {
        "id": "resp_upstream1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "model": model,
        "output": [item] if status == "completed" else [],
        "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "usage": RESPONSES_USAGE if status == "completed" else None,
    }


def responses_events(body: dict) -> list[dict[str, Any]]:
    """OpenAI's event sequence for `responses_reply(body)`, text in two deltas."""
    final = responses_reply(body)
    started = responses_reply(body, "in_progress")
    [item] = final["output"]
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress"},
        },
    ]
    common = {"item_id": item["id"], "output_index": 0}
    if item["type"] == "message":
        text = item["content"][0]["text"]
        half = len(text) // 2
        part = {"type": "output_text", "text": "", "annotations": []}
        events += [
            {"type": "response.content_part.added", **common, "content_index": 0, "part": part},
            {
                "type": "response.output_text.delta",
                **common,
                "content_index": 0,
                "delta": text[:half],
            },
            {
                "type": "response.output_text.delta",
                **common,
                "content_index": 0,
                "delta": text[half:],
            },
            {"type": "response.output_text.done", **common, "content_index": 0, "text": text},
            {
                "type": "response.content_part.done",
                **common,
                "content_index": 0,
                "part": item["content"][0],
            },
        ]
    else:
        events += [
            {
                "type": "response.function_call_arguments.delta",
                **common,
                "delta": item["arguments"],
            },
            {
                "type": "response.function_call_arguments.done",
                **common,
                "arguments": item["arguments"],
            },
        ]
    events += [
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final},
    ]
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]
