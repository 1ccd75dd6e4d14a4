"""Remark42: a backup file (the admin's "export", or `remark42 backup`), streamed.

Shape (checked against Remark42's backend/app/migrator/native.go and its tests, and the
store.Comment JSON fields, see docs/import.md): line one is a meta object ``{"version": 1,
"users": [...], "posts": [{"url", "read_only"}]}``, then one comment object per line:
``{"id", "pid", "text" (HTML), "user": {"name", "id", "ip", "admin"}, "locator": {"site",
"url"}, "score", "votes": {user id: true|false}, "time", "delete", ...}``. Backups are often
gzip-compressed; both are read. Users whose id starts with ``anonymous_`` are guests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .records import Post, Record, SourceError, State, Thread, Vote
from .sources import parse_time


def parse(handle: Any) -> Iterator[Record]:
    """Records from a Remark42 backup (a binary file, one JSON object per line)."""
    closed: set[str] = set()
    seen: set[str] = set()
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(
                f"line {number} of the Remark42 backup is not JSON ({exc}); is it truncated?"
            ) from None
        if number == 1:
            if not isinstance(obj, dict) or obj.get("version") not in (0, 1):
                raise SourceError('not a Remark42 backup: line 1 must be {"version": 1, ...}')
            closed = {p["url"] for p in obj.get("posts") or [] if p.get("read_only")}
            continue
        if (
            not isinstance(obj, dict)
            or not obj.get("id")
            or not isinstance(obj.get("locator"), dict)
        ):
            raise SourceError(f"line {number} of the Remark42 backup is not a comment")
        url = obj["locator"].get("url") or ""
        if url not in seen:
            seen.add(url)
            yield Thread(key=url, url=url, closed=url in closed)
        user = obj.get("user") or {}
        user_id = str(user.get("id") or "")
        votes = obj.get("votes") or {}
        yield Post(
            source_id=str(obj["id"]),
            thread_key=url,
            parent_id=str(obj["pid"]) if obj.get("pid") else None,
            created_at=parse_time(str(obj.get("time", "")), what=f"line {number} time"),
            body=str(obj.get("text") or ""),
            html=True,
            state=State.DELETED if obj.get("delete") else State.PUBLISHED,
            author_name=user.get("name"),
            author_id=None if not user_id or user_id.startswith("anonymous_") else user_id,
            had_ip=bool(user.get("ip")),
            votes=tuple(Vote(str(k), bool(v)) for k, v in votes.items()),
            line=number,
        )
