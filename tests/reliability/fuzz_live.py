"""schemathesis with every check on, from outside, against the service as production runs it
(`python -m service.serve`: granian) on SQLite or on PostgreSQL + Redis (issue #14).

    python -m tests.reliability.fuzz_live                 # SQLite (a fresh file)
    TEST_DATABASE_URL=postgresql+psycopg://... TEST_REDIS_URL=redis://.../N \\
      python -m tests.reliability.fuzz_live               # PostgreSQL + Redis
    make fuzz                                             # both (PostgreSQL when set)

The database is rebuilt by the migrations, a small thread is seeded (so generated ids find
real rows), and `schemathesis run openapi.yaml` runs with every check (schemathesis'
default), a fixed seed and a bounded number of examples per operation, as an admin (a JWT
with roles moderator and admin; the `ignored_auth` check drops or spoils it to see that it
matters). The rest of the run's configuration is `schemathesis.toml` at the root, and the
rejections no schema can describe are in `schemathesis_hooks.py`, each with its reason.
Prints schemathesis' report and a one-line summary; the exit status is schemathesis' (0:
nothing found).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from tests.helpers import JWT_SECRET, empty_tables, make_token, reset_schema
from tests.servers import server

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261129
MAX_EXAMPLES = 12
ADMIN = make_token("fuzz-admin", name="Fuzz admin", roles=["moderator", "admin"], expires_in=7200)


def reset_database(url: str) -> None:
    reset_schema(url)
    empty_tables(url)


def call(base: str, method: str, path: str, body: Any = None, sub: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if sub is not None:
        token = ADMIN if sub == "fuzz-admin" else make_token(sub, name=sub, expires_in=7200)
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read()
        return json.loads(text) if text else None


def seed(base: str) -> None:
    """A thread with a reply, a reaction, a flag and a ban, so that the ids schemathesis
    generates (comment 1, `like`, ...) sometimes name real rows."""
    url = "/api/v1/articles/fuzz-article/comments"
    first = call(base, "POST", url, {"body": "first $AAPL"}, sub="fuzz-user")
    call(base, "POST", url, {"body": "a reply", "parent_id": first["id"]}, sub="fuzz-other")
    call(base, "PUT", f"/api/v1/comments/{first['id']}/reactions/like", sub="fuzz-other")
    call(base, "POST", f"/api/v1/comments/{first['id']}/flags", {"reason": "spam"}, "fuzz-other")
    call(base, "PUT", "/api/v1/admin/bans/fuzz-banned", {"reason": "test"}, sub="fuzz-admin")


def server_env(database_url: str, redis_url: str | None) -> dict[str, str]:
    """The test suite's settings: limits off (a fuzzer is one client sending thousands of
    requests), guests allowed, no caching of /counts, no flag trust period, no duplicate
    window. Redis, when given, carries the cache, the event stream and the limiter's storage."""
    env = {
        "DATABASE_URL": database_url,
        "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "fuzz-cursor-secret-0123456789abcdef",
        "RATELIMIT_ENABLED": "false",
        "RATELIMIT_STORAGE_URI": "memory://",
        "COMMENTS_ALLOW_GUESTS": "true",
        "COMMENTS_COUNTS_CACHE_SECONDS": "0",
        "COMMENTS_FLAG_TRUST_HOURS": "0",
        "COMMENTS_DUPLICATE_WINDOW_SECONDS": "0",
        "COMMENTS_ENV": "development",
        # The first post trains the spam model (docs/performance.md): on a loaded machine it
        # outlasted the default 30 s and the watchdog ended the worker mid-seed.
        "WORKER_TIMEOUT": "180",
    }
    if redis_url:
        env.update(
            RATELIMIT_STORAGE_URI=redis_url,
            COMMENTS_CACHE_URL=redis_url,
            COMMENTS_REDIS_URL=redis_url,
        )
    return env


def run(
    database_url: str,
    redis_url: str | None,
    report: Path,
    *,
    max_examples: int = MAX_EXAMPLES,
    seed_value: int = SEED,
    extra: tuple[str, ...] = (),
    migrated: bool = False,
) -> int:
    """Serve ``database_url`` (rebuilt by the migrations, or only emptied when ``migrated``)
    and run schemathesis against it; its exit status."""
    if migrated:
        empty_tables(database_url)
    else:
        reset_database(database_url)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    # A loaded machine (2 shared cores) can take a minute to start granian and the app.
    with server(server_env(database_url, redis_url), ready_timeout=120) as base:
        seed(base)
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {ADMIN}",
            "--seed",
            str(seed_value),
            "--max-examples",
            str(max_examples),
            # One worker: hypothesis describes strategies with ast.parse, which on CPython
            # 3.11 fails from two threads at once ("AST constructor recursion depth
            # mismatch", a schemathesis runtime error, not a finding).
            "--workers",
            "1",
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(report),
            *extra,
        ]
        return subprocess.call(command, cwd=ROOT)


def summarise(report: Path) -> dict[str, Any]:
    """The run in numbers, from schemathesis' NDJSON events: operations, test cases, the
    checks that ran, how often, and how many failed."""
    names: set[str] = set()
    evaluations = failed = 0
    operations: set[str] = set()
    cases: set[str] = set()

    def walk(node: Any) -> None:
        nonlocal evaluations, failed
        if isinstance(node, dict):
            checks = node.get("checks")
            if isinstance(checks, dict):
                for case_id, results in checks.items():
                    cases.add(case_id)
                    for result in results if isinstance(results, list) else []:
                        names.add(result["name"])
                        evaluations += 1
                        failed += result["status"] != "success"
            label = node.get("label")
            if isinstance(label, str) and " /" in label:
                operations.add(label)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for line in report.read_text(encoding="utf-8").splitlines():
        walk(json.loads(line))
    return {
        "operations": len(operations),
        "test_cases": len(cases),
        "checks": sorted(names),
        "check_evaluations": evaluations,
        "failed": failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=MAX_EXAMPLES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--report", type=Path, default=None, help="ndjson events file")
    parser.add_argument("extra", nargs="*", help="more schemathesis options (after --)")
    args = parser.parse_args(argv)
    pg = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = pg or "sqlite:///" + str(Path(tmp) / "fuzz.db")
        report = args.report or Path(tmp) / "events.ndjson"
        status = run(
            url,
            redis_url if pg else None,
            report,
            max_examples=args.max_examples,
            seed_value=args.seed,
            extra=tuple(args.extra),
        )
        numbers = summarise(report)
        print(
            f"{'PostgreSQL + Redis' if pg else 'SQLite'}: {numbers['operations']} operations, "
            f"{numbers['test_cases']} test cases, {len(numbers['checks'])} checks "
            f"({numbers['check_evaluations']} evaluations), {numbers['failed']} failed; "
            f"schemathesis exit status {status}"
        )
        return status


if __name__ == "__main__":
    sys.exit(main())
