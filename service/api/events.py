"""The live event stream of an article (issue 16): the Flask half.

``GET /articles/{id}/events`` is answered here for its checks and its first bytes: the
article id, the caller (a bad token is 401 here as everywhere), the read limit, CORS and
the access log all come from the app as for any request; then ``retry:``, the events missed
since ``Last-Event-ID`` (or a ``reset``) and the newest id. Under the ASGI server
(service/asgi.py) the response then stays open: the server takes the stream over on its
event loop, with no thread held, and sends each new event and a heartbeat. Served as plain
WSGI, the response ends there and the client reconnects after ``retry`` with its last id:
polling, but nothing is lost while the buffer holds it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from ..auth import client_ip
from ..domain.threads import Viewer, article_for_listing
from ..enums import ArticleStatus
from ..extensions import db
from ..http import checked_article_id, read_limit, settings
from ..live import hub_of
from ..problems import Problem
from .blueprint import bp

# environ key: the ASGI server's handle for a stream it will hold open (service/asgi.py).
STREAM_KEY = "comments.live.stream"
RETRY_AFTER_SECONDS = 30


@bp.get("/articles/<article_id>/events")
@read_limit()
def article_events(article_id: str) -> Any:
    """Server-sent events of what an anonymous reader of the thread would see change."""
    checked_article_id(article_id)
    hub = hub_of()
    handle: dict[str, Any] | None = request.environ.get(STREAM_KEY)
    head, _ = article_for_listing(db.session(), article_id, Viewer())
    hidden = head is not None and head.status == ArticleStatus.HIDDEN
    replay = hub.replay(article_id, request.headers.get("Last-Event-ID") or None)
    body = b"retry: %d\n\n" % settings().sse_retry_ms
    # Nothing of a hidden article; otherwise what was missed, and in any case the newest
    # id (an event without data only sets it), so a reconnect resumes from here.
    if replay.body and not hidden:
        body += replay.body
    else:
        body += b"id: %s\n\n" % replay.head.encode()
    if handle is not None:
        ip = client_ip()
        if not hub.reserve(ip):
            raise Problem(
                429,
                f"This address already holds {hub.max_per_ip} open event streams; "
                "close one (another tab?) and try again.",
                type_="too-many-streams",
                title="Too many open streams",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        handle.update(stream=True, ip=ip, era=replay.era, seq=replay.seq)
    response = current_app.response_class(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # a buffering proxy would hold events back
    return response
