"""Measure the overhead lowart adds over an upstream, in one run.

Why one run: the machine is shared and noisy, so numbers from different runs
are not comparable.  Every target is measured back to back against the same
fake upstream, and lowart is reported as ratios against the two baselines
measured in that same run:

* ``upstream``: the fake upstream hit directly (the floor),
* ``bare-proxy``: a 30-line aiohttp pass-through (the practical limit for a
  Python gateway, and the brief's reference for the targets),
* ``lean-proxy``: the same pass-through calling upstream with lowart's own
  HTTP client (``lowart.upstream``); the gap to it is lowart's own work, and
* ``lowart``: the real gateway with auth, routing and accounting.

Layout (2 cores): the gateway under test runs alone on core 0; the fake
upstream and the load generators share core 1.  This is a measurement tool:
nothing here asserts on timings; targets are printed next to the numbers.

Run: ``.venv/bin/python bench/overhead.py [--quick] [--duration S] [--markdown]``

``--telemetry [ROUNDS]`` measures something else: what lowart's own telemetry
costs. It runs ``lowart serve`` with ``LOWART_METRICS=off``, ``=admin`` and
``=admin`` plus OpenTelemetry tracing exporting to a loopback collector
(``bench/_otlp_sink.py``), all three at once on the gateway core, and sends
load to one at a time in short slices that take turns (4 slices per round,
``--duration`` seconds each; ROUNDS rounds of fresh processes, default 3), so
whatever else the machine does weighs on the three alike. It reports
the gateway's **CPU time per request** (user + system, read from ``/proc`` for
its process tree, exporter thread included) and its ratio to metrics off. CPU
time, not throughput: the machine is shared, and another process taking core 0
changes req/s but not the CPU a request needs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PY = sys.executable
GATEWAY_CORE = "0"
LOAD_CORE = "1"
NON_STREAM_CONCURRENCY = (1, 16, 64)
STREAM_CONCURRENCY = (1, 16)
MODEL = "bench-model"
BODY = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
STREAM_BODY = {**BODY, "stream": True}
STARTUP_TIMEOUT_S = 30.0
BUSY_CPU = 0.25  # share of both cores used by others before we start: above this, expect noise
CLI_TIMEOUT_S = 60.0

# Targets from the project brief; printed next to the measurements, never asserted.
TARGET_RPS_RATIO_C64 = 0.60
TARGET_ADDED_P50_C1_MS = 0.7
TARGET_ADDED_TTFB_MS = 1.0
TARGET_IDLE_RSS_MIB = 100.0


# --------------------------------------------------------------------------- results
@dataclass
class Run:
    """One load-generator run against one target at one concurrency."""

    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int = 0
    requests: int | None = None
    ttfb_p50_ms: float | None = None
    ttfb_p99_ms: float | None = None
    note: str = ""


@dataclass
class TargetResult:
    """Everything measured for one target."""

    name: str
    plain: dict[int, Run] = field(default_factory=dict)
    stream: dict[int, Run] = field(default_factory=dict)
    idle_rss_mib: float | None = None
    peak_rss_mib: float | None = None
    log_problems: list[str] = field(default_factory=list)


@dataclass
class Settings:
    """Durations and switches derived from the command line."""

    duration: float
    stream_duration: float
    warmup: float
    markdown: bool
    lowart: bool
    keep_tmp: bool
    use_wrk: bool
    telemetry_rounds: int = 0


# --------------------------------------------------------------------------- processes
class Procs:
    """Tracks every child so it is killed on exit, exceptions and Ctrl-C."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], core: str, log: Path, **kw: object) -> subprocess.Popen[bytes]:
        """Start ``argv`` pinned to ``core`` in its own process group."""
        fh = open(log, "wb")  # the child keeps its own copy of the fd
        proc = subprocess.Popen(
            ["taskset", "-c", core, *argv],
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kw,  # type: ignore[arg-type]
        )
        fh.close()
        self.children.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM the child's process group, then SIGKILL after 5 s."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc in self.children:
            self.children.remove(proc)

    def stop_all(self) -> None:
        """Stop every child still tracked (reverse start order)."""
        for proc in reversed(list(self.children)):
            self.stop(proc)


