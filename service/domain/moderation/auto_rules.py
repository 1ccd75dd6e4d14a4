"""Automatic holds: blocked terms (a file re-read when it changes) and too many links."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Iterable

from ...enums import (
    HeldReason,
)
from .. import bodies

log = logging.getLogger(__name__)


def normalise(text: str) -> str:
    """The form blocked terms are matched in: ``bodies.fold`` (compatibility forms, combining
    marks, invisible characters, lookalikes from other scripts, case)."""
    return bodies.fold(text)


def compile_terms(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any term as a whole word (a term may be a phrase: its spaces
    match any run of whitespace). None when there are no terms."""
    parts = []
    for raw in terms:
        term = normalise(raw).strip()
        if not term or term.startswith("#"):
            continue
        words = [re.escape(w) for w in term.split()]
        parts.append(r"\s+".join(words))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def read_terms_file(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']+", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\s[^>]*>.*?</a>", re.IGNORECASE | re.DOTALL)


def count_links(body: str) -> int:
    """Links a reader would see: rendered Markdown links plus bare URLs in the text
    (linkify is off, but a bare URL is still an invitation to copy and paste)."""
    html = bodies.render(body)
    anchors = bodies.count_links(html)
    rest = _ANCHOR.sub(" ", html)
    return anchors + len(_URL.findall(normalise(rest)))


@dataclass(frozen=True)
class AutoRules:
    """What holds a new or edited comment for a moderator."""

    blocked: re.Pattern[str] | None = None
    max_links: int = 3

    def hold_reason(self, body: str) -> str | None:
        """``blocked_term`` or ``links`` when a rule holds this body, else None."""
        # The text a reader sees (`cas**ino**`, `cas&#105;no`), and the source as well, so a
        # term inside a link's address still holds the comment.
        if self.blocked is not None and (
            self.blocked.search(normalise(bodies.plain_text(body)))
            or self.blocked.search(normalise(body))
        ):
            return HeldReason.BLOCKED_TERM
        if self.max_links >= 0 and count_links(body) > self.max_links:
            return HeldReason.LINKS
        return None


class TermsCache:
    """Blocked terms read from a file, re-read when the file changes, so moderators can edit
    the list without a restart. If the file disappears the last good list stays in force."""

    def __init__(self) -> None:
        self._key: tuple[str, float] | None = None
        self._pattern: re.Pattern[str] | None = None

    def pattern(self, path: str | None) -> re.Pattern[str] | None:
        if not path:
            return None
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            log.warning("blocked terms file %s is unreadable; keeping the last list", path)
            return self._pattern
        if self._key != (path, mtime):
            self._pattern = compile_terms(read_terms_file(path))
            self._key = (path, mtime)
        return self._pattern
