"""`python -m bench.spam_worker`: what the spam model costs a fresh worker process.

Each run starts a new Python process (as granian starts a worker) on a migrated SQLite
database, builds the app, then posts two comments through the app (the test client: no
HTTP, no server) and reports the first and second post's latency, the process's resident
memory (VmRSS) after them, and whether scikit-learn, SciPy or NumPy were imported.
``--root`` measures another checkout (e.g. `git archive` of an older commit) with this
virtualenv, so two versions are compared side by side, alternating runs:

    python -m bench.spam_worker --runs 5 --root . --root /tmp/spam-base
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, os, sys, time
t0 = time.perf_counter()
from service import create_app
from tests.helpers import JWT_SECRET, auth
app = create_app({
    "DATABASE_URL": sys.argv[1], "COMMENTS_JWT_SECRET": JWT_SECRET,
    "COMMENTS_SECRET_KEY": "x" * 32, "RATELIMIT_ENABLED": False,
    "RATELIMIT_STORAGE_URI": "memory://",
})
client = app.test_client()
client.get("/healthz")
t1 = time.perf_counter()
thread = "/api/v1/articles/bench-worker/comments"
timings = []
for n, body in enumerate([
    "Cloud margins improved, but the capex guidance worries me more than the revenue beat.",
    "Long $BABA, small position; the buyback is the reason, not the quarter.",
]):
    start = time.perf_counter()
    r = client.post(thread, json={"body": body}, headers=auth(f"reader-{os.getpid()}-{n}"))
    assert r.status_code == 201, r.get_json()
    timings.append(time.perf_counter() - start)
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) // 1024
print(json.dumps({
    "startup_s": t1 - t0, "first_post_s": timings[0], "second_post_s": timings[1],
    "rss_mb": rss,
    "loaded": sorted(m for m in ("sklearn", "scipy", "numpy") if m in sys.modules),
}))
"""


def migrate(root: Path, url: str) -> None:
    subprocess.run(
        [sys.executable, "-c", f"from service.migrate import upgrade; upgrade({url!r})"],
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def run_once(root: Path, url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if done.returncode:
        raise SystemExit(f"{root}: {done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", action="append", type=Path)
    args = parser.parse_args()
    roots = [r.resolve() for r in (args.root or [Path(".")])]
    urls = {}
    for root in roots:
        url = "sqlite:///" + tempfile.mkdtemp(prefix="spam-worker-") + "/bench.db"
        migrate(root, url)
        urls[root] = url
    results: dict[Path, list[dict[str, object]]] = {r: [] for r in roots}
    for _ in range(args.runs):
        for root in roots:  # alternating, so both see the same machine
            results[root].append(run_once(root, urls[root]))
    print("| checkout | startup (s) | first post (s) | second post (s) | RSS after (MB) | loaded |")
    print("|---|---|---|---|---|---|")
    for root, runs in results.items():

        def med(key: str, runs: list[dict[str, object]] = runs) -> float:
            return statistics.median(float(str(r[key])) for r in runs)

        loaded = ", ".join(str(m) for m in runs[-1]["loaded"]) or "none"  # type: ignore[attr-defined]
        print(
            f"| {root} | {med('startup_s'):.2f} | {med('first_post_s'):.3f} | "
            f"{med('second_post_s'):.4f} | {med('rss_mb'):.0f} | {loaded} |"
        )


if __name__ == "__main__":
    main()