def free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before ready:\n{tail(log)}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {STARTUP_TIMEOUT_S:.0f}s:\n{tail(log)}")


def tail(path: Path, lines: int = 20) -> str:
    """Last lines of a child's log, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def tree_pids(pid: int) -> list[int]:
    """``pid`` plus all descendants, so multi-process servers are counted fully."""
    out, todo = [], [pid]
    while todo:
        cur = todo.pop()
        out.append(cur)
        for task in Path(f"/proc/{cur}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out


def rss_mib(pid: int, key: str) -> float | None:
    """Sum ``VmRSS`` or ``VmHWM`` (kB) over the process tree, in MiB."""
    total, seen = 0, False
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
                    seen = True
    return total / 1024 if seen else None


# --------------------------------------------------------------------------- load
def write_wrk_script(path: Path, body: dict, headers: dict[str, str]) -> None:
    """wrk Lua script that sets the POST body and headers."""
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_str(json.dumps(body))}"]
    lines += [f"wrk.headers[{lua_str(k)}] = {lua_str(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n")


def lua_str(s: str) -> str:
    """Quote a string for Lua (JSON string escapes are valid Lua escapes)."""
    return json.dumps(s)


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(out: str) -> Run:
    """Pull req/s, p50, p99 and error counts out of ``wrk --latency`` output."""

    def lat(pct: str) -> float | None:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * _UNIT_MS[m.group(2)] if m else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"^\s*(\d+) requests in", out, re.M)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(n) for n in sock.groups())
    return Run(
        rps=float(rps.group(1)) if rps else 0.0,
        p50_ms=lat("50"),
        p99_ms=lat("99"),
        errors=errors,
        requests=int(total.group(1)) if total else None,
    )


def run_wrk(url: str, script: Path, conc: int, duration: float) -> Run:
    """One wrk run on the load core; single thread because it owns half a core."""
    secs = max(1, round(duration))  # wrk only takes whole seconds
    argv = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{conc}", f"-d{secs}s"]
    argv += ["--latency", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    return parse_wrk(out.stdout)


def run_loadgen(url: str, body_file: Path, headers: dict[str, str], conc: int, dur: float) -> Run:
    """Run ``_loadgen.py`` pinned to the load core and parse its JSON line."""
    argv = ["taskset", "-c", LOAD_CORE, PY, str(BENCH_DIR / "_loadgen.py"), "--url", url]
    argv += ["--body-file", str(body_file), "--concurrency", str(conc), "--duration", str(dur)]
    for k, v in headers.items():
        argv += ["--header", f"{k}: {v}"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=dur + 60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    note = ""
    if res["statuses"] and set(res["statuses"]) != {"200"}:
        note = f"statuses {res['statuses']}"
    if body_file.name.startswith("stream") and res["requests"] and res["events_min"] < 21:
        note += f" short streams (min {res['events_min']} events)"
    return Run(
        rps=res["rps"],
        p50_ms=res["p50_ms"],
        p99_ms=res["p99_ms"],
        errors=res["errors"],
        requests=res["requests"],
        ttfb_p50_ms=res["ttfb_p50_ms"],
        ttfb_p99_ms=res["ttfb_p99_ms"],
        note=note.strip(),
    )


@dataclass
class LoadKit:
    """Files and switches every measurement needs for one target."""

    tmp: Path
    settings: Settings
    headers: dict[str, str]

    def files(self) -> tuple[Path, Path, Path]:
        """Write and return (wrk script, plain body, stream body); cheap, so no caching."""
        script, plain, stream = (
            self.tmp / "post.lua",
            self.tmp / "plain.json",
            self.tmp / "stream.json",
        )
        write_wrk_script(script, BODY, {"Content-Type": "application/json", **self.headers})
        plain.write_text(json.dumps(BODY))
        stream.write_text(json.dumps(STREAM_BODY))
        return script, plain, stream


def measure_target(name: str, base: str, kit: LoadKit, pid: int | None) -> TargetResult:
    """Warm up, then run every non-streaming and streaming measurement."""
    url = base + "/v1/chat/completions"
    script, plain, stream = kit.files()
    s = kit.settings
    res = TargetResult(name)
    if pid is not None:
        res.idle_rss_mib = rss_mib(pid, "VmRSS")
    progress(f"[{name}] warm-up {s.warmup:g}s")
    plain_run(url, script, plain, kit, 16, s.warmup)
    for conc in NON_STREAM_CONCURRENCY:
        r = plain_run(url, script, plain, kit, conc, s.duration)
        res.plain[conc] = r
        progress(
            f"[{name}] c={conc:<3} {r.rps:9.0f} req/s  p50 {fmt(r.p50_ms)} ms  errors {r.errors}"
        )
    for conc in STREAM_CONCURRENCY:
        r = run_loadgen(url, stream, kit.headers, conc, s.stream_duration)
        res.stream[conc] = r
        progress(
            f"[{name}] stream c={conc:<3} ttfb p50 {fmt(r.ttfb_p50_ms)} ms  "
            f"total p50 {fmt(r.p50_ms)} ms  errors {r.errors} {r.note}"
        )
    if pid is not None:
        res.peak_rss_mib = rss_mib(pid, "VmHWM")
    return res


def plain_run(url: str, script: Path, body: Path, kit: LoadKit, conc: int, dur: float) -> Run:
    """Non-streaming run with wrk, or the Python load generator as fallback."""
    if kit.settings.use_wrk:
        return run_wrk(url, script, conc, dur)
    return run_loadgen(url, body, kit.headers, conc, dur)


def progress(msg: str) -> None:
    """Progress goes to stderr so ``--markdown`` stdout stays pasteable."""
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- targets
@contextlib.contextmanager
def started(
    procs: Procs, argv: list[str], core: str, log: Path, health: str, **kw: object
) -> Iterator[int]:
    """Run a server for the duration of a ``with`` block; yields its pid."""
    proc = procs.start(argv, core, log, **kw)
    try:
        wait_http_ok(health, proc, log)
        time.sleep(0.5)  # let start-up allocations settle before idle RSS
        yield proc.pid
    finally:
        procs.stop(proc)


def lowart_cmd() -> list[str]:
    """Prefer the venv's console script; fall back to ``python -m lowart``."""
    exe = Path(PY).with_name("lowart")
    return [str(exe)] if exe.exists() else [PY, "-m", "lowart"]


