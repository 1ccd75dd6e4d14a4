"""The import benchmark: a generated Disqus export through `flask import disqus`.

Writes a Disqus export of N comments over M threads (half of them replies, some deleted and
some spam, HTML bodies with links and emphasis), imports it into an empty database with the
real command in a child process, and reports the wall time and the child's peak resident
memory (getrusage of the child: the whole `flask` process, parser and writer together).

    python -m bench.imports --comments 1000000 --threads 10000        # docs/performance.md
    python -m bench.imports --comments 20000 --threads 200 --output -  # a quick look
    make bench BENCH_IMPORT=1000000                                   # after the load test

Targets (issue #19): 1,000,000 comments / 10,000 threads in under 10 minutes on SQLite, peak
RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from bench.run import reset_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/comments_perf"
START = "<!-- import-bench:start -->"
END = "<!-- import-bench:end -->"
WORDS = (
    "rates inflation earnings guidance yields bond equity dividend margin outlook "
    "central bank liquidity spread volatility hedge buyback merger"
).split()


def generate_disqus(out: IO[str], *, comments: int, threads: int, seed: int = 19) -> None:
    """A Disqus export in the real shape, written as it goes (constant memory)."""
    rng = random.Random(seed)
    out.write(
        '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
        'xmlns:dsq="http://disqus.com/disqus-internals">\n'
    )
    start = dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc)
    for t in range(threads):
        out.write(
            f'<thread dsq:id="t{t}"><id>story-{t}</id><forum>bench</forum>'
            f"<link>https://news.example/markets/story-{t}</link><title>Story {t}</title>"
            f"<createdAt>{(start + dt.timedelta(hours=t)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
            f"</createdAt><isClosed>{'true' if t % 50 == 0 else 'false'}</isClosed>"
            "<isDeleted>false</isDeleted></thread>\n"
        )
    recent: dict[int, list[int]] = {}
    for n in range(comments):
        t = rng.randrange(threads)
        seen = recent.setdefault(t, [])
        parent = ""
        if seen and rng.random() < 0.5:
            parent = f'<parent dsq:id="p{rng.choice(seen)}"/>'
        seen.append(n)
        if len(seen) > 20:
            seen.pop(0)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        body = f"<p>{words} <b>{rng.choice(WORDS)}</b></p>"
        if n % 10 == 0:
            body += f'<p>See <a href="https://news.example/r/{n}" rel="nofollow">this</a>.</p>'
        user = rng.randrange(comments // 10 + 1)
        anonymous = user % 4 == 0
        author = (
            f"<author><name>Reader {user}</name><email>r{user}@example.org</email>"
            f"<isAnonymous>{'true' if anonymous else 'false'}</isAnonymous>"
            + ("" if anonymous else f"<username>reader{user}</username>")
            + "</author>"
        )
        created = (start + dt.timedelta(seconds=30 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.write(
            f'<post dsq:id="p{n}"><id/><message><![CDATA[{body}]]></message>'
            f"<createdAt>{created}</createdAt>"
            f"<isDeleted>{'true' if n % 97 == 0 else 'false'}</isDeleted>"
            f"<isSpam>{'true' if n % 211 == 0 else 'false'}</isSpam>{author}"
            f'<ipAddress>198.51.100.{n % 250}</ipAddress><thread dsq:id="t{t}"/>{parent}</post>\n'
        )
    out.write("</disqus>\n")


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (libraries mapped by the parent and its workers)
    counted once across the processes instead of once per process, as RSS sums do."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(rollup.split("\nPss:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def measure(url: str, export: Path, *options: str) -> dict[str, Any]:
    """Import ``export`` into an empty database at ``url`` with the real command."""
    reset_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COMMENTS_SECRET_KEY": "bench",
        "COMMENTS_JWT_SECRET": "bench-secret-that-is-long-enough-for-hs256-0123456789",
    }
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "service",
            "import",
            "disqus",
            str(export),
            *options,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peak_kb = peak_total_kb = peak_pss_kb = peak_worker_kb = 0
    loads: list[float] = []
    while child.poll() is None:  # resident memory of the import and of its workers
        main = _rss_kb(child.pid)
        workers = [_rss_kb(pid) for pid in _children(child.pid)]
        peak_kb = max(peak_kb, main)
        peak_worker_kb = max([peak_worker_kb, *workers])
        peak_total_kb = max(peak_total_kb, main + sum(workers))
        pss = _pss_kb(child.pid) + sum(_pss_kb(pid) for pid in _children(child.pid))
        peak_pss_kb = max(peak_pss_kb, pss)
        if len(loads) < (time.perf_counter() - started) // 10:  # one sample in 10 s
            loads.append(os.getloadavg()[0])
        time.sleep(0.2)
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the import and its worker processes (all waited-for children of this process):
    # on a shared machine the wall time says more about the neighbours than about us.
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    if child.returncode != 0:
        raise SystemExit(f"import failed:\n{stdout}\n{stderr}")
    check = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", "recount", "--check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    summary = next(line for line in stdout.splitlines() if line.startswith("comments:"))
    return {
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "peak_total_mb": peak_total_kb / 1024,
        "peak_worker_mb": peak_worker_kb / 1024,
        "peak_pss_mb": peak_pss_kb / 1024,
        "load_mean": sum(loads) / len(loads) if loads else os.getloadavg()[0],
        "load_max": max(loads, default=os.getloadavg()[0]),
        "cpu_seconds": cpu,
        "summary": summary,
        "recount": "clean" if check.returncode == 0 else "DRIFT",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument(
        "--export", help="import this Disqus file instead of generating one (A/B runs)"
    )
    parser.add_argument("--jobs", type=int, help="passed to flask import (default: its own)")
    parser.add_argument(
        "--output", default=str(ROOT / "docs" / "performance.md"), help="'-': print only"
    )
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        export = Path(args.export or Path(tmp) / "disqus.xml")
        if not args.export:
            t0 = time.perf_counter()
            with open(export, "w", encoding="utf-8") as out:
                generate_disqus(out, comments=args.comments, threads=args.threads)
            made = time.perf_counter() - t0
            print(f"generated {export.name} in {made:.0f} s", file=sys.stderr)
        size_mb = export.stat().st_size / 1e6
        options = ("--jobs", str(args.jobs)) if args.jobs else ()
        targets = []
        if "sqlite" in args.databases:
            targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'import.db'}"))
        if "postgres" in args.databases:
            targets.append(("PostgreSQL", os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)))
        for label, url in targets:
            try:
                result = measure(url, export, *options)
            except Exception as exc:  # PostgreSQL down: say so, keep the SQLite row
                print(f"{label}: skipped ({exc})", file=sys.stderr)
                continue
            print(f"{label}: {result}", file=sys.stderr)
            rows.append((label, result))
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Run {when}: `python -m bench.imports --comments {args.comments} --threads "
        f"{args.threads}`, a generated Disqus export of {size_mb:.0f} MB, {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.1f} at the end (the machine is shared: "
        "wall time depends on the neighbours; CPU time counts the import and its workers).",
        "",
        "| database | comments | wall time | CPU time | load (mean/max) | peak RSS | recount "
        "--check | report |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {args.comments:,} | {float(r['seconds']) / 60:.1f} min | "
            f"{float(r['cpu_seconds']) / 60:.1f} min | {r['load_mean']:.0f}/{r['load_max']:.0f} | "
            f"{float(r['peak_mb']):.0f} MB "
            f"({float(r['peak_total_mb']):.0f} MB with workers, PSS "
            f"{float(r['peak_pss_mb']):.0f} MB) | {r['recount']} | "
            f"{r['summary']} |"
        )
    body = "\n".join(lines) + "\n"
    print(body)
    if args.output != "-":
        path = Path(args.output)
        doc = path.read_text() if path.exists() else "# Performance\n"
        if START not in doc:
            doc += f"\n## Importing a Disqus export\n\n{START}\n{END}\n"
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        path.write_text(f"{head}{START}\n{body}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
