"""The ceiling: a bare Flask route that returns a constant 20-comment JSON document, served
by the same gunicorn settings as the service. No real endpoint can beat it on this machine:
it parses the request and writes a response, and does nothing else (the bytes are
serialised once at import, so even JSON encoding is left out)."""

from __future__ import annotations

import json

from flask import Flask, Response


def document() -> bytes:
    """A thread page of 20 comments shaped like the service's (sizes of real comments)."""

    def comment(i: int, depth: int = 0) -> dict[str, object]:
        body = f"The **guidance** matters more than the quarter; management sounded cautious. ({i})"
        return {
            "id": 1000 + i,
            "article_id": "bench-200",
            "parent_id": None if not depth else 999 + i,
            "depth": depth,
            "author": {
                "id": f"user-{i}",
                "name": f"Reader {i}",
                "is_guest": False,
                "is_moderator": False,
            },
            "body": body,
            "body_html": f"<p>{body.replace('**guidance**', '<strong>guidance</strong>')}</p>\n",
            "status": "published",
            "pinned": False,
            "created_at": "2026-11-28T09:00:00Z",
            "edited_at": None,
            "reactions": {"like": 3, "insightful": 1},
            "my_reactions": [],
            "score": 3,
            "reply_count": 0,
            "replies": [],
        }

    items = [comment(i) for i in range(20)]
    return (
        json.dumps(
            {"items": items, "next_cursor": "x" * 60, "total": 200}, separators=(",", ":")
        ).encode()
        + b"\n"
    )


DOCUMENT = document()
app = Flask(__name__)


@app.get("/ceiling")
def ceiling() -> Response:
    return Response(DOCUMENT, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status":"ok"}', mimetype="application/json")