def lowart_cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run one lowart CLI command and return stdout (raise with output on failure)."""
    out = subprocess.run(
        [*lowart_cmd(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    if out.returncode != 0:
        cmd = " ".join(args[:2])
        raise RuntimeError(f"lowart {cmd} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout


def lowart_available() -> str | None:
    """None if ``lowart serve --help`` works, else the reason it does not."""
    try:
        out = subprocess.run(
            [*lowart_cmd(), "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if out.returncode != 0:
        lines = (out.stderr or out.stdout or "?").strip().splitlines() or ["?"]
        return lines[-1]
    return None


def prepare_lowart(tmp: Path, upstream_port: int) -> tuple[dict[str, str], str, list[str]]:
    """Fresh db, API key and model; returns (env, key, serve extra args)."""
    work = tmp / "lowart"
    work.mkdir()
    env = {
        **os.environ,
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'bench.db'}",
        "LOWART_SECRET_KEY": "bench-secret",
    }
    lowart_cli(["db", "upgrade"], env, work)  # other commands never create a database
    out = lowart_cli(["keys", "create", "--name", "bench"], env, work)
    key = out.strip().splitlines()[-1].strip()  # the CLI prints the key on its last line
    lowart_cli(
        [
            "models", "add", MODEL, "--vendor", "openai",
            "--base-url", f"http://127.0.0.1:{upstream_port}/v1",
            "--upstream-model", "fake-model", "--api-key", "sk-fake",
        ],
        env,
        work,
    )  # fmt: skip
    help_text = subprocess.run(
        [*lowart_cmd(), "serve", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    ).stdout
    extra = ["--no-grpc"] if "--no-grpc" in help_text else []
    return env, key, extra


def smoke_test(url: str, key: str) -> None:
    """One real request first, so a broken gateway fails loudly, not as 0 req/s."""
    req = urllib.request.Request(
        url + "/v1/chat/completions",
        data=json.dumps(BODY).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            doc = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"smoke request failed: {exc.code} {exc.read()[:500]!r}") from exc
    if not doc.get("choices"):
        raise RuntimeError(f"smoke request returned no choices: {doc}")


def scan_log(log: Path) -> list[str]:
    """Collect tracebacks / error lines from a server log for the report."""
    problems = []
    for line in log.read_text(errors="replace").splitlines():
        if re.search(r"Traceback|\bERROR\b|Exception|Error:", line):
            problems.append(line.strip()[:200])
    return problems


def bench_lowart(procs: Procs, tmp: Path, upstream_port: int, s: Settings) -> TargetResult | str:
    """Set up and measure lowart; returns a skip reason string if unavailable."""
    reason = lowart_available()
    if reason:
        return f"lowart not available (`lowart serve --help` failed: {reason})"
    env, key, extra = prepare_lowart(tmp, upstream_port)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "lowart.log"
    argv = [*lowart_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    with started(
        procs, argv, GATEWAY_CORE, log, base + "/health", env=env, cwd=tmp / "lowart"
    ) as pid:
        idle = rss_mib(pid, "VmRSS")  # before the smoke request: truly idle
        smoke_test(base, key)
        kit = LoadKit(tmp / "lowart-load", s, {"Authorization": f"Bearer {key}"})
        kit.tmp.mkdir()
        res = measure_target("lowart", base, kit, pid)
        res.idle_rss_mib = idle
    res.log_problems = scan_log(log)
    return res


def run_all(s: Settings, tmp: Path, procs: Procs) -> tuple[list[TargetResult], list[str]]:
    """Upstream direct, then bare proxy, then lowart (one gateway at a time)."""
    notes: list[str] = []
    up_port, proxy_port = free_port(), free_port()
    up_base, proxy_base = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{proxy_port}"
    procs.start([PY, str(BENCH_DIR / "_fast_upstream.py"), str(up_port)], LOAD_CORE, tmp / "up.log")
    wait_http_ok(up_base + "/health", procs.children[-1], tmp / "up.log")
    kit = LoadKit(tmp, s, {})
    results = [measure_target("upstream", up_base, kit, None)]
    argv = [PY, str(BENCH_DIR / "_bare_proxy.py"), str(proxy_port), up_base]
    with started(procs, argv, GATEWAY_CORE, tmp / "proxy.log", proxy_base + "/health") as pid:
        results.append(measure_target("bare-proxy", proxy_base, kit, pid))
    if s.lowart and lowart_available() is None:
        lean_port = free_port()
        lean_base = f"http://127.0.0.1:{lean_port}"
        argv = [PY, str(BENCH_DIR / "_lean_proxy.py"), str(lean_port), up_base]
        with started(procs, argv, GATEWAY_CORE, tmp / "lean.log", lean_base + "/health") as pid:
            results.append(measure_target("lean-proxy", lean_base, kit, pid))
    if s.lowart:
        try:
            got = bench_lowart(procs, tmp, up_port, s)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            progress(f"lowart failed: {exc}")
            got = f"lowart skipped: {short_error(exc)}"
        if isinstance(got, str):
            notes.append(got)
            progress(got)
        else:
            results.append(got)
    return results, notes


def short_error(exc: BaseException) -> str:
    """First and last line of an error: enough for the report, full text is in stderr."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip()] or [repr(exc)]
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"


