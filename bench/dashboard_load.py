"""How fast the dashboard's overview loads, in a real headless Chromium, on loopback.

The issue's target: a page load under 200 ms on loopback, with no request
blocking the first paint longer than the usage query. This starts a real
`lowart serve` (SQLite, built-in `mock` route) on loopback, sends it `--rows`
chat requests so the usage table has something to sum, starts Debian's headless
Chromium (driven by Playwright, as the UI tests do: tests/support/chromium.py), signs
in with an admin key, then loads the overview `--loads` times cold (the HTTP
cache disabled, so every asset is fetched again; the session cookie stays) and
reads, per load, from the page's own performance entries:

* `load`: navigation timing `loadEventEnd` (ms from the start of navigation);
* `first paint`: the paint timing entry `first-paint`;
* `first numbers`: when the request counter (`#stat-requests`) appears, recorded
  by a MutationObserver installed before the page's scripts run;
* `blocking`: the slowest request that blocks the first paint (the document
  itself and every resource whose `renderBlockingStatus` is `blocking`);
* `usage query`: the browser-side duration of the overview's
  `/admin/usage/series?...by=total` request.

It prints p50/p95 of each, whether the target holds at p50 and p95, and the CPU
time per page load (user + system, from /proc) of the gateway and of Chromium (all
its processes; the other tab's 5 s poll adds a little when comparing). Nothing is
asserted. On a shared machine the numbers wander: `--compare PATH` starts a
second gateway from another checkout (e.g. `git worktree add /tmp/main main`)
and alternates the loads between the two, so both are measured under the same
conditions; `--resources` adds when each request of a load started and ended.

Run: `.venv/bin/python bench/dashboard_load.py [--loads N] [--rows N] [--markdown]
[--compare PATH] [--resources]`
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support.chromium: how the UI tests launch Chromium

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.support.chromium import CHROMIUM, launch  # noqa: E402

PY = sys.executable
TARGET_LOAD_MS = 200.0

# Runs before the page's own scripts on every navigation: note when the first
# numbers are on the page (polling from outside would add its own interval).
_OBSERVE_FIRST_NUMBERS = """
(() => {
  const seen = () => {
    if (document.querySelector('#stat-requests .value')) {
      window.__firstNumbersAt = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver((_, observer) => { if (seen()) observer.disconnect(); })
    .observe(document, {childList: true, subtree: true});
})();
"""

_READ_TIMINGS = """
(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint').find(p => p.name === 'first-paint');
  const resources = performance.getEntriesByType('resource');
  const blocking = [{name: nav.name, duration: nav.responseEnd - nav.startTime}].concat(
    resources.filter(r => r.renderBlockingStatus === 'blocking')
      .map(r => ({name: r.name, duration: r.responseEnd - r.startTime})));
  const slowest = blocking.reduce((a, b) => (b.duration > a.duration ? b : a));
  const usage = resources.filter(
    r => r.name.includes('/usage/series') && r.name.includes('by=total'));
  return {
    load: nav.loadEventEnd,
    first_paint: paint ? paint.startTime : null,
    first_numbers: window.__firstNumbersAt ?? null,
    blocking: slowest.duration,
    blocking_url: slowest.name,
    usage: usage.length ? usage[0].responseEnd - usage[0].startTime : null,
    requests: [{name: new URL(nav.name).pathname, start: 0, end: nav.responseEnd}].concat(
      resources.map(r => ({name: new URL(r.name).pathname + (r.name.includes('by=') ? '?by=' +
        new URL(r.name).searchParams.get('by') : ''), start: r.startTime, end: r.responseEnd}))),
  };
})()
"""

METRICS = (
    ("load", "page load (loadEventEnd)"),
    ("first_paint", "first paint"),
    ("first_numbers", "first numbers shown"),
    ("blocking", "slowest request blocking first paint"),
    ("usage", "usage query (/admin/usage/series)"),
)


def _lowart() -> list[str]:
    exe = Path(PY).with_name("lowart")
    return [str(exe)] if exe.exists() else [PY, "-m", "lowart"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp: Path, repo: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """`lowart serve` (the code of `repo`) on a fresh SQLite database; returns it, its
    URL and an admin key."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
        "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "LOWART_SECRET_KEY": "bench-secret",
        "LOWART_DATA_DIR": str(tmp / "data"),
    }

    def lowart(*args: str) -> str:
        done = subprocess.run(
            [*_lowart(), *args], env=env, cwd=tmp, check=True, capture_output=True, text=True
        )
        return done.stdout

    lowart("db", "upgrade")
    key = lowart("keys", "create", "--name", "bench", "--admin").strip().splitlines()[-1].strip()
    port = _free_port()
    log = (tmp / "serve.log").open("wb")
    argv = [*_lowart(), "serve", "--port", str(port), "--no-grpc"]
    proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                return proc, url, key
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "serve.log").read_text()[-2000:]) from None
            time.sleep(0.1)


