"""How many concurrent streams one ``lowart serve`` process holds, and at what cost.

A slow fake upstream (``bench/_slow_upstream.py``: one SSE event every
100 ms) makes every stream long-lived, so the gateway has to hold them all
at once.  For each level (default 1,000, 2,000 and 5,000 streams):

1. the slow upstream is hit directly with the same load (the TTFB floor),
2. the same load goes through one ``lowart serve`` process (the same process
   for every level and the soak), while a sampler reads the gateway's
   ``/proc/PID/status`` (VmRSS, VmHWM), counts ``/proc/PID/fd`` and its CPU time.

Streams are opened at ``--rate`` per second (default 500) and each lasts
``levels[i] / rate + --hold`` seconds (one event per 100 ms), so all N are
open together for about ``--hold`` seconds; the load generator reports the
peak number of streams it saw open at once.  Added TTFB = TTFB through lowart
minus TTFB of the upstream hit directly at the same level (the TTFB clock
starts before the TCP connect: what a client sees).

Then a soak: ``--soak-rate`` new streams per second of ``--soak-events``
events each for ``--soak-seconds`` (default 600), sampling RSS every
``--soak-sample`` seconds, to show that memory is flat (first/last/max RSS
and the least-squares slope).

With ``--floors`` the same CPU is measured for two floors under the same
loads, in the same run, one relay at a time on the gateway's core: the bare
aiohttp pass-through (``bench/_bare_proxy.py``, the floor of an aiohttp
gateway) and a raw ``asyncio.Protocol`` byte relay (``bench/_raw_relay.py``,
the floor of any CPython asyncio relay); ``--baseline-src DIR`` adds a lowart
imported from another source tree (before/after).  Two loads per relay, a
*set-up* load of ``--setup-streams`` one-event streams and the soak's steady
load, give two equations (CPU = streams x set-up + events x event), solved
for the CPU per stream set-up and per relayed event.

Layout (2 cores): the gateway alone on core 0; the upstream and the load
generator share core 1.  Targets are printed, never asserted.

Run: ``.venv/bin/python bench/capacity.py [--levels 1000,2000,5000]
[--soak-seconds 600] [--floors [--baseline-src DIR]] [--markdown]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from overhead import (
    BENCH_DIR,
    GATEWAY_CORE,
    LOAD_CORE,
    MODEL,
    PY,
    Procs,
    cpu_busy,
    fmt,
    free_port,
    lowart_available,
    lowart_cmd,
    md_table,
    prepare_lowart,
    progress,
    scan_log,
    smoke_test,
    tail,
    text_table,
    wait_http_ok,
)

STREAM_BODY = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "stream": True}
MIB = 1024 * 1024

# Targets from issue 18; printed next to the measurements, never asserted.
TARGET_STREAMS = 5000
TARGET_RSS_MIB = 1.5 * 1024
TARGET_ADDED_TTFB_P99_MS = 100.0


# --------------------------------------------------------------------------- /proc
def proc_status_kib(pid: int, key: str) -> int | None:
    """One ``kB`` field of ``/proc/PID/status`` (VmRSS, VmHWM)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def fd_count(pid: int) -> int | None:
    """Open file descriptors of ``pid``."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def listen_overflows() -> int | None:
    """``TcpExt: ListenOverflows`` of this network namespace (accept queue full)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for head, values in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            fields = dict(zip(head.split()[1:], values.split()[1:], strict=False))
            return int(fields["ListenOverflows"]) if "ListenOverflows" in fields else None
    return None


