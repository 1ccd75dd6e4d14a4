"""How fast one delivery worker sends webhooks (issue #15: target >= 200 per second).

Builds a database with the migrations (SQLite in a temporary directory, or --database-url),
registers one endpoint on a local receiver (a threaded HTTP/1.1 server in a child process,
answering 204 at once), queues N signed deliveries of a realistic comment.created payload,
then runs the webhooks job of one worker (service/delivery/webhooks.py, the code
`flask --app service worker` runs) until the queue is empty, and reports deliveries per
second. Every delivery is signed with standardwebhooks, checked against the SSRF rule
(COMMENTS_WEBHOOK_ALLOW_PRIVATE=true, as the receiver is on 127.0.0.1) and recorded.

    python -m bench.webhooks --deliveries 2000
    python -m bench.webhooks --database-url postgresql+psycopg://postgres@127.0.0.1/comments_perf
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from service import create_app
from service.delivery.outbox import body, new_message_id
from service.delivery.webhooks import STATE, deliver_due
from service.domain import webhooks
from service.enums import DeliveryStatus
from service.extensions import db
from service.migrate import upgrade
from service.models import WebhookDelivery, utcnow

from .run import free_port

TARGET_PER_SECOND = 200


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def serve_receiver(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Answer)
    server.daemon_threads = True
    server.serve_forever()


def _wait_listening(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def run(deliveries: int, database_url: str | None, concurrency: int) -> float:
    tmp = tempfile.mkdtemp(prefix="bench-webhooks-")
    url = database_url or f"sqlite:///{Path(tmp) / 'webhooks.db'}"
    upgrade(url)
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--receiver", str(port)])
    try:
        _wait_listening(port)
        app = create_app(
            {
                "DATABASE_URL": url,
                "COMMENTS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
                "COMMENTS_WEBHOOK_ALLOW_PRIVATE": True,
                "COMMENTS_DELIVERY_CONCURRENCY": concurrency,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            session = db.session
            endpoint = webhooks.create_endpoint(
                session, url=f"http://127.0.0.1:{port}/hooks", events=["*"], actor_id="bench"
            )
            endpoint_id = endpoint.id
            now = utcnow()
            comment = {
                "id": 1,
                "article_id": "bench-article",
                "parent_id": None,
                "depth": 0,
                "author": {"id": "u-1", "name": "Mei", "is_guest": False, "is_moderator": False},
                "body": "Cloud revenue up **26%**? " * 8,
                "body_html": "<p>Cloud revenue up <strong>26%</strong>?</p>" * 8,
                "status": "published",
                "pinned": False,
                "created_at": "2026-11-29T18:00:00Z",
                "edited_at": None,
                "reactions": {"like": 3},
                "my_reactions": [],
                "score": 3,
                "reply_count": 0,
                "replies": [],
            }
            text = body("comment.created", {"comment_id": 1, "comment": comment}, now)
            rows = [
                {
                    "endpoint_id": endpoint.id,
                    "message_id": new_message_id(),
                    "event_type": "comment.created",
                    "payload": text,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for _ in range(deliveries)
            ]
            session.execute(insert(WebhookDelivery), rows)
            session.commit()
            db.session.remove()
        started = time.perf_counter()
        sent = 0
        while True:
            with app.app_context():
                handled = deliver_due(app, now=utcnow() + dt.timedelta(seconds=1))
                db.session.remove()
            if not handled:
                break
            sent += handled
        seconds = time.perf_counter() - started
        with app.app_context():
            delivered = db.session.scalar(
                select(func.count()).where(
                    WebhookDelivery.endpoint_id == endpoint_id,
                    WebhookDelivery.status == DeliveryStatus.DELIVERED,
                )
            )
            db.session.remove()
            db.engine.dispose()
        state = app.extensions.pop(STATE, None)
        if state is not None:
            state.close()
    finally:
        receiver.terminate()
        receiver.wait()
    rate = (delivered or 0) / seconds
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(
        f"webhooks: one worker ({concurrency} in flight), {database}: {delivered}/{deliveries} "
        f"delivered in {seconds:.2f} s = {rate:.0f} webhooks/s "
        f"(target >= {TARGET_PER_SECOND}/s; {sent} attempts)"
    )
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--receiver", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receiver is not None:
        serve_receiver(args.receiver)
        return 0
    rate = run(args.deliveries, args.database_url, args.concurrency)
    return 0 if rate >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    raise SystemExit(main())