def _call(url: str, key: str, path: str, body: dict[str, object] | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def _seed(url: str, key: str, rows: int) -> None:
    """`rows` real chat requests (a usage record each), then wait until all are recorded."""
    body = {"model": "mock", "messages": [{"role": "user", "content": "hello there"}]}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _call(url, key, "/v1/chat/completions", body), range(rows)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        series = _call(url, key, "/admin/usage/series?since=1h&by=total")["series"]
        if series and series[0]["totals"]["requests"] >= rows:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not record {rows} requests within 30 s")


def _sign_in(page: Page, url: str, key: str) -> None:
    page.goto(url + "/ui/")
    page.locator("#signin-key").fill(key)
    page.locator("#signin-key").press("Enter")
    page.locator("#nav").wait_for(state="visible")


def _cold_load(page: Page, url: str) -> dict:
    page.goto("about:blank")
    page.goto(url + "/ui/#/overview", wait_until="commit")
    # A function, not a bare expression: Playwright `eval`s those, which the CSP refuses.
    page.wait_for_function(
        "() => location.pathname === '/ui/' && document.readyState === 'complete'"
        " && window.__firstNumbersAt !== undefined"
        " && performance.getEntriesByType('navigation')[0].loadEventEnd > 0"
        " && performance.getEntriesByType('resource').some(r => r.name.includes('by=total'))",
        timeout=30_000,
    )
    return dict(page.evaluate(_READ_TIMINGS))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float:
    """CPU time of a process and all its descendants (Chromium's renderer, GPU and
    network processes are children of the browser process)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            parents[int(entry.name)] = int(fields[1])
    total, wanted = 0.0, {root}
    for pid in sorted(parents):  # a child's pid is almost always above its parent's
        if pid in wanted or parents[pid] in wanted:
            wanted.add(pid)
            try:
                total += _cpu_seconds(pid)
            except OSError:
                continue
    return total


class _Target:
    """One gateway under test, with its signed-in tab and what its loads measured."""

    def __init__(self, repo: Path, tmp: Path) -> None:
        self.repo = repo
        self.proc, self.url, self.key = _start(tmp, repo)
        self.samples: list[dict] = []
        self.cpu = 0.0
        self.browser_cpu = 0.0

    def prepare(self, browser: Browser, rows: int) -> None:
        _seed(self.url, self.key, rows)
        self.page = browser.new_context().new_page()  # its own cookies
        _sign_in(self.page, self.url, self.key)
        # Playwright has no switch for the HTTP cache: the DevTools protocol's.
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.page.add_init_script(_OBSERVE_FIRST_NUMBERS)
        _cold_load(self.page, self.url)  # warm-up: the server's first-use work is not measured

    def load(self, browser_pid: int) -> None:
        before, browser_before = _cpu_seconds(self.proc.pid), _tree_cpu_seconds(browser_pid)
        self.samples.append(_cold_load(self.page, self.url))
        self.cpu += _cpu_seconds(self.proc.pid) - before
        self.browser_cpu += _tree_cpu_seconds(browser_pid) - browser_before

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def measure(loads: int, rows: int, repos: list[Path]) -> list[_Target]:
    """`loads` cold loads of each gateway, alternating between them (ABBA...)."""
    with tempfile.TemporaryDirectory(prefix="lowart-bench-dashboard-") as name:
        targets: list[_Target] = []
        try:
            for i, repo in enumerate(repos):
                (Path(name) / str(i)).mkdir()
                targets.append(_Target(repo, Path(name) / str(i)))
            with sync_playwright() as playwright:
                browser = launch(playwright)
                browser_pid = _browser_pid()
                for target in targets:
                    target.prepare(browser, rows)
                for n in range(loads):
                    for target in targets if n % 2 == 0 else reversed(targets):
                        target.load(browser_pid)
                browser.close()
            return targets
        finally:
            for target in targets:
                target.stop()


def _browser_pid() -> int:
    """Chromium's browser process: Playwright does not say which it is, so the one
    process named chromium, below this one (Playwright's driver starts it), whose
    parent is not a chromium (its renderer, GPU and network processes are)."""
    names: dict[int, str] = {}
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            pid = int(entry.name)
            names[pid] = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])

    def below_us(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    found = [
        pid
        for pid, name in names.items()
        if name == "chromium" and names.get(parents[pid]) != "chromium" and below_us(pid)
    ]
    if len(found) != 1:
        raise RuntimeError(f"expected one Chromium browser process below this one, saw {found}")
    return found[0]


def report(target: _Target, rows: int, markdown: bool, resources: bool) -> None:
    samples = target.samples
    print(f"{len(samples)} cold loads of /ui/#/overview, {rows} usage rows, loopback")
    print(f"gateway code: {target.repo}")
    if markdown:
        print("\n| measure | p50 ms | p95 ms |\n|---|---:|---:|")
    for key, label in METRICS:
        values = [s[key] for s in samples if s[key] is not None]
        if not values:
            print(f"{label}: not measured")
            continue
        p50, p95 = _pct(values, 0.5), _pct(values, 0.95)
        row = f"| {label} | {p50:.1f} | {p95:.1f} |"
        print(row if markdown else f"{label:40} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    worst = max(samples, key=lambda s: s["blocking"])
    print(f"\nslowest blocking request seen: {worst['blocking_url']} ({worst['blocking']:.1f} ms)")
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        load = _pct([s["load"] for s in samples], q)
        usage = [s["usage"] for s in samples if s["usage"] is not None]
        blocking = _pct([s["blocking"] for s in samples], q)
        under = blocking <= _pct(usage, q) if usage else None
        verdict = "?" if under is None else "yes" if under else "NO"
        print(
            f"target at {name}: page load {load:.1f} ms < {TARGET_LOAD_MS:.0f} ms: "
            f"{'yes' if load < TARGET_LOAD_MS else 'NO'}; slowest blocking request "
            f"{blocking:.1f} ms <= usage query: {verdict}"
        )
    requests = sum(len(s["requests"]) for s in samples) / len(samples)
    print(
        f"gateway CPU per page load: {target.cpu / len(samples) * 1000:.1f} ms "
        f"({requests:.1f} requests per load); Chromium's CPU per page load (all its "
        f"processes): {target.browser_cpu / len(samples) * 1000:.1f} ms"
    )
    if resources:
        _report_resources(samples)


def _report_resources(samples: list[dict]) -> None:
    """Median start and end (ms from navigation start) of each request of a load."""
    seen: dict[str, list[tuple[float, float]]] = {}
    for sample in samples:
        for r in sample["requests"]:
            seen.setdefault(r["name"], []).append((r["start"], r["end"]))
    print("\nrequest (seen in N loads): median start .. end, ms")
    medians = {
        name: (statistics.median(s for s, _ in spans), statistics.median(e for _, e in spans))
        for name, spans in seen.items()
    }
    for name, (start, end) in sorted(medians.items(), key=lambda item: item[1]):
        print(f"  {name:45} ({len(seen[name]):3}) {start:7.1f} .. {end:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=50, help="cold loads measured")
    parser.add_argument("--rows", type=int, default=1000, help="usage rows made first")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--compare", type=Path, help="another checkout, measured in the same run (alternating)"
    )
    parser.add_argument("--resources", action="store_true", help="when each request ran")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    repos = [REPO] + ([args.compare.resolve()] if args.compare else [])
    targets = measure(args.loads, args.rows, repos)
    for i, target in enumerate(targets):
        if i:
            print()
        report(target, args.rows, args.markdown, args.resources)


if __name__ == "__main__":
    main()
