"""Which article a source thread becomes: a regular expression over its URL, a CSV of
``url,article_id``, or by default a slug of the URL's path. A thread that maps to nothing
(or to an id our rules refuse) is reported, never guessed."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from ..schemas import ARTICLE_ID_RE
from .records import SourceError, Thread

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(url: str) -> str | None:
    """'https://news.example/2024/05/Fed-holds-rates.html?x=1' -> '2024-05-fed-holds-rates-html'.
    The path only (the host and query are not part of what identifies an article on one site);
    None when the path is empty (a site's home page is not an article)."""
    path = urlsplit(url.strip()).path if "://" in url else url.split("?", 1)[0]
    value = _NOT_SLUG.sub("-", path.lower()).strip("-")
    return value[:200].rstrip("-") or None


@dataclass
class Mapper:
    pattern: re.Pattern[str] | None = None
    table: dict[str, str] | None = None

    @classmethod
    def from_options(cls, *, regex: str | None, csv_file: IO[str] | None) -> Mapper:
        if regex is not None and csv_file is not None:
            raise SourceError("choose one of --article-id-from-url and --map-csv")
        if regex is not None:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                raise SourceError(
                    f"--article-id-from-url is not a regular expression: {exc}"
                ) from None
            if "id" not in pattern.groupindex:
                raise SourceError("--article-id-from-url needs a named group (?P<id>...)")
            return cls(pattern=pattern)
        if csv_file is not None:
            table: dict[str, str] = {}
            for number, row in enumerate(csv.reader(csv_file), start=1):
                if not row or (
                    number == 1 and [c.strip().lower() for c in row[:2]] == ["url", "article_id"]
                ):
                    continue
                if len(row) < 2 or not row[0].strip() or not row[1].strip():
                    raise SourceError(f"--map-csv line {number}: expected url,article_id")
                table[_url_key(row[0])] = row[1].strip()
            return cls(table=table)
        return cls()

    def article_id(self, thread: Thread) -> tuple[str | None, str]:
        """(article id, '') or (None, why not)."""
        if not thread.url:
            return None, "thread has no URL"
        if self.pattern is not None:
            match = self.pattern.search(thread.url)
            if match is None or not match.group("id"):
                return None, "URL does not match --article-id-from-url"
            candidate: str | None = match.group("id")
        elif self.table is not None:
            candidate = self.table.get(_url_key(thread.url))
            if candidate is None:
                return None, "URL not in --map-csv"
        else:
            candidate = slug(thread.url)
            if candidate is None:
                return None, "URL has no path to make an article id of"
        if candidate is None or not ARTICLE_ID_RE.fullmatch(candidate):
            return None, "mapped article id breaks the article-id rules"
        return candidate, ""


def _url_key(url: str) -> str:
    """A CSV entry matches with or without a trailing slash."""
    return url.strip().rstrip("/")


def open_csv(path: str | Path) -> IO[str]:
    return open(path, newline="", encoding="utf-8-sig")
