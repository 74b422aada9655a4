"""What a small realistic route script costs, per request call and per stream chunk.

Two measurements, each as best-of-repeats on this machine:

1. The hooks alone (payload to Lua and back, plus the script): microseconds per
   `request` call and per `chunk` call, against the targets (100 us, 20 us).
2. Whole requests through the Gateway (mock vendor, no network) with and
   without the script: the ratio shows what a script adds to a real call.

Run: .venv/bin/python bench/transforms.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lowart.app import Runtime
from lowart.config import Settings
from lowart.transforms import ScriptLimits, ScriptRegistry
from lowart.types import CallContext, Route

SCRIPT = """
local SYSTEM = "You are a concise assistant. Answer in the user's language."

function request(p, ctx)
  table.insert(p.messages, 1, {role = "system", content = SYSTEM})
  -- this vendor wants max_new_tokens
  p.max_new_tokens, p.max_tokens = p.max_tokens, nil
  return p
end

function chunk(e, ctx)
  local choice = e.choices[1]
  if choice and choice.delta.reasoning then
    choice.delta.reasoning_content, choice.delta.reasoning = choice.delta.reasoning, nil
  end
  return e
end
"""

REQUEST = {
    "model": "bench",
    "messages": [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And of Italy? Answer in one word, please."},
    ],
    "max_tokens": 64,
    "temperature": 0.2,
}
CHUNK = {
    "id": "chatcmpl-0123456789abcdef",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "bench",
    "choices": [
        {"index": 0, "delta": {"content": " Rome"}, "logprobs": None, "finish_reason": None}
    ],
    "usage": None,
}
REPLY = " ".join(f"word{i}" for i in range(60))


def best_us(action: Callable[[], object], number: int, repeats: int) -> float:
    """Best mean over repeats: the machine is shared, the minimum is the honest cost."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(number):
            action()
        times.append((time.perf_counter() - started) / number * 1e6)
    return min(times)


def hooks_alone(number: int, repeats: int) -> tuple[float, float, float, float]:
    registry = ScriptRegistry(ScriptLimits())
    route = Route(id=1, name="bench", vendor="mock", upstream_model="gpt-4o", script=SCRIPT)
    ctx = CallContext(request_id="req-bench", interface="http", key_name="bench")
    hooks = registry.hooks_for(route, ctx)
    assert hooks is not None
    hooks.request(dict(REQUEST))  # compile, make ctx

    def copy_request() -> dict:
        return {**REQUEST, "messages": [dict(m) for m in REQUEST["messages"]]}

    def copy_chunk() -> dict:
        return {**CHUNK, "choices": [{**CHUNK["choices"][0], "delta": {"content": " Rome"}}]}

    base_request = best_us(copy_request, number, repeats)
    base_chunk = best_us(copy_chunk, number, repeats)
    request = best_us(lambda: hooks.request(copy_request()), number, repeats) - base_request
    chunk = best_us(lambda: hooks.event(copy_chunk()), number, repeats) - base_chunk
    per_request_hooks = (
        best_us(lambda: registry.hooks_for(route, ctx).request(copy_request()), number, repeats)
        - base_request
    )
    return request, chunk, per_request_hooks, base_request


async def through_gateway(number: int, repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            secret_key="bench",
            secret_key_file=Path(tmp) / "key",
            port=0,
            bootstrap_admin=False,
        )
        runtime = await Runtime.open(settings, background=False)
        try:
            key, _ = await runtime.admin.create_key("bench", admin=True)
            await runtime.admin.add_model("plain", vendor="mock", options={"reply": REPLY})
            await runtime.admin.add_model(
                "scripted", vendor="mock", options={"reply": REPLY}, script=SCRIPT
            )
            await runtime.reload()
            principal = await runtime.gateway.authenticate(key)
            gateway = runtime.gateway

            async def complete(model: str) -> None:
                ctx = CallContext(request_id="r", interface="http")
                await gateway.complete(principal, {**REQUEST, "model": model}, ctx)

            async def stream(model: str) -> int:
                ctx = CallContext(request_id="r", interface="http")
                body = {**REQUEST, "model": model, "stream": True}
                count = 0
                async with await gateway.open_stream(principal, body, ctx) as chunks:
                    async for _ in chunks:
                        count += 1
                return count

            async def timed(action, model: str) -> float:
                samples = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    for _ in range(number):
                        await action(model)
                    samples.append((time.perf_counter() - started) / number * 1e6)
                return min(samples)

            chunks = await stream("scripted")
            results = {"chunks_per_stream": chunks}
            for name in ("plain", "scripted"):
                await complete(name)
                results[f"complete_{name}"] = await timed(complete, name)
                results[f"stream_{name}"] = await timed(stream, name)
            await runtime.usage_writer.flush()
            return results
        finally:
            await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    args = parser.parse_args()
    number, repeats = (200, 3) if args.quick else (2000, 7)
    request, chunk, per_request, _ = hooks_alone(number, repeats)
    print("hooks alone (payload into Lua, script, back to Python):")
    print(f"  request call   {request:8.1f} us   (target < 100 us)")
    print(f"  chunk call     {chunk:8.1f} us   (target < 20 us)")
    print(f"  request call with per-request setup (hooks + ctx) {per_request:8.1f} us")
    gw_number = max(number // 20, 10)
    results = asyncio.run(through_gateway(gw_number, repeats))
    n = results["chunks_per_stream"]
    print(f"through the Gateway (mock vendor, {n} chunks per stream):")
    for kind in ("complete", "stream"):
        plain, scripted = results[f"{kind}_plain"], results[f"{kind}_scripted"]
        print(
            f"  {kind:8}  without script {plain:9.1f} us   with script {scripted:9.1f} us"
            f"   ratio {scripted / plain:5.2f}   added {scripted - plain:8.1f} us"
        )
    added = results["stream_scripted"] - results["stream_plain"]
    print(f"  added per streamed chunk (stream delta / chunks): {added / n:6.1f} us")


if __name__ == "__main__":
    main()
