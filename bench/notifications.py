"""Notifications under load (#15), small and apart from `make bench`:

1. the notification list (`GET /api/v1/me/notifications`, first page and `?unread=true`)
   of one reader with 10,000 notifications;
2. posting a comment into a thread that 3 readers follow, against one nobody follows
   (target: at least 80% of the rate without followers). The posters' settings say
   `follow_on_post: false`, so the thread without followers stays without.

The service runs as `make run` serves it (python -m service.serve: granian) and wrk drives
it, as in bench/run.py.

    python -m bench.notifications                      # SQLite, 5 s per run
    python -m bench.notifications --database-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, insert

from service.models import Article, Comment, Follow, Notification, ReaderSettings

from .run import API, JWT_SECRET, LUA_POST, Run, Server, reset_database, token, wrk
from .seed import finish

NOTIFICATIONS = 10_000
COMMENTS = 500
POSTERS = 200


def seed(url: str) -> None:
    engine = create_engine(url)
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        conn.execute(
            insert(Article),
            [
                {"id": a, "status": "open", "comment_count": 0, "reaction_count": 0, "version": 0,
                 "created_at": now}
                for a in ("bench-notes", "post-plain", "post-followed")
            ],
        )  # fmt: skip
        conn.execute(
            insert(Comment),
            [
                {
                    "id": i, "article_id": "bench-notes", "path": "/", "depth": 0,
                    "author_id": f"writer-{i % 50}", "author_name": f"Writer {i % 50}",
                    "body": f"Comment {i} on **margins**", "body_html":
                    f"<p>Comment {i} on <strong>margins</strong></p>", "status": "published",
                    "created_at": now,
                }
                for i in range(1, COMMENTS + 1)
            ],
        )  # fmt: skip
        kinds = ("reply", "mention", "thread")
        conn.execute(
            insert(Notification),
            [
                {
                    "user_id": "reader-1", "kind": kinds[i % 3], "article_id": "bench-notes",
                    "comment_id": 1 + i % COMMENTS, "created_at": now,
                    "read_at": now if i % 4 else None,
                }
                for i in range(NOTIFICATIONS)
            ],
        )  # fmt: skip
        conn.execute(
            insert(Follow),
            [
                {"article_id": "post-followed", "user_id": f"follower-{i}", "created_at": now}
                for i in range(3)
            ],
        )
        conn.execute(
            insert(ReaderSettings),
            [
                {"user_id": f"poster-{i}", "email_mode": "off", "follow_on_post": False,
                 "updated_at": now}
                for i in range(POSTERS)
            ],
        )  # fmt: skip
    finish(engine)  # PostgreSQL's sequences past the explicit ids, fresh statistics
    engine.dispose()


def median(runs: list[Run]) -> tuple[float, float, float, int]:
    return (
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    reset_database(url)
    seed(url)
    env = {
        "DATABASE_URL": url,
        "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "bench-cursor-secret-0123456789abcdefghij",
        "RATELIMIT_ENABLED": "false",
        "COMMENTS_ENV": "production",
        "COMMENTS_METRICS_PUBLIC": "true",  # nothing scrapes it here
        "COMMENTS_CACHE_URL": "off",
    }
    threads = min(os.cpu_count() or 1, args.connections)
    reader = {"Authorization": f"Bearer {token('reader-1')}"}
    posters = ",".join(f'"{token(f"poster-{i}")}"' for i in range(POSTERS))
    service = Server("service.wsgi:app", env, workdir / "service.log")

    def run(path: str, rounds: int = args.rounds, **kw: object) -> tuple[float, float, float, int]:
        return median(
            [
                wrk(
                    service.base + path,
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=threads,
                    **kw,  # type: ignore[arg-type]
                )
                for _ in range(rounds)
            ]
        )

    def post_script(article: str) -> Path:
        path = workdir / f"{article}.lua"
        path.write_text(
            LUA_POST
            % {"tokens": posters, "threads": threads, "path": f"{API}/articles/{article}/comments"}
        )
        return path

    try:
        print(f"database: {url.split('://')[0]}, {args.connections} connections, {threads} threads")
        listing = f"{API}/me/notifications"
        rows = [
            ("notification list, 10,000 for the reader", run(listing, headers=reader)),
            ("notification list, ?unread=true", run(listing + "?unread=true", headers=reader)),
        ]
        plain, followed = [], []
        for _ in range(args.rounds):  # alternate, so drift on a loaded machine hits both alike
            plain.append(
                run(f"{API}/articles/post-plain/comments", 1, script=post_script("post-plain"))
            )
            followed.append(
                run(
                    f"{API}/articles/post-followed/comments", 1, script=post_script("post-followed")
                )
            )
        without = statistics.median(r[0] for r in plain)
        with_followers = statistics.median(r[0] for r in followed)
        rows.append(("post, thread nobody follows", plain[len(plain) // 2]))
        rows.append(("post, thread 3 readers follow", followed[len(followed) // 2]))
        for name, (rps, p50, p99, errors) in rows:
            print(
                f"  {name:<44} {rps:>8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
                + (f"  ERRORS {errors}" if errors else "")
            )
        ratio = with_followers / without if without else 0.0
        print(f"  posting with 3 followers: {ratio:.0%} of posting without (target >= 80%)")
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