# --------------------------------------------------------------------------- report
def fmt(v: float | None, digits: int = 2) -> str:
    """Format a number or show a dash for missing values."""
    return "-" if v is None else f"{v:.{digits}f}"


def diff(a: float | None, b: float | None) -> float | None:
    """a - b, tolerating missing values."""
    return None if a is None or b is None else a - b


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, tolerating missing or zero values."""
    return None if a is None or not b else a / b


def plain_rows(results: list[TargetResult]) -> list[list[str]]:
    """Non-streaming table rows with added p50 vs upstream direct."""
    base = results[0].plain
    rows = []
    for r in results:
        for c, run in r.plain.items():
            added = None if r is results[0] else diff(run.p50_ms, base[c].p50_ms)
            cells = [run.p50_ms, run.p99_ms, added]
            rows.append([r.name, str(c), f"{run.rps:.0f}", *map(fmt, cells), str(run.errors)])
    return rows


def stream_rows(results: list[TargetResult]) -> list[list[str]]:
    """Streaming table rows with TTFB added vs upstream direct."""
    base = results[0].stream
    rows = []
    for r in results:
        for c, run in r.stream.items():
            added = None if r is results[0] else diff(run.ttfb_p50_ms, base[c].ttfb_p50_ms)
            cells = [run.ttfb_p50_ms, run.ttfb_p99_ms, added, run.p50_ms, run.p99_ms]
            errors = f"{run.errors} {run.note}".strip()
            rows.append([r.name, str(c), f"{run.rps:.0f}", *map(fmt, cells), errors])
    return rows


def rss_rows(results: list[TargetResult]) -> list[list[str]]:
    """Idle and peak RSS of the gateway processes."""
    return [[r.name, fmt(r.idle_rss_mib, 1), fmt(r.peak_rss_mib, 1)] for r in results[1:]]


def check(
    name: str, metric: str, value: float | None, limit: float, above: bool, digits: int = 2
) -> list[str]:
    """One target row: measured value, the target, and met/MISSED (a label, not an assert)."""
    if value is None:
        status = "n/a"
    else:
        status = "met" if (value >= limit if above else value < limit) else "MISSED"
    return [name, metric, fmt(value, digits), f"{'>=' if above else '<'} {limit:g}", status]


def info(name: str, metric: str, value: float | None, digits: int = 2) -> list[str]:
    """A comparison row without a target."""
    return [name, metric, fmt(value, digits), "", ""]


def target_rows(results: list[TargetResult]) -> list[list[str]]:
    """Key comparisons for each gateway, with the brief's targets alongside."""
    up, gateways = results[0], results[1:]
    bare = gateways[0] if gateways else None
    rows = []
    for r in gateways:
        if bare is not None and r.name == "lowart":
            rr = ratio(r.plain[64].rps, bare.plain[64].rps)
            rows.append(check(r.name, "req/s c=64 vs bare-proxy", rr, TARGET_RPS_RATIO_C64, True))
        rows.append(
            info(r.name, "req/s c=64 vs upstream", ratio(r.plain[64].rps, up.plain[64].rps))
        )
        add_c1 = diff(r.plain[1].p50_ms, up.plain[1].p50_ms)
        rows.append(check(r.name, "added p50 c=1 (ms)", add_c1, TARGET_ADDED_P50_C1_MS, False, 3))
        ttfb = diff(r.stream[1].ttfb_p50_ms, up.stream[1].ttfb_p50_ms)
        rows.append(check(r.name, "added TTFB p50 c=1 (ms)", ttfb, TARGET_ADDED_TTFB_MS, False, 3))
        rows.append(check(r.name, "idle RSS (MiB)", r.idle_rss_mib, TARGET_IDLE_RSS_MIB, False, 1))
    named = {g.name: g for g in gateways}
    lowart = named.get("lowart")
    for ref in (named.get("bare-proxy"), named.get("lean-proxy")):
        if lowart is not None and ref is not None:
            rows += vs_proxy_rows(lowart, ref)
    return rows


