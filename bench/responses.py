"""What the Responses API costs next to Chat Completions, on the same mock model, in one run.

`/v1/responses` is a frontend over the same Gateway as `/v1/chat/completions`:
it translates the request to the canonical chat request and the reply (or each
chunk) back into Responses objects and events. This measures what that costs
per request, on the built-in `mock` model (no upstream, so the gateway's own
work is all there is):

* latency (p50/p99, time to first byte for streams) at concurrency 1 and
  throughput at concurrency 16, from `bench/_loadgen.py` (closed loop, raw
  sockets, pinned to core 1);
* CPU per request: the gateway's user+system CPU time (`/proc/PID/stat`)
  over a run divided by the requests it answered; the gateway runs alone,
  pinned to core 0.

Paths are measured in alternating rounds (chat, responses, chat, responses,
...) and the round with the least CPU per request is reported (every round's
figure goes to stderr), so drift on a shared machine hits both alike. The
ratio column is responses / chat (target: at most 1.3). Nothing is asserted;
store is off (`store: false`) so the database is not measured.

Run: `.venv/bin/python bench/responses.py [--duration S] [--rounds N] [--markdown]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PY = sys.executable
GATEWAY_CORE, LOAD_CORE = "0", "1"
PROMPT = "Summarise the benefits of Unix domain sockets in one sentence."
TARGET_RATIO = 1.3
PATHS = {
    "chat": ("/v1/chat/completions", {"messages": [{"role": "user", "content": PROMPT}]}),
    "responses": ("/v1/responses", {"input": PROMPT, "store": False}),
}


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    ttfb_ms: float
    cpu_us: float  # gateway CPU per request
    errors: int


def _pin(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") else []


def _lowart() -> list[str]:
    exe = Path(PY).with_name("lowart")
    return [str(exe)] if exe.exists() else [PY, "-m", "lowart"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "LOWART_SECRET_KEY": "bench-secret",
        "LOWART_DATA_DIR": str(tmp / "data"),
    }
    subprocess.run([*_lowart(), "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
    out = subprocess.run(
        [*_lowart(), "keys", "create", "--name", "bench"],
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = out.strip().splitlines()[-1].strip()
    port = _free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*_pin(GATEWAY_CORE), *_lowart(), "serve", "--port", str(port), "--no-grpc"],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "serve.log").read_text()[-2000:]) from None
            time.sleep(0.1)
    return proc, url, key


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    proc: subprocess.Popen[bytes], url: str, key: str, body: Path, conc: int, dur: float
) -> Sample:
    argv = [*_pin(LOAD_CORE), PY, str(BENCH_DIR / "_loadgen.py"), "--url", url]
    argv += ["--body-file", str(body), "--concurrency", str(conc), "--duration", str(dur)]
    argv += ["--header", f"Authorization: Bearer {key}"]
    before = _cpu_seconds(proc.pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=dur + 60, check=True)
    used = _cpu_seconds(proc.pid) - before
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if set(res["statuses"]) != {"200"}:
        raise RuntimeError(f"{url}: statuses {res['statuses']}")
    requests = max(res["requests"], 1)
    return Sample(
        rps=res["rps"],
        p50_ms=res["p50_ms"],
        p99_ms=res["p99_ms"],
        ttfb_ms=res["ttfb_p50_ms"] or 0.0,
        cpu_us=used / requests * 1e6,
        errors=res["errors"],
    )


def _best(samples: list[Sample]) -> Sample:
    """The round with the least CPU per request (its other numbers came with it):
    other processes on the machine only ever add to it (contention, cache misses)."""
    return min(samples, key=lambda s: s.cpu_us)


def measure(duration: float, rounds: int) -> dict[tuple[str, bool, int], Sample]:
    results: dict[tuple[str, bool, int], list[Sample]] = {}
    with tempfile.TemporaryDirectory(prefix="lowart-bench-responses-") as name:
        tmp = Path(name)
        proc, url, key = _start(tmp)
        try:
            bodies = {}
            for path, (_, fields) in PATHS.items():
                for stream in (False, True):
                    body = tmp / f"{path}-{'stream' if stream else 'plain'}.json"
                    body.write_text(json.dumps({"model": "mock", **fields, "stream": stream}))
                    bodies[(path, stream)] = body
            for (path, _), body in bodies.items():  # warm-up
                _run(proc, url + PATHS[path][0], key, body, 4, 0.5)
            for stream in (False, True):
                for conc in (1, 16):
                    for round_ in range(rounds):
                        order = list(PATHS) if round_ % 2 == 0 else list(reversed(PATHS))
                        for path in order:
                            print(f"  {path} stream={stream} c={conc} round {round_ + 1}",
                                  file=sys.stderr, flush=True)  # fmt: skip
                            sample = _run(
                                proc, url + PATHS[path][0], key, bodies[(path, stream)], conc,
                                duration,
                            )  # fmt: skip
                            results.setdefault((path, stream, conc), []).append(sample)
        finally:
            proc.terminate()
            proc.wait(15)
    for (path, stream, conc), samples in results.items():
        spread = ", ".join(f"{s.cpu_us:.0f}" for s in samples)
        print(f"  CPU µs/req {path} stream={stream} c={conc}: {spread}", file=sys.stderr)
    return {k: _best(v) for k, v in results.items()}


def report(results: dict[tuple[str, bool, int], Sample], markdown: bool) -> None:
    head = [
        "mode", "c", "path", "req/s", "p50 ms", "p99 ms", "TTFB p50 ms", "CPU µs/req",
        "CPU ratio", "p50 ratio",
    ]  # fmt: skip
    rows = []
    for stream in (False, True):
        for conc in (1, 16):
            chat = results[("chat", stream, conc)]
            for path in PATHS:
                s = results[(path, stream, conc)]
                rows.append(
                    [
                        "stream" if stream else "plain",
                        str(conc),
                        path,
                        f"{s.rps:.0f}",
                        f"{s.p50_ms:.2f}",
                        f"{s.p99_ms:.2f}",
                        f"{s.ttfb_ms:.2f}" if stream else "",
                        f"{s.cpu_us:.0f}",
                        f"{s.cpu_us / chat.cpu_us:.2f}" if path != "chat" else "",
                        f"{s.p50_ms / chat.p50_ms:.2f}" if path != "chat" else "",
                    ]
                )
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(":---" if i < 3 else "---:" for i in range(len(head))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        for row in [head, *rows]:
            print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    worst = max(
        results[("responses", st, c)].cpu_us / results[("chat", st, c)].cpu_us
        for st in (False, True)
        for c in (1, 16)
    )
    verdict = "met" if worst <= TARGET_RATIO else "MISSED"
    print(f"\nworst CPU ratio responses/chat: {worst:.2f} (target <= {TARGET_RATIO}: {verdict})")


def encoding_cost(repeats: int = 9, number: int = 500) -> dict[str, float]:
    """CPU µs per request of the frontend's own work, in this process (least of
    `repeats`): an 18-chunk mock stream written as Responses events (request
    translation included) vs as chat completion chunks, and a non-streamed reply."""
    from lowart.frontends.http._responses_frames import frames
    from lowart.frontends.http._responses_sse import ResponseEvents
    from lowart.frontends.http._responses_turn import Turn
    from lowart.frontends.http._sse import _event

    words = f"This is the lowart mock model. You said: {PROMPT}".split()
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "mock"}
    chunks: list[dict] = [
        {**base, "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}]}
        for w in words
    ]
    chunks[-1]["choices"][0]["finish_reason"] = "stop"
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 16}})
    reply = {**base, "choices": [{"index": 0, "message": {"content": " ".join(words)}}]}
    body = {"model": "mock", "input": PROMPT, "store": False}

    def responses_stream() -> None:
        events = ResponseEvents(Turn({**body, "stream": True}, []), "mock")
        [events.frames(c) for c in chunks]
        frames(events.finish())

    def chat_stream() -> None:
        [_event(c) for c in chunks]

    def responses_reply() -> None:
        import orjson

        orjson.dumps(Turn(body, []).completed(dict(reply)))  # type: ignore[arg-type]

    def best(run: object) -> float:
        times = []
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(number):
                run()  # type: ignore[operator]
            times.append((time.process_time() - start) / number * 1e6)
        return min(times)

    return {
        "responses stream": best(responses_stream),
        "chat stream": best(chat_stream),
        "responses reply": best(responses_reply),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    results = measure(args.duration, args.rounds)
    report(results, args.markdown)
    cost = encoding_cost()
    print(
        f"frontend work per request, in-process: {len(PROMPT.split()) + 8}-chunk stream as "
        f"Responses events {cost['responses stream']:.0f} µs vs as chat chunks "
        f"{cost['chat stream']:.0f} µs; non-streamed Response {cost['responses reply']:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
