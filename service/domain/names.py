"""Display names (a guest's author_name, a token's name): what a name may contain.

A name is shown beside every comment, so it must not carry terminal escapes, line breaks,
bells, bidi controls that reverse what follows (U+202E), invisible characters, or a pile of
combining marks that overflows its line (#14 item 16).
"""

from __future__ import annotations

import unicodedata

MAX_MARKS_PER_LETTER = 2  # é, ệ and the like; "Zalgo" stacks dozens


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be shown as a name, or None."""
    marks = 0
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cc" or (category == "Zl" or category == "Zp"):
            return "Names cannot contain control characters or line breaks."
        if category == "Cf" or category == "Cs":
            return "Names cannot contain invisible or direction-changing characters."
        if category in ("Mn", "Me"):
            marks += 1
            if marks > MAX_MARKS_PER_LETTER:
                return f"At most {MAX_MARKS_PER_LETTER} accents or marks on one letter."
        else:
            marks = 0
    return None


def fallback_name(sub: str) -> str:
    """A name to show for a token without one: its `sub`, less what a name may not hold."""
    kept = "".join(
        ch for ch in sub if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")
    )
    out: list[str] = []
    marks = 0  # on the letter before, as kept: the marks beyond the limit go, not what follows
    for ch in kept:
        if unicodedata.category(ch) in ("Mn", "Me"):
            if marks >= MAX_MARKS_PER_LETTER:
                continue
            marks += 1
        else:
            marks = 0
        out.append(ch)
    return "".join(out).strip() or "Reader"
