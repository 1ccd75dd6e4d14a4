"""Commento and Commento++: the JSON export (Dashboard > General > Export data).

Shape (checked against Commento's api/domain_export.go, api/comment.go and api/commenter.go,
as Remark42's migrator and its test sample read them, see docs/import.md): ``{"version": 1,
"comments": [{"commentHex", "domain", "url" (the page path), "commenterHex" ("anonymous" for
guests), "markdown", "html", "parentHex" ("root" at the top), "score", "state" (approved,
unapproved, flagged), "creationDate", "deleted"}], "commenters": [{"commenterHex", "email",
"name", ...}]}``. Commenters come after the comments, so the file is read whole (Commento's
own importer does the same). Scores are numbers without voters (reported, not imported).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .records import Post, Record, SourceError, State, Thread
from .sources import parse_time

STATES = {"approved": State.PUBLISHED, "unapproved": State.PENDING, "flagged": State.PENDING}


def parse(handle: Any) -> Iterator[Record]:
    try:
        data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"the Commento export is not valid JSON ({exc}); is it truncated?"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        raise SourceError('not a Commento export: no "comments" list')
    if data.get("version") != 1:
        raise SourceError(f"unsupported Commento export version {data.get('version')!r}")
    commenters = {
        c.get("commenterHex"): c for c in data.get("commenters") or [] if isinstance(c, dict)
    }
    seen: set[str] = set()
    for number, comment in enumerate(data["comments"], start=1):
        if not isinstance(comment, dict) or not comment.get("commentHex"):
            raise SourceError(f"Commento comment {number} has no commentHex")
        domain, path = comment.get("domain") or "", comment.get("url") or ""
        url = f"https://{domain}{path}" if domain else path
        if url not in seen:
            seen.add(url)
            yield Thread(key=url, url=url or None)
        author = commenters.get(comment.get("commenterHex")) or {}
        anonymous = comment.get("commenterHex") in (None, "", "anonymous") or not author
        state = STATES.get(comment.get("state") or "approved", State.PENDING)
        if comment.get("deleted"):
            state = State.DELETED
        parent = comment.get("parentHex")
        markdown = comment.get("markdown")
        yield Post(
            source_id=str(comment["commentHex"]),
            thread_key=url,
            parent_id=str(parent) if parent and parent != "root" else None,
            created_at=parse_time(str(comment.get("creationDate", "")), what=f"comment {number}"),
            body=str(markdown if markdown is not None else comment.get("html") or ""),
            html=markdown is None,
            state=state,
            author_name=author.get("name") if not anonymous else "Anonymous",
            author_id=None if anonymous else str(comment["commenterHex"]),
            had_email=bool(author.get("email")),
            anonymous_votes=abs(int(comment.get("score") or 0)),
        )
