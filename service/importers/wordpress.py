"""WordPress: the WXR file (Tools > Export > All content, or `wp export`), streamed.

Shape (checked against WordPress's exporter, wp-admin/includes/export.php, which writes WXR
1.2, and the sample in Isso's test data, see docs/import.md): ``rss > channel > item`` per
post, with ``link``, ``title``, ``wp:post_id``, ``wp:post_date_gmt``, ``wp:comment_status``
(open/closed), ``wp:status`` and ``wp:comment`` children: ``wp:comment_id``,
``wp:comment_author``, ``wp:comment_author_email``, ``wp:comment_author_IP``,
``wp:comment_date_gmt``, ``wp:comment_content``, ``wp:comment_approved`` (1, 0, spam,
trash), ``wp:comment_type`` ('', comment, pingback, trackback), ``wp:comment_parent`` and
``wp:comment_user_id`` (0 for a visitor). Any wp namespace version (1.0 to 1.2) is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import Element

from .records import Note, Post, Record, SourceError, State, Thread
from .sources import children, local, parse_time, records_of, text

STATES = {"1": State.PUBLISHED, "0": State.PENDING, "spam": State.SPAM, "trash": State.DELETED}
_BLOCK = re.compile(r"<(p|div|ul|ol|blockquote|pre|table)\b", re.IGNORECASE)


def parse(handle: Any) -> Iterator[Record]:
    """Records from a WXR file (a binary file)."""
    for element in records_of(handle, 3, "WordPress (WXR)"):
        if local(element.tag) != "item":
            continue
        fields = children(element)
        key = text(fields.get("post_id")) or text(fields.get("link"))
        if not key:
            continue
        created = text(fields.get("post_date_gmt"))
        yield Thread(
            key=key,
            url=text(fields.get("link")) or None,
            title=text(fields.get("title")) or None,
            closed=text(fields.get("comment_status")) == "closed",
            deleted=text(fields.get("status")) == "trash",
            created_at=_time(created, f"post {key}") if created else None,
        )
        for child in element:
            if local(child.tag) == "comment":
                record = _comment(child, key)
                if record is not None:
                    yield record


def _time(value: str, what: str) -> Any:
    if value.startswith("0000-00-00"):  # WordPress's "no date" (drafts)
        return None
    return parse_time(value, what=what)


def autop(content: str) -> str:
    """WordPress stores comments as text with line breaks and shows them through wpautop
    (blank line: paragraph, line break: <br>); do the same before converting, or the
    converter would run the lines together."""
    if _BLOCK.search(content):
        return content
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", content.strip()) if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br>\n") + "</p>" for p in paragraphs)


def _comment(element: Element, thread_key: str) -> Record | None:
    fields = children(element)
    source_id = text(fields.get("comment_id"))
    if not source_id:
        raise SourceError(f"a WordPress comment on post {thread_key} without a comment_id")
    kind = text(fields.get("comment_type"))
    if kind in ("pingback", "trackback"):
        return Note(f"{kind}s (not comments)")
    approved = text(fields.get("comment_approved"))
    state = STATES.get(approved)
    if state is None:
        return Note(f"comments with an unknown approval state ({approved or 'empty'})")
    created = text(fields.get("comment_date_gmt"))
    if not created or created.startswith("0000-00-00"):
        created = text(fields.get("comment_date"))
    if not created:
        raise SourceError(f"WordPress comment {source_id} has no date")
    user = text(fields.get("comment_user_id"))
    parent = text(fields.get("comment_parent"))
    content = fields["comment_content"].text or "" if "comment_content" in fields else ""
    return Post(
        source_id=source_id,
        thread_key=thread_key,
        parent_id=parent if parent and parent != "0" else None,
        created_at=parse_time(created, what=f"comment {source_id} date"),
        body=autop(content),
        html=True,
        state=state,
        author_name=text(fields.get("comment_author")) or None,
        author_id=user if user and user != "0" else None,
        had_email=bool(text(fields.get("comment_author_email"))),
        had_ip=bool(text(fields.get("comment_author_IP"))),
    )
