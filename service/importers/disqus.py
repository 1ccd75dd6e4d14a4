"""Disqus: the XML export (Admin > Moderation > Export), streamed.

Shape (checked against Disqus's published schema http://disqus.com/api/schemas/1.0/disqus.xsd
as it appears in the export's own header, and the sample exports in Isso's and Remark42's test
data, see docs/import.md): a ``<disqus>`` root whose children are ``<category>``, then
``<thread dsq:id>`` (link, title, createdAt, isClosed, isDeleted, author), then ``<post
dsq:id>`` (message as HTML, createdAt, isDeleted, isSpam, author with name, email,
isAnonymous, username, ipAddress, ``<thread dsq:id>`` and an optional ``<parent dsq:id>``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .records import Post, Record, SourceError, State, Thread
from .sources import attr, children, local, parse_time, records_of, text, truthy


def parse(handle: Any) -> Iterator[Record]:
    """Records from a Disqus export (a binary file)."""
    seen_root = False
    for element in records_of(handle, 2, "Disqus export"):
        seen_root = True
        kind = local(element.tag)
        if kind == "thread":
            key = attr(element, "id")
            if not key:
                continue
            fields = children(element)
            created = text(fields.get("createdAt"))
            yield Thread(
                key=key,
                url=text(fields.get("link")) or None,
                title=text(fields.get("title")) or None,
                closed=truthy(text(fields.get("isClosed"))),
                deleted=truthy(text(fields.get("isDeleted"))),
                created_at=parse_time(created, what=f"thread {key} createdAt") if created else None,
            )
        elif kind == "post":
            yield _post(element)
    if not seen_root:
        raise SourceError("the Disqus export has no threads or posts")


def _post(element: Any) -> Post:
    fields = children(element)
    source_id = attr(element, "id") or text(fields.get("id"))
    if not source_id:
        raise SourceError("a Disqus post without a dsq:id")
    author = children(fields["author"]) if "author" in fields else {}
    anonymous = truthy(text(author.get("isAnonymous")))
    username = text(author.get("username"))
    if truthy(text(fields.get("isSpam"))):
        state = State.SPAM
    elif truthy(text(fields.get("isDeleted"))):
        state = State.DELETED
    elif "isApproved" in fields and not truthy(text(fields.get("isApproved"))):
        state = State.PENDING
    else:
        state = State.PUBLISHED
    created = text(fields.get("createdAt"))
    if not created:
        raise SourceError(f"Disqus post {source_id} has no createdAt")
    return Post(
        source_id=source_id,
        thread_key=attr(fields.get("thread"), "id"),
        parent_id=attr(fields.get("parent"), "id") or None,
        created_at=parse_time(created, what=f"post {source_id} createdAt"),
        body=(fields["message"].text or "") if "message" in fields else "",
        html=True,
        state=state,
        author_name=text(author.get("name")) or username or None,
        author_id=None if anonymous or not username else username,
        had_email=bool(text(author.get("email"))),
        had_ip=bool(text(fields.get("ipAddress"))),
    )