def vs_proxy_rows(gw: TargetResult, ref: TargetResult) -> list[list[str]]:
    """What the gateway costs on top of a pass-through proxy (its own code's share).

    Against `lean-proxy` (same server and upstream client as lowart) the gap is
    lowart's own work alone: auth, routing, accounting, logging.
    """
    rows = [
        info(gw.name, f"req/s c={c} vs {ref.name}", ratio(gw.plain[c].rps, ref.plain[c].rps))
        for c in NON_STREAM_CONCURRENCY
    ]
    rows += [
        info(gw.name, f"streams/s c={c} vs {ref.name}", ratio(gw.stream[c].rps, ref.stream[c].rps))
        for c in STREAM_CONCURRENCY
    ]
    added = diff(gw.plain[1].p50_ms, ref.plain[1].p50_ms)
    rows.append(info(gw.name, f"added p50 c=1 vs {ref.name} (ms)", added, 3))
    added = diff(gw.stream[1].ttfb_p50_ms, ref.stream[1].ttfb_p50_ms)
    rows.append(info(gw.name, f"added TTFB p50 c=1 vs {ref.name} (ms)", added, 3))
    return rows


PLAIN_HEAD = ["target", "conc", "req/s", "p50 ms", "p99 ms", "+p50 vs upstream", "errors"]
STREAM_HEAD = [
    *("target", "conc", "streams/s", "TTFB p50", "TTFB p99", "+TTFB p50"),
    *("total p50", "total p99", "errors"),
]
RSS_HEAD = ["process", "idle RSS MiB", "peak RSS MiB (VmHWM)"]
TARGET_HEAD = ["gateway", "metric", "measured", "target", "status"]


