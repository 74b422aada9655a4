"""Instructions per request (callgrind) of the chat and the Responses path, per code tree.

Why: CPU time per request on a shared machine moves 10-20 % between rounds, more
than the differences being measured; an instruction count does not. `lowart
serve` from TREE runs under callgrind with instrumentation off until start-up is
done; each path is warmed, the counters zeroed, `_loadgen.py` drives it for
DURATION seconds, and the dump is divided by the requests answered, after
subtracting an equally long idle period (config polling, usage flushes).
User-space instructions only: the kernel's share is the same on both paths.

    python bench/responses_instructions.py TREE STREAM(0|1) CONCURRENCY DURATION
    python bench/responses_instructions.py --sum OUT_DIR...   # the table

Run several trees at once (each its own server) to compare code before and after.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import responses as bench

OUT = Path(tempfile.gettempdir()) / "resp_cg"


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True)


def measure(tree: str, stream: bool, conc: int, dur: float) -> None:
    out = OUT / Path(tree).name
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = {
            **os.environ,
            "PYTHONPATH": tree,
            "LOWART_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'b.db'}",
            "LOWART_SECRET_KEY": "x",
            "LOWART_DATA_DIR": str(tmp / "data"),
        }
        lowart = bench._lowart()
        subprocess.run(
            [*lowart, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True
        )
        created = subprocess.run(
            [*lowart, "keys", "create", "--name", "b"],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        key = created.stdout.strip().splitlines()[-1].strip()
        port = bench._free_port()
        argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={out}/cg.out", bench.PY, "-m", "lowart", "serve",
                "--port", str(port), "--no-grpc"]  # fmt: skip
        with open(tmp / "log", "wb") as log:
            proc = subprocess.Popen(argv, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            try:
                urllib.request.urlopen(url + "/health", timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        pid = str(proc.pid)
        try:
            _control("-i", "on", pid)
            time.sleep(2)
            _control("-z", pid)
            t0 = time.monotonic()
            time.sleep(dur)
            (out / "idle.n").write_text(repr(time.monotonic() - t0))
            _control("-d", "idle", pid)
            for path in ("chat", "responses"):
                tag = f"{path}-{int(stream)}-{conc}"
                body = tmp / f"{path}.json"
                fields = bench.PATHS[path][1]
                body.write_text(json.dumps({"model": "mock", **fields, "stream": stream}))
                bench._run(proc, url + bench.PATHS[path][0], key, body, conc, dur / 2)  # warm
                _control("-z", pid)
                t0 = time.monotonic()
                load = [bench.PY, str(bench.BENCH_DIR / "_loadgen.py"),
                        "--url", url + bench.PATHS[path][0], "--body-file", str(body),
                        "--concurrency", str(conc), "--duration", str(dur),
                        "--header", f"Authorization: Bearer {key}"]  # fmt: skip
                done = subprocess.run(load, capture_output=True, text=True, check=True)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                time.sleep(0.5)
                (out / f"{tag}.s").write_text(repr(time.monotonic() - t0))
                _control("-d", tag, pid)
                (out / f"{tag}.n").write_text(str(result["requests"]))
        finally:
            proc.terminate()
            proc.wait(60)


def summarise(directory: str) -> None:
    totals: dict[str, int] = {}
    for name in glob.glob(directory + "/cg.out.*"):
        desc = None
        with open(name) as dump:
            for line in dump:
                if line.startswith("desc: Trigger: dump "):
                    desc = line.split()[-1]
                if line.startswith("summary:"):
                    if desc:
                        totals[desc] = int(line.split()[1])
                    break
    idle_rate = totals.pop("idle") / float(Path(directory, "idle.n").read_text())
    per_request = {}
    for tag, total in sorted(totals.items()):
        n = int(Path(directory, f"{tag}.n").read_text())
        secs = float(Path(directory, f"{tag}.s").read_text())
        per_request[tag] = (total - idle_rate * secs) / n
        print(f"{directory} {tag}: {n} requests, {per_request[tag] / 1e6:.3f} M instructions each")
    for tag, value in per_request.items():
        if tag.startswith("responses"):
            chat = per_request[tag.replace("responses", "chat")]
            print(f"  {tag} / chat: {value / chat:.3f} (+{(value - chat) / 1e3:.0f} k)")


if __name__ == "__main__":
    if sys.argv[1] == "--sum":
        for directory in sys.argv[2:]:
            summarise(directory)
    else:
        measure(sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), float(sys.argv[4]))
