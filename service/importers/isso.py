"""Isso: its SQLite database file, or the generic JSON that Isso itself imports.

Database shape (checked against Isso's isso/db/comments.py and isso/db/threads.py, see
docs/import.md): ``threads(id, uri, title)`` and ``comments(tid, id, parent, created,
modified, mode, remote_addr, text, author, email, website, likes, dislikes, voters, ...)``,
``created`` in Unix seconds, ``mode`` 1 published, 2 pending, 4 deleted, ``text`` Markdown.
Isso has no accounts: every author is a guest. Likes are counts without voters (reported).

Generic JSON (Isso's isso/migrate.py ``Generic`` and its test sample): a list of threads
``{"id": uri, "title", "comments": [{"id", "author", "email", "website", "remote_addr",
"created": "YYYY-MM-DD HH:MM:SS", "text"}]}``; ids count per thread. It is one JSON document,
read whole (such files are small; a large site would export Isso's database instead).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .records import Post, Record, SourceError, State, Thread
from .sources import parse_time

SQLITE_MAGIC = b"SQLite format 3\x00"
MODES = {1: State.PUBLISHED, 2: State.PENDING, 4: State.DELETED}


def is_database(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(16) == SQLITE_MAGIC


def parse_database(path: str | Path) -> Iterator[Record]:
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"cannot open the Isso database: {exc}") from None
    try:
        try:
            threads = conn.execute("SELECT id, uri, title FROM threads ORDER BY id").fetchall()
            rows = conn.execute(
                "SELECT tid, id, parent, created, mode, remote_addr, text, author, email, "
                "likes, dislikes FROM comments ORDER BY id"
            )
        except sqlite3.Error as exc:
            raise SourceError(f"not an Isso database ({exc})") from None
        for tid, uri, title in threads:
            yield Thread(key=str(tid), url=uri, title=title)
        try:
            for tid, cid, parent, created, mode, addr, body, author, email, likes, dislikes in rows:
                state = MODES.get(mode)
                if state is None:
                    raise SourceError(f"Isso comment {cid} has an unknown mode {mode!r}")
                yield Post(
                    source_id=str(cid),
                    thread_key=str(tid),
                    parent_id=str(parent) if parent is not None else None,
                    created_at=dt.datetime.fromtimestamp(float(created), dt.UTC),
                    body=body or "",
                    html=False,
                    state=state,
                    author_name=author,
                    had_email=bool(email),
                    had_ip=bool(addr),
                    anonymous_votes=(likes or 0) + (dislikes or 0),
                )
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"the Isso database is damaged: {exc}") from None
    finally:
        conn.close()


def parse_json(handle: Any) -> Iterator[Record]:
    try:
        data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"the Isso JSON file is not valid JSON ({exc}); is it truncated?"
        ) from None
    if not isinstance(data, list):
        raise SourceError("the Isso JSON file must be a list of threads")
    for number, thread in enumerate(data, start=1):
        if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
            raise SourceError(f'Isso JSON thread {number}: needs an "id" (the page URI)')
        uri = thread["id"]
        yield Thread(key=uri, url=uri, title=thread.get("title"))
        for comment in thread.get("comments") or []:
            if not isinstance(comment, dict) or "id" not in comment or "created" not in comment:
                raise SourceError(f"Isso JSON thread {uri}: a comment lacks id or created")
            parent = comment.get("parent")
            yield Post(
                source_id=f"{uri}#{comment['id']}",
                thread_key=uri,
                parent_id=f"{uri}#{parent}" if parent is not None else None,
                created_at=parse_time(str(comment["created"]), what=f"{uri} comment created"),
                body=str(comment.get("text") or ""),
                html=False,
                author_name=comment.get("author"),
                had_email=bool(comment.get("email")),
                had_ip=bool(comment.get("remote_addr")),
            )