def text_table(head: list[str], rows: list[list[str]]) -> str:
    """Fixed-width plain-text table."""
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=False)]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=False))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def md_table(head: list[str], rows: list[list[str]]) -> str:
    """GitHub-flavoured Markdown table."""
    align = [":---" if i < 2 else "---:" for i in range(len(head))]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def sections(results: list[TargetResult]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report's tables, shared by the text and Markdown renderers."""
    return [
        ("Non-streaming (wrk or fallback)", PLAIN_HEAD, plain_rows(results)),
        ("Streaming, 20-chunk SSE (ms)", STREAM_HEAD, stream_rows(results)),
        ("Memory", RSS_HEAD, rss_rows(results)),
        ("Ratios and targets (same run)", TARGET_HEAD, target_rows(results)),
    ]


def report(results: list[TargetResult], notes: list[str], s: Settings, header: str) -> None:
    """Print plain tables, then (with --markdown) the same as Markdown."""
    print(header)
    for title, head, rows in sections(results):
        print(f"\n== {title} ==\n{text_table(head, rows)}")
    for r in results:
        if r.log_problems:
            print(f"\n{r.name} log: {len(r.log_problems)} error lines, first: {r.log_problems[:5]}")
    for n in notes:
        print(f"\nNOTE: {n}")
    if s.markdown:
        print(f"\n<!-- markdown -->\n_{header}_")
        for title, head, rows in sections(results):
            print(f"\n**{title}**\n\n{md_table(head, rows)}")
        for n in notes:
            print(f"\n> {n}")


def cpu_busy(sample_s: float = 0.5) -> float:
    """Fraction of all CPUs busy over a short sample: others' load makes numbers suspect."""

    def snap() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = snap()
    time.sleep(sample_s)
    total1, idle1 = snap()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def run_header(s: Settings, busy_before: float) -> str:
    """When/where/how the numbers were taken, including how busy the machine was."""
    load = "wrk" if s.use_wrk else "bench/_loadgen.py"
    busy = " -- MACHINE WAS BUSY, numbers unreliable" if busy_before > BUSY_CPU else ""
    return (
        f"lowart overhead bench {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores "
        f"({os.uname().machine}); {s.duration:g}s per non-stream run, {s.stream_duration:g}s "
        f"per stream run; load: {load}; gateway on core {GATEWAY_CORE}, upstream+load on "
        f"core {LOAD_CORE}; CPU busy before start {busy_before:.0%}, after {cpu_busy():.0%}{busy}"
    )


# --------------------------------------------------------------------------- telemetry
TELEMETRY_CONCURRENCY = 16  # the labels of telemetry_report say so too
TELEMETRY_SLICES = 4  # per round: the three gateways take turns in short slices, 4 times
SCRAPE_TOKEN = "bench-scrape-token"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid``'s process tree so far (all threads)."""
    ticks = 0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuTally:
    """CPU seconds and requests summed over the rounds of one variant and load."""

    cpu: float = 0.0
    requests: int = 0
    rounds: list[float] = field(default_factory=list)
    """CPU µs per request of each round, to show the spread."""

    def add(self, cpu: float, requests: int) -> None:
        self.cpu += cpu
        self.requests += requests
        if requests:
            self.rounds.append(cpu / requests * 1e6)

    @property
    def us_per_request(self) -> float | None:
        return self.cpu / self.requests * 1e6 if self.requests else None


def telemetry_variants(sink: str) -> list[tuple[str, dict[str, str]]]:
    tracing = {
        "LOWART_METRICS": "admin",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink,
        "OTEL_SERVICE_NAME": "lowart-bench",
    }
    return [
        ("metrics off", {"LOWART_METRICS": "off"}),
        ("metrics on", {"LOWART_METRICS": "admin"}),
        ("metrics + tracing", tracing),
    ]


def run_telemetry(s: Settings, tmp: Path, procs: Procs) -> dict[str, dict[str, CpuTally]]:
    """Interleaved rounds of lowart with each telemetry variant; CPU per request of each."""
    up_port, sink_port = free_port(), free_port()
    up_base, sink = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{sink_port}"
    procs.start([PY, str(BENCH_DIR / "_fast_upstream.py"), str(up_port)], LOAD_CORE, tmp / "up.log")
    wait_http_ok(up_base + "/health", procs.children[-1], tmp / "up.log")
    procs.start([PY, str(BENCH_DIR / "_otlp_sink.py"), str(sink_port)], LOAD_CORE, tmp / "sink.log")
    wait_http_ok(sink + "/health", procs.children[-1], tmp / "sink.log")
    base_env, key, extra = prepare_lowart(tmp, up_port)
    base_env = {k: v for k, v in base_env.items() if not k.startswith(("OTEL_", "LOWART_METRICS"))}
    base_env["LOWART_METRICS_TOKEN"] = SCRAPE_TOKEN  # the bench key is not an admin key
    kit = LoadKit(tmp / "telemetry-load", s, {"Authorization": f"Bearer {key}"})
    kit.tmp.mkdir()
    script, plain, stream = kit.files()
    variants = telemetry_variants(sink)
    tallies = {name: {"plain": CpuTally(), "stream": CpuTally()} for name, _ in variants}
    for number in range(s.telemetry_rounds):
        with contextlib.ExitStack() as running:
            servers: dict[str, tuple[str, int]] = {}
            for name, env in variants:  # all three at once, idle but for the slice they serve
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                argv = [*lowart_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
                log = tmp / f"lowart-{number}-{name.replace(' ', '')}.log"
                server = started(
                    procs, argv, GATEWAY_CORE, log, base + "/health",
                    env={**base_env, **env}, cwd=tmp / "lowart",
                )  # fmt: skip
                pid = running.enter_context(server)
                smoke_test(base, key)
                plain_run(base + "/v1/chat/completions", script, plain, kit, 16, s.warmup)
                servers[name] = (base, pid)
            for slice_number in range(TELEMETRY_SLICES):
                shift = (number * TELEMETRY_SLICES + slice_number) % len(variants)
                for name, _ in variants[shift:] + variants[:shift]:  # each takes each place
                    base, pid = servers[name]
                    url = base + "/v1/chat/completions"
                    before = cpu_seconds(pid)
                    r = plain_run(url, script, plain, kit, TELEMETRY_CONCURRENCY, s.duration)
                    tallies[name]["plain"].add(
                        cpu_seconds(pid) - before, requests_of(r, s.duration)
                    )
                    before = cpu_seconds(pid)
                    r = run_loadgen(
                        url, stream, kit.headers, TELEMETRY_CONCURRENCY, s.stream_duration
                    )
                    tallies[name]["stream"].add(
                        cpu_seconds(pid) - before, requests_of(r, s.stream_duration)
                    )
            for name, env in variants:
                check_metrics(servers[name][0], env["LOWART_METRICS"] != "off")
        progress(
            f"[round {number + 1}] plain us/req (cumulative): "
            + ", ".join(f"{n} {fmt(t['plain'].us_per_request, 1)}" for n, t in tallies.items())
        )
    with urllib.request.urlopen(sink + "/stats", timeout=5) as resp:
        posts = json.loads(resp.read())["posts"]
    if not posts:
        raise RuntimeError("the tracing variant exported nothing to the loopback collector")
    progress(f"collector received {posts} OTLP exports")
    return tallies


def requests_of(run: Run, duration: float) -> int:
    return run.requests if run.requests is not None else round(run.rps * duration)


def check_metrics(base: str, enabled: bool) -> None:
    """The variant is what it claims: /metrics answers (and counted the load) or is absent."""
    auth = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
    req = urllib.request.Request(base + "/metrics", headers=auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as exc:
        if enabled or exc.code != 404:
            raise RuntimeError(f"/metrics answered {exc.code}") from exc
        return
    if not enabled or "lowart_requests_total{" not in text:
        raise RuntimeError("/metrics is not what the variant should serve")


def telemetry_report(tallies: dict[str, dict[str, CpuTally]], s: Settings, header: str) -> None:
    off = tallies["metrics off"]
    head = [
        *("variant", "load", "requests", "CPU s", "CPU us/request", "vs metrics off"),
        "per-slice ratio min / median / max",
    ]
    rows = []
    for name, loads in tallies.items():
        for load, tally in loads.items():
            label = f"{'non-stream' if load == 'plain' else '20-chunk stream'} c=16"
            rel = ratio(tally.us_per_request, off[load].us_per_request)
            per_round = sorted(
                mine / base for mine, base in zip(tally.rounds, off[load].rounds, strict=False)
            )
            spread = "-"
            if per_round:
                middle = per_round[len(per_round) // 2]
                spread = f"{per_round[0]:.3f} / {middle:.3f} / {per_round[-1]:.3f}"
            rows.append([
                name, label, str(tally.requests), fmt(tally.cpu, 2),
                fmt(tally.us_per_request, 1), fmt(rel, 3), spread,
            ])  # fmt: skip
    rows.sort(key=lambda r: (r[1], r[0] != "metrics off", r[0]))
    print(f"{header}; telemetry A/B, {s.telemetry_rounds} interleaved rounds")
    print(text_table(head, rows))
    if s.markdown:
        print("\n" + md_table(head, rows))


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> Settings:
    """Command line -> Settings; --quick shortens every run."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="short runs (whole bench < 1 min)")
    ap.add_argument("--duration", type=float, help="seconds per wrk run (default 5, quick 2)")
    ap.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    ap.add_argument("--no-lowart", action="store_true", help="only upstream and bare proxy")
    ap.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    ap.add_argument("--keep-tmp", action="store_true", help="keep logs and the SQLite db")
    ap.add_argument(
        "--telemetry",
        type=int,
        nargs="?",
        const=3,
        default=0,
        metavar="ROUNDS",
        help="only compare lowart's CPU per request with metrics off / on / tracing (rounds)",
    )
    a = ap.parse_args(argv)
    duration = a.duration or (2.0 if a.quick else 5.0)
    use_wrk = not a.no_wrk and shutil.which("wrk") is not None
    if not use_wrk and not a.no_wrk:
        progress("wrk not found (install: apt-get install -y wrk); using bench/_loadgen.py instead")
    return Settings(
        duration=duration,
        stream_duration=max(1.0, duration * 0.6),
        warmup=1.0,
        markdown=a.markdown,
        lowart=not a.no_lowart,
        keep_tmp=a.keep_tmp,
        use_wrk=use_wrk,
        telemetry_rounds=a.telemetry,
    )


def _raise_interrupt(_signum: int, _frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so ``finally`` cleanup runs."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark; always cleans up children."""
    s = parse_args(argv)
    if shutil.which("taskset") is None:
        progress("taskset not found (util-linux); cannot pin processes")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="lowart-bench-"))
    procs = Procs()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)  # even if started with SIGINT ignored
    busy_before = cpu_busy()
    if busy_before > BUSY_CPU:
        progress(f"warning: CPUs are {busy_before:.0%} busy before starting; expect noise")
    try:
        if s.telemetry_rounds:
            telemetry_report(run_telemetry(s, tmp, procs), s, run_header(s, busy_before))
            return 0
        results, notes = run_all(s, tmp, procs)
        report(results, notes, s, run_header(s, busy_before))
        return 0
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    finally:
        procs.stop_all()
        if s.keep_tmp:
            progress(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