def core_times() -> dict[str, tuple[int, int]]:
    """Per-core (total, idle + iowait) jiffies from ``/proc/stat``."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *rest = line.split()
        if name.startswith("cpu") and name != "cpu":
            vals = [int(x) for x in rest]
            out[name[3:]] = (sum(vals), vals[3] + vals[4])
    return out


def core_busy(before: dict[str, tuple[int, int]], core: str) -> float | None:
    """Share of ``core`` busy since ``before`` (every process, ours and others')."""
    now = core_times()
    if core not in before or core not in now:
        return None
    total = now[core][0] - before[core][0]
    return 100 * (1 - (now[core][1] - before[core][1]) / total) if total else None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_queue_seconds(pid: int) -> float:
    """Time the event-loop thread of ``pid`` spent runnable but waiting for a CPU
    (``/proc/PID/schedstat``): on a shared machine, time the gateway wanted to work
    and could not, which no code change of lowart's can win back."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Sampler:
    """Background thread sampling RSS and fds of one pid every ``every`` seconds."""

    def __init__(self, pid: int, every: float) -> None:
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int | None, int | None]] = []  # (t, rss kB, fds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()
        self.cpu0 = cpu_seconds(pid)
        self.cpu_s = 0.0
        self.wait0 = run_queue_seconds(pid)
        self.wait_s = 0.0
        self.wall_s = 0.0

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.every):
                return

    def sample(self) -> None:
        """Take one sample now."""
        rss = proc_status_kib(self.pid, "VmRSS")
        self.samples.append((time.monotonic() - self.t0, rss, fd_count(self.pid)))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        self.wall_s = time.monotonic() - self.t0
        self.cpu_s = cpu_seconds(self.pid) - self.cpu0
        self.wait_s = run_queue_seconds(self.pid) - self.wait0

    def max_rss_mib(self) -> float | None:
        """Highest sampled VmRSS."""
        vals = [r for _, r, _ in self.samples if r is not None]
        return max(vals) / 1024 if vals else None

    def max_fds(self) -> int | None:
        """Highest sampled fd count."""
        vals = [f for _, _, f in self.samples if f is not None]
        return max(vals) if vals else None


# --------------------------------------------------------------------------- results
@dataclass
class Load:
    """One load-generator run (the JSON line of ``_stream_loadgen.py``)."""

    raw: dict

    def __getattr__(self, name: str) -> object:
        try:
            return self.raw[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def error_text(self) -> str:
        """Error count with kinds, e.g. ``3 (timeout 3)``."""
        n = self.raw.get("errors", 0)
        kinds = self.raw.get("error_kinds") or {}
        if not n:
            return "0"
        return f"{n} (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")"


@dataclass
class Level:
    """Everything measured at one concurrency level."""

    streams: int
    events: int
    direct: Load | None = None
    lowart: Load | None = None
    idle_rss_mib: float | None = None
    idle_fds: int | None = None
    peak_rss_mib: float | None = None
    hwm_mib: float | None = None
    peak_fds: int | None = None
    after_rss_mib: float | None = None
    after_fds: int | None = None
    cpu_pct: float | None = None
    cpu_us_per_event: float | None = None
    cpu_wait_pct: float | None = None
    server_ttft: tuple[float | None, float | None] = (None, None)
    overflows: int | None = None
    load_core_direct: float | None = None
    load_core_lowart: float | None = None


@dataclass
class Soak:
    """RSS over a long steady run."""

    seconds: float
    rate: float
    events: int
    load: Load | None = None
    samples: list[tuple[float, int | None, int | None]] = field(default_factory=list)
    cpu_pct: float | None = None
    cpu_us_per_event: float | None = None
    cpu_s: float = 0.0
    cpu_wait_pct: float | None = None


@dataclass
class Floor:
    """One relay (lowart, or a floor to compare it with) under two loads, in the same run.

    The *set-up* load is many one-event streams (its CPU is mostly accepting,
    connecting and tearing down), the *steady* load is the soak's long streams
    (mostly relaying events).  Each load's CPU is ``streams x set-up + events x
    event``; the two loads give two equations, solved for both unknowns, so
    neither figure carries the other's cost."""

    name: str
    setup: Load | None = None
    setup_cpu_s: float = 0.0
    steady: Load | None = None
    steady_cpu_s: float = 0.0
    steady_wait_pct: float | None = None  # share of the steady load spent waiting for a CPU

    def raw_us(self) -> tuple[float | None, float | None]:
        """(CPU us per one-event stream, CPU us per event of the steady load), unsolved."""
        per_stream = per_event = None
        if self.setup is not None and self.setup.raw.get("completed"):
            per_stream = 1e6 * self.setup_cpu_s / self.setup.raw["completed"]
        if self.steady is not None:
            per_event = per_event_us(self.steady_cpu_s, self.steady)
        return per_stream, per_event

    def solved_us(self) -> tuple[float | None, float | None]:
        """(CPU us per stream set-up and teardown, CPU us per relayed event), solved."""
        if self.setup is None or self.steady is None:
            return None, None
        na, ea = self.setup.raw.get("completed", 0), self.setup.raw.get("events_total", 0)
        nb, eb = self.steady.raw.get("completed", 0), self.steady.raw.get("events_total", 0)
        det = na * eb - nb * ea
        if not det:
            return None, None
        ca, cb = self.setup_cpu_s, self.steady_cpu_s
        return 1e6 * (ca * eb - cb * ea) / det, 1e6 * (na * cb - nb * ca) / det


@dataclass
class Settings:
    """Command line, digested."""

    levels: list[int]
    rate: float
    hold: float
    interval_ms: float
    soak_seconds: float
    soak_rate: float
    soak_events: int
    soak_sample: float
    markdown: bool
    keep_tmp: bool
    skip_direct: bool
    floors: bool = False
    baseline_src: str = ""
    setup_streams: int = 2000
    setup_rate: float = 200.0


# --------------------------------------------------------------------------- load
def run_load(url: str, body: Path, headers: dict[str, str], streams: int, rate: float,
             events: int, interval_s: float) -> Load:  # fmt: skip
    """Run ``_stream_loadgen.py`` on the load core and parse its JSON line."""
    stream_s = events * interval_s
    argv = ["taskset", "-c", LOAD_CORE, PY, str(BENCH_DIR / "_stream_loadgen.py"), "--url", url]
    argv += ["--body-file", str(body), "--streams", str(streams), "--rate", f"{rate:g}"]
    # generous: a saturated gateway stretches streams, and that is reported, not an error
    argv += ["--events", str(events), "--timeout", f"{4 * stream_s + 60:.0f}"]
    for k, v in headers.items():
        argv += ["--header", f"{k}: {v}"]
    budget = streams / rate + 4 * stream_s + 240
    out = subprocess.run(argv, capture_output=True, text=True, timeout=budget, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    return Load(json.loads(out.stdout.strip().splitlines()[-1]))


def events_for(streams: int, s: Settings) -> int:
    """Events per stream so that all ``streams`` are open together for ``hold`` s."""
    return math.ceil((streams / s.rate + s.hold) / (s.interval_ms / 1000))


def server_ttft_ms(db: Path, after_id: int) -> tuple[float | None, float | None]:
    """p50/p99 of the gateway's own time to first chunk (``usage_records.ttft_ms``: from
    the handler's start to the upstream's first chunk) for the records after ``after_id``;
    it tells time spent inside the gateway and waiting on the upstream from the rest."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = [r[0] for r in con.execute(
            "SELECT ttft_ms FROM usage_records WHERE id > ? AND ttft_ms IS NOT NULL", (after_id,)
        )]  # fmt: skip
    return percentile(rows, 50), percentile(rows, 99)


def last_record_id(db: Path) -> int:
    """The newest usage record's id (0 when none)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT COALESCE(MAX(id), 0) FROM usage_records").fetchone()[0])


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def per_event_us(cpu_s: float, load: Load | None) -> float | None:
    """Gateway CPU time per SSE event delivered to the clients (stream set-up and
    teardown included): the relay's cost, robust to a machine shared with others."""
    events = load.raw.get("events_total") if load is not None else None
    return 1e6 * cpu_s / events if events else None


def describe(name: str, load: Load) -> str:
    """One progress line for a load run."""
    return (
        f"  {name:<7} peak open {load.peak_open:>5}  TTFB p50 {fmt(load.ttfb_p50_ms)} "
        f"p99 {fmt(load.ttfb_p99_ms)} max {fmt(load.ttfb_max_ms)} ms  "
        f"errors {load.error_text()}  ramp {load.ramp_s}s  total {load.elapsed_s}s"
        + (f"  first error: {load.first_error}" if load.first_error else "")
    )


def settle(pid: int, seconds: float = 3.0) -> None:
    """Give the gateway a moment to close what the last run left (sockets, tasks)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
    _ = pid


def measure_level(n: int, s: Settings, up_url: str, gw_url: str, body: Path,
                  headers: dict[str, str], pid: int, db: Path) -> Level:  # fmt: skip
    """Direct upstream, then through lowart, at ``n`` concurrent streams."""
    interval = s.interval_ms / 1000
    lvl = Level(n, events_for(n, s))
    progress(f"[{n} streams] {lvl.events} events each ({lvl.events * interval:.1f}s), "
             f"opened at {s.rate:g}/s")  # fmt: skip
    if not s.skip_direct:
        cores = core_times()
        lvl.direct = run_load(up_url, body, {}, n, s.rate, lvl.events, interval)
        lvl.load_core_direct = core_busy(cores, LOAD_CORE)
        progress(describe("direct", lvl.direct))
        time.sleep(1.0)
    lvl.idle_rss_mib = (proc_status_kib(pid, "VmRSS") or 0) / 1024
    first_id = last_record_id(db)
    lvl.idle_fds = fd_count(pid)
    before, cores = listen_overflows(), core_times()
    with Sampler(pid, 0.5) as smp:
        lvl.lowart = run_load(gw_url, body, headers, n, s.rate, lvl.events, interval)
    progress(describe("lowart", lvl.lowart))
    after = listen_overflows()
    lvl.load_core_lowart = core_busy(cores, LOAD_CORE)
    lvl.overflows = diff(after, before)  # type: ignore[assignment]
    lvl.peak_rss_mib = smp.max_rss_mib()
    lvl.peak_fds = smp.max_fds()
    lvl.hwm_mib = (proc_status_kib(pid, "VmHWM") or 0) / 1024
    lvl.cpu_pct = 100 * smp.cpu_s / smp.wall_s if smp.wall_s else None
    lvl.cpu_us_per_event = per_event_us(smp.cpu_s, lvl.lowart)
    lvl.cpu_wait_pct = 100 * smp.wait_s / smp.wall_s if smp.wall_s else None
    settle(pid)
    lvl.after_rss_mib = (proc_status_kib(pid, "VmRSS") or 0) / 1024
    lvl.after_fds = fd_count(pid)
    lvl.server_ttft = server_ttft_ms(db, first_id)  # the usage writer has flushed by now
    progress(
        f"  gateway: RSS idle {fmt(lvl.idle_rss_mib, 1)} peak {fmt(lvl.peak_rss_mib, 1)} "
        f"HWM {fmt(lvl.hwm_mib, 1)} after {fmt(lvl.after_rss_mib, 1)} MiB; fds idle "
        f"{lvl.idle_fds} peak {lvl.peak_fds} after {lvl.after_fds}; CPU {fmt(lvl.cpu_pct, 0)}% "
        f"({fmt(lvl.cpu_us_per_event, 1)} us/event), waiting for a CPU "
        f"{fmt(lvl.cpu_wait_pct, 0)}%; load generator CPU "
        f"{fmt(lvl.lowart.raw.get('cpu_s'), 1)} s; "
        f"listen overflows {lvl.overflows}; load core busy: "
        f"direct {fmt(lvl.load_core_direct, 0)}%, "
        f"lowart {fmt(lvl.load_core_lowart, 0)}%; gateway's own TTFT (handler start to the "
        f"upstream's first chunk) p50 {fmt(lvl.server_ttft[0])} p99 {fmt(lvl.server_ttft[1])} ms"
    )
    return lvl


def run_soak(s: Settings, gw_url: str, body: Path, headers: dict[str, str], pid: int) -> Soak:
    """Steady open-loop load for ``soak_seconds`` while sampling RSS."""
    soak = Soak(s.soak_seconds, s.soak_rate, s.soak_events)
    streams = max(1, round(s.soak_rate * s.soak_seconds))
    conc = s.soak_rate * s.soak_events * s.interval_ms / 1000
    progress(f"[soak] {s.soak_seconds:g}s at {s.soak_rate:g} streams/s x {s.soak_events} events "
             f"(~{conc:.0f} open at once), RSS every {s.soak_sample:g}s")  # fmt: skip
    with Sampler(pid, s.soak_sample) as smp:
        soak.load = run_load(
            gw_url, body, headers, streams, s.soak_rate, s.soak_events, s.interval_ms / 1000
        )
    soak.samples = smp.samples
    soak.cpu_s = smp.cpu_s
    soak.cpu_wait_pct = 100 * smp.wait_s / smp.wall_s if smp.wall_s else None
    soak.cpu_pct = 100 * smp.cpu_s / smp.wall_s if smp.wall_s else None
    soak.cpu_us_per_event = per_event_us(smp.cpu_s, soak.load)
    progress(describe("soak", soak.load))
    return soak


def cpu_of_load(pid: int, url: str, body: Path, headers: dict[str, str], streams: int,
                rate: float, events: int, interval_s: float) -> tuple[Load, Sampler]:  # fmt: skip
    """One load run and what ``pid`` spent during it (CPU, time waiting for a CPU)."""
    with Sampler(pid, 1.0) as smp:
        load = run_load(url, body, headers, streams, rate, events, interval_s)
    return load, smp


def measure_setup(fl: Floor, s: Settings, url: str, body: Path, headers: dict[str, str],
                  pid: int) -> None:  # fmt: skip
    """The set-up load: ``--setup-streams`` one-event streams at ``--setup-rate``."""
    fl.setup, smp = cpu_of_load(
        pid, url, body, headers, s.setup_streams, s.setup_rate, 1, s.interval_ms / 1000
    )
    fl.setup_cpu_s = smp.cpu_s
    progress(describe(fl.name[:7], fl.setup) + f"  CPU {fl.setup_cpu_s:.2f}s")


FLOOR_RELAYS = {
    "aiohttp pass-through (bench/_bare_proxy.py)": "_bare_proxy.py",
    "raw asyncio relay (bench/_raw_relay.py)": "_raw_relay.py",
    "callback relay, per-event work (bench/_callback_relay.py)": "_callback_relay.py",
}


def measure_relay(fl: Floor, argv: list[str], s: Settings, tmp: Path, procs: Procs, body: Path,
                  headers: dict[str, str], **kw: object) -> Floor:  # fmt: skip
    """Start one relay on the gateway's core (``PORT`` in ``argv`` becomes its port), warm
    it up, run both loads, stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / f"relay-{port}.log"
    proc = procs.start([str(port) if a == PORT else a for a in argv], GATEWAY_CORE, log, **kw)
    try:
        wait_http_ok(base + "/health", proc, log)
        url = base + "/v1/chat/completions"
        progress(f"[relay] {fl.name}, pid {proc.pid}")
        run_load(url, body, headers, 100, s.rate, 5, s.interval_ms / 1000)  # warm-up
        measure_setup(fl, s, url, body, headers, proc.pid)
        fl.steady, smp = cpu_of_load(
            proc.pid, url, body, headers, max(1, round(s.soak_rate * s.soak_seconds)),
            s.soak_rate, s.soak_events, s.interval_ms / 1000,
        )  # fmt: skip
        fl.steady_cpu_s = smp.cpu_s
        fl.steady_wait_pct = 100 * smp.wait_s / smp.wall_s if smp.wall_s else None
        progress(describe("steady", fl.steady) + f"  CPU {fl.steady_cpu_s:.2f}s")
    finally:
        procs.stop(proc)
    return fl


PORT = "{port}"  # stands for the relay's port in an argv given to measure_relay


def floor_argv(script: str, up_base: str) -> list[str]:
    """Command line of a floor relay (``script PORT UPSTREAM_URL``)."""
    return [PY, str(BENCH_DIR / script), PORT, up_base]


# --------------------------------------------------------------------------- report
def slope_mib_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MiB) in MiB per minute."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    if not var:
        return None
    return 60 * sum((x - mx) * (y - my) for x, y in points) / var


def diff(a: object, b: object) -> float | None:
    """a - b for numbers, else None."""
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a - b
    return None


LEVEL_HEAD = [
    *("streams", "peak open", "errors", "direct TTFB p50/p99", "lowart TTFB p50/p99"),
    *("added TTFB p50", "added TTFB p99", "gateway TTFT p50/p99", "VmRSS peak MiB", "VmHWM MiB"),
    *("fds idle/peak/after", "RSS after MiB", "gateway CPU", "gateway CPU us/event"),
    *("gateway waiting for a CPU", "listen overflows"),
    "stream s p50/max (nominal)",
    "load core busy direct/lowart",
]


def stretch(load: Load, events: int, interval_s: float) -> str:
    """Stream durations against the nominal one: longer means the relay fell behind."""
    nominal = (events - 1) * interval_s
    p50, top = load.raw.get("duration_p50_s"), load.raw.get("duration_max_s")
    return f"{fmt(p50, 1)} / {fmt(top, 1)} ({nominal:.1f})"


def level_rows(levels: list[Level], interval_s: float) -> list[list[str]]:
    """One row per level (TTFB in ms)."""
    rows = []
    for lv in levels:
        d, g = lv.direct, lv.lowart
        assert g is not None
        dt = f"{fmt(d.ttfb_p50_ms)} / {fmt(d.ttfb_p99_ms)}" if d else "-"
        gt = f"{fmt(g.ttfb_p50_ms)} / {fmt(g.ttfb_p99_ms)}"
        add50 = diff(g.ttfb_p50_ms, d.ttfb_p50_ms) if d else None
        add99 = diff(g.ttfb_p99_ms, d.ttfb_p99_ms) if d else None
        errors = g.error_text() + (f" (direct {d.error_text()})" if d and d.errors else "")
        rows.append([
            str(lv.streams), f"{g.peak_open}", errors, dt, gt, fmt(add50), fmt(add99),
            f"{fmt(lv.server_ttft[0])} / {fmt(lv.server_ttft[1])}",
            fmt(lv.peak_rss_mib, 1), fmt(lv.hwm_mib, 1),
            f"{lv.idle_fds} / {lv.peak_fds} / {lv.after_fds}", fmt(lv.after_rss_mib, 1),
            f"{fmt(lv.cpu_pct, 0)}%", fmt(lv.cpu_us_per_event, 1),
            f"{fmt(lv.cpu_wait_pct, 0)}%", fmt(lv.overflows, 0),
            stretch(g, lv.events, interval_s),
            f"{fmt(lv.load_core_direct, 0)}% / {fmt(lv.load_core_lowart, 0)}%",
        ])  # fmt: skip
    return rows


SOAK_HEAD = ["metric", "value"]


def soak_rows(soak: Soak, interval_s: float) -> list[list[str]]:
    """First/last/max RSS, slopes, and what the load saw."""
    pts = [(t, r / 1024) for t, r, _ in soak.samples if r is not None]
    fds = [f for _, _, f in soak.samples if f is not None]
    if not pts or soak.load is None:
        return [["samples", "0"]]
    half = [p for p in pts if p[0] >= pts[-1][0] / 2]
    ld = soak.load
    return [
        ["duration / rate", f"{soak.seconds:g} s, {soak.rate:g} streams/s x {soak.events} events"],
        ["streams completed / errors", f"{ld.completed} / {ld.error_text()}"],
        ["peak open streams", str(ld.peak_open)],
        ["stream s p50 / max (nominal)", stretch(ld, soak.events, interval_s)],
        ["TTFB p50 / p99 (ms)", f"{fmt(ld.ttfb_p50_ms)} / {fmt(ld.ttfb_p99_ms)}"],
        ["RSS samples", f"{len(pts)} (every ~{soak.samples[1][0] - soak.samples[0][0]:.0f} s)"
         if len(soak.samples) > 1 else str(len(pts))],
        ["RSS first / last / max (MiB)",
         f"{pts[0][1]:.1f} / {pts[-1][1]:.1f} / {max(y for _, y in pts):.1f}"],
        ["RSS slope, whole soak (MiB/min)", fmt(slope_mib_per_min(pts), 3)],
        ["RSS slope, second half (MiB/min)", fmt(slope_mib_per_min(half), 3)],
        ["fds first / last / max", f"{fds[0]} / {fds[-1]} / {max(fds)}" if fds else "-"],
        ["gateway CPU (of one core)", f"{fmt(soak.cpu_pct, 0)}%"],
        ["gateway CPU per event (us)", fmt(soak.cpu_us_per_event, 1)],
    ]  # fmt: skip


TARGET_HEAD = ["metric", "measured", "target", "status"]


def target_rows(levels: list[Level]) -> list[list[str]]:
    """The issue's three targets, at the highest level run."""
    if not levels:
        return []
    top = levels[-1]
    g, d = top.lowart, top.direct
    assert g is not None
    ok_streams = top.streams >= TARGET_STREAMS and g.errors == 0 and g.peak_open >= top.streams
    mem = max(v for v in (top.hwm_mib, top.peak_rss_mib) if v is not None)
    add99 = diff(g.ttfb_p99_ms, d.ttfb_p99_ms) if d else None

    def status(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "MISSED")

    return [
        [f"{top.streams} concurrent streams (peak open {g.peak_open}), errors", g.error_text(),
         f">= {TARGET_STREAMS} open, 0 errors", status(ok_streams)],
        [f"memory at {top.streams} (VmHWM, MiB)", fmt(mem, 1), f"< {TARGET_RSS_MIB:g}",
         status(mem < TARGET_RSS_MIB)],
        [f"added TTFB p99 at {top.streams} (ms)", fmt(add99), f"< {TARGET_ADDED_TTFB_P99_MS:g}",
         status(None if add99 is None else add99 < TARGET_ADDED_TTFB_P99_MS)],
    ]  # fmt: skip


Section = tuple[str, list[str], list[list[str]]]


FLOOR_HEAD = [
    *("relay", "errors set-up / steady", "CPU us per 1-event stream", "CPU us/event (steady)"),
    *("solved: set-up us/stream", "solved: us/event", "us/event vs raw relay"),
    "steady: waiting for a CPU",
]


def floor_rows(floors: list[Floor]) -> list[list[str]]:
    """One row per relay; the ratio column divides by the raw relay's solved us/event."""
    raw = next((f for f in floors if f.name.startswith("raw")), None)
    base = raw.solved_us()[1] if raw is not None else None
    rows = []
    for fl in floors:
        per_stream, per_event = fl.raw_us()
        setup_us, event_us = fl.solved_us()
        errs = " / ".join(x.error_text() if x else "-" for x in (fl.setup, fl.steady))
        ratio = f"{event_us / base:.2f}x" if event_us is not None and base else "-"
        rows.append([fl.name, errs, fmt(per_stream, 0), fmt(per_event, 1), fmt(setup_us, 0),
                     fmt(event_us, 1), ratio, f"{fmt(fl.steady_wait_pct, 0)}%"])  # fmt: skip
    return rows


def sections(levels: list[Level], soak: Soak | None, interval_s: float,
             floors: list[Floor] | None = None) -> list[Section]:  # fmt: skip
    """The report's tables."""
    out: list[Section] = []
    if levels:
        out.append(("Concurrent streams (TTFB in ms)", LEVEL_HEAD, level_rows(levels, interval_s)))
    if soak is not None:
        out.append(("Soak", SOAK_HEAD, soak_rows(soak, interval_s)))
    if floors:
        title = "lowart next to the floors (CPU of the relay process, same run)"
        out.append((title, FLOOR_HEAD, floor_rows(floors)))
    if levels:
        out.append(("Targets (printed, not asserted)", TARGET_HEAD, target_rows(levels)))
    return out


def report(levels: list[Level], soak: Soak | None, notes: list[str], s: Settings,
           header: str, floors: list[Floor] | None = None) -> None:  # fmt: skip
    """Plain tables, then (with --markdown) the same in Markdown."""
    print(header)
    for title, head, rows in sections(levels, soak, s.interval_ms / 1000, floors):
        print(f"\n== {title} ==\n{text_table(head, rows)}")
    for n in notes:
        print(f"\nNOTE: {n}")
    if s.markdown:
        print(f"\n<!-- markdown -->\n_{header}_")
        for title, head, rows in sections(levels, soak, s.interval_ms / 1000, floors):
            print(f"\n**{title}**\n\n{md_table(head, rows)}")
        for n in notes:
            print(f"\n> {n}")


def run_header(s: Settings, busy: float) -> str:
    """When/where/how."""
    return (
        f"lowart capacity bench {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores; "
        f"slow upstream: one event per {s.interval_ms:g} ms; streams opened at {s.rate:g}/s, "
        f"all open together for ~{s.hold:g}s; one lowart process on core {GATEWAY_CORE}, "
        f"upstream + load generator on core {LOAD_CORE}; CPU busy before start {busy:.0%}"
    )


# --------------------------------------------------------------------------- main
def absolute_paths(pythonpath: str) -> str:
    """``PYTHONPATH`` with every entry absolute: ``lowart serve`` runs in its own working
    directory, where a relative ``PYTHONPATH=.`` would silently import the installed
    lowart instead of the source tree under test."""
    return os.pathsep.join(str(Path(p).resolve()) for p in pythonpath.split(os.pathsep) if p)


Outcome = tuple[list[Level], Soak | None, list[str], list[Floor]]


def run_all(s: Settings, tmp: Path, procs: Procs) -> Outcome:
    """Start the slow upstream and one lowart, then every level and the soak; with
    ``--floors`` also the set-up load through lowart, then both loads through each floor."""
    notes: list[str] = []
    reason = lowart_available()
    if reason:
        raise RuntimeError(f"lowart not available: {reason}")
    up_port = free_port()
    up_base = f"http://127.0.0.1:{up_port}"
    argv = [PY, str(BENCH_DIR / "_slow_upstream.py"), str(up_port)]
    argv += ["--interval-ms", f"{s.interval_ms:g}"]
    up = procs.start(argv, LOAD_CORE, tmp / "up.log")
    wait_http_ok(up_base + "/health", up, tmp / "up.log")
    env, key, extra = prepare_lowart(tmp, up_port)
    env["LOWART_MCP"] = "off"
    env["PYTHONPATH"] = absolute_paths(env.get("PYTHONPATH", ""))
    port = free_port()
    gw_base = f"http://127.0.0.1:{port}"
    log = tmp / "lowart.log"
    argv = [*lowart_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    gw = procs.start(argv, GATEWAY_CORE, log, env=env, cwd=tmp / "lowart")
    wait_http_ok(gw_base + "/health", gw, log)
    time.sleep(0.5)
    pid = gw.pid  # taskset execs the server: same pid
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit < 2 * max(s.levels, default=0) + 200:
        notes.append(f"the gateway inherits an fd limit of {limit}: too low for 2 fds per stream")
    smoke_test(gw_base, key)
    body = tmp / "stream.json"
    body.write_text(json.dumps(STREAM_BODY))
    headers = {"Authorization": f"Bearer {key}"}
    up_url, gw_url = up_base + "/v1/chat/completions", gw_base + "/v1/chat/completions"
    progress(f"lowart pid {pid}: idle RSS {(proc_status_kib(pid, 'VmRSS') or 0) / 1024:.1f} MiB, "
             f"{fd_count(pid)} fds")  # fmt: skip
    warm = min(100, max(s.levels, default=100))
    progress(f"warm-up: {warm} streams through lowart (not reported)")
    run_load(gw_url, body, headers, warm, s.rate, 5, s.interval_ms / 1000)
    levels: list[Level] = []
    for n in s.levels:
        db = tmp / "lowart" / "bench.db"
        levels.append(measure_level(n, s, up_url, gw_url, body, headers, pid, db))
        if gw.poll() is not None:
            notes.append(f"lowart exited ({gw.returncode}) at {n} streams: {tail(log, 5)}")
            return levels, None, notes, []
    floors: list[Floor] = []
    if s.floors:
        floors.append(Floor("lowart"))
        measure_setup(floors[0], s, gw_url, body, headers, pid)
    soak = None
    if s.soak_seconds > 0:
        soak = run_soak(s, gw_url, body, headers, pid)
        if floors:
            floors[0].steady, floors[0].steady_cpu_s = soak.load, soak.cpu_s
            floors[0].steady_wait_pct = soak.cpu_wait_pct
    problems = scan_log(log)
    if problems:
        notes.append(f"lowart log: {len(problems)} error lines, first: {problems[:3]}")
    if s.floors:
        procs.stop(gw)  # the next relays get core 0 to themselves, as lowart had
        if s.baseline_src:  # the same lowart set-up, another source tree (before/after)
            fl = Floor(f"lowart baseline ({s.baseline_src})")
            env_b = {**env, "PYTHONPATH": absolute_paths(s.baseline_src)}
            argv_b = [PORT if a == str(port) else a for a in argv]
            floors.append(measure_relay(fl, argv_b, s, tmp, procs, body, headers, env=env_b,
                                        cwd=tmp / "lowart"))  # fmt: skip
        for name, script in FLOOR_RELAYS.items():
            floors.append(measure_relay(Floor(name), floor_argv(script, up_base), s, tmp, procs,
                                        body, {}))  # fmt: skip
    return levels, soak, notes, floors


def parse_args(argv: list[str] | None = None) -> Settings:
    """Command line -> Settings."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--levels", default="1000,2000,5000", help="concurrent streams per level ('' = soak only)"
    )
    ap.add_argument("--rate", type=float, default=500.0, help="new streams per second (ramp)")
    ap.add_argument("--hold", type=float, default=5.0, help="seconds all streams are open at once")
    ap.add_argument("--interval-ms", type=float, default=100.0, help="upstream event interval")
    ap.add_argument("--soak-seconds", type=float, default=600.0, help="0 skips the soak")
    ap.add_argument("--soak-rate", type=float, default=100.0, help="new streams per second")
    ap.add_argument("--soak-events", type=int, default=30, help="events per soak stream")
    ap.add_argument("--soak-sample", type=float, default=10.0, help="seconds between RSS samples")
    ap.add_argument("--no-direct", action="store_true", help="skip the direct-upstream baseline")
    ap.add_argument(
        "--floors",
        action="store_true",
        help="also run the set-up load and the soak through the aiohttp pass-through and the "
        "raw asyncio relay (needs --soak-seconds > 0)",
    )
    ap.add_argument(
        "--baseline-src",
        default="",
        help="with --floors: also run a lowart imported from this source tree (PYTHONPATH), "
        "e.g. an unpacked older commit, for before/after figures from the same run",
    )
    ap.add_argument("--setup-streams", type=int, default=2000, help="one-event streams (--floors)")
    ap.add_argument("--setup-rate", type=float, default=200.0, help="their rate per second")
    ap.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    ap.add_argument("--keep-tmp", action="store_true", help="keep logs and the SQLite db")
    a = ap.parse_args(argv)
    if a.floors and a.soak_seconds <= 0:
        ap.error("--floors measures the relays under the soak's load: give --soak-seconds > 0")
    return Settings(
        levels=[int(x) for x in a.levels.split(",") if x.strip()],
        rate=a.rate,
        hold=a.hold,
        interval_ms=a.interval_ms,
        soak_seconds=a.soak_seconds,
        soak_rate=a.soak_rate,
        soak_events=a.soak_events,
        soak_sample=a.soak_sample,
        markdown=a.markdown,
        keep_tmp=a.keep_tmp,
        skip_direct=a.no_direct,
        floors=a.floors,
        setup_streams=a.setup_streams,
        setup_rate=a.setup_rate,
        baseline_src=a.baseline_src,
    )


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run everything; always clean up the children."""
    s = parse_args(argv)
    if shutil.which("taskset") is None:
        progress("taskset not found (util-linux); cannot pin processes")
        return 2
    with contextlib.suppress(OSError, ValueError):  # the driver's sampler stays off core 0
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    tmp = Path(tempfile.mkdtemp(prefix="lowart-capacity-"))
    procs = Procs()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    busy = cpu_busy()
    if busy > 0.25:
        progress(f"warning: CPUs are {busy:.0%} busy before starting; expect noise")
    try:
        levels, soak, notes, floors = run_all(s, tmp, procs)
        report(levels, soak, notes, s, run_header(s, busy), floors)
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
