"""Spam that learns from moderators: the features a comment is scored on, and which of a
moderator's decisions teach the model what.

The model itself (scikit-learn's HashingVectorizer + SGDClassifier, its seed training and
its storage) is service/spam/; this module decides, without scikit-learn or Flask:

- ``signals``: what a comment says beyond its words, as tokens appended to its text, so the
  one linear model learns a weight for each exactly as it does for words: links to chat and
  "signal group" domains (t.me, wa.me, discord.gg...), link shorteners, cashtag density, the
  account's age and record (its first comment here is the oldest fact we hold about it),
  and a burst of the same cashtag from new accounts;
- ``label_for``: a removal for spam or abuse teaches "spam"; an approval or dismissed flags
  teach "not spam"; other decisions teach nothing;
- ``decide``: held for review (reason ``spam_score``) at or above COMMENTS_SPAM_HOLD_SCORE.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Sequence, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, or_, select
from sqlalchemy.orm import Session

from ..enums import CommentStatus
from ..models import Comment, CommentSpam

# Where "DM me for signals" sends people: chat invites and messenger links.
CHAT_DOMAINS = (
    "t.me",
    "telegram.me",
    "telegram.dog",
    "wa.me",
    "chat.whatsapp.com",
    "whatsapp.com",
    "discord.gg",
    "discord.com",
    "discordapp.com",
    "signal.group",
    "signal.me",
    "kik.me",
    "line.me",
    "viber.com",
)
SHORTENERS = ("bit.ly", "tinyurl.com", "t.co", "goo.gl", "cutt.ly", "rb.gy", "is.gd", "ow.ly")
_DOMAIN = re.compile(r"(?i)(?:https?://|www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]|\b)")
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
# Cashtags: $BABA, $BRK.B, $9988.HK; never $5 or $100.
CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z]{1,6}(?:\.[A-Za-z]{1,4})?|[0-9]{1,6}\.[A-Za-z]{1,4})\b")
_WORD = re.compile(r"\w+")
# Handles and contact bait that need no link at all.
_HANDLE = re.compile(r"(?i)(?:^|\s)@[a-z0-9_]{4,}")
_PHONE = re.compile(r"\+?\d[\d\s-]{9,}\d")

NEW_ACCOUNT = dt.timedelta(hours=24)
ESTABLISHED_ACCOUNT = dt.timedelta(days=7)
BURST_WINDOW = dt.timedelta(minutes=10)
BURST_ACCOUNTS = 3  # new accounts' comments naming one cashtag within the window
MAX_CASHTAGS_STORED = 10
# Signals a new account sharpens (see ``signals``).
_SHARPENED = frozenset(
    {"sig_chat_link", "sig_short_link", "sig_contact", "sig_links_many", "sig_cashtags_dense"}
)


@dataclass(frozen=True)
class AccountFacts:
    """What this service knows of an author: when they first commented here and how their
    comments fared. ``first_seen`` None: never before (or a guest)."""

    first_seen: dt.datetime | None = None
    published: int = 0
    removed: int = 0
    guest: bool = False


@dataclass(frozen=True)
class Verdict:
    score: float
    signals: tuple[str, ...]
    cashtags: tuple[str, ...]
    new_account: bool
    hold: bool


def cashtags(text: str) -> list[str]:
    """The cashtags in ``text``, upper case, without ``$``, first mention order, unique."""
    seen: dict[str, None] = {}
    for match in CASHTAG.finditer(text):
        seen.setdefault(match.group(1).upper(), None)
    return list(seen)


def link_domains(text: str) -> list[str]:
    out = []
    for link in _LINK.findall(text):
        match = _DOMAIN.match(link)
        if match:
            out.append(match.group(1).lower().removeprefix("www."))
    # Bare "t.me/xyz" without a scheme is how these are usually written.
    for match in re.finditer(r"(?i)(?<![\w.])((?:[a-z0-9-]+\.)+[a-z]{2,})/\S+", text):
        out.append(match.group(1).lower().removeprefix("www."))
    return sorted(set(out))


def _matches(domain: str, names: Sequence[str]) -> bool:
    return any(domain == n or domain.endswith("." + n) for n in names)


def is_new(account: AccountFacts, now: dt.datetime) -> bool:
    return account.guest or account.first_seen is None or now - account.first_seen < NEW_ACCOUNT


def signals(
    text: str, *, account: AccountFacts, now: dt.datetime, burst: bool = False
) -> list[str]:
    """The feature tokens of one comment (each a word the model weighs like any other)."""
    out: list[str] = []
    domains = link_domains(text)
    if any(_matches(d, CHAT_DOMAINS) for d in domains):
        out.append("sig_chat_link")
    if any(_matches(d, SHORTENERS) for d in domains):
        out.append("sig_short_link")
    if domains:
        out.append("sig_link")
        out.append("sig_links_many" if len(domains) > 2 else "sig_links_few")
    if _HANDLE.search(text) or _PHONE.search(text):
        out.append("sig_contact")
    tags = cashtags(text)
    words = max(1, len(_WORD.findall(text)))
    # No bare "has a cashtag" token: naming a ticker is what readers here do; the tickers
    # themselves are words the model weighs, and only density is a signal.
    if len(tags) >= 3 or (len(tags) >= 2 and len(tags) / words > 0.15):
        out.append("sig_cashtags_dense")
    if account.guest:
        out.append("sig_account_guest")
    if is_new(account, now):
        # A new account is the normal case for a first comment, so it is no signal alone:
        # it only sharpens a spammy one (a linear model needs the conjunction spelled out).
        out.extend("sig_new_" + f.removeprefix("sig_") for f in list(out) if f in _SHARPENED)
    elif account.first_seen is not None and now - account.first_seen >= ESTABLISHED_ACCOUNT:
        out.append("sig_account_established")
    if account.removed >= 2 and account.removed >= account.published:
        out.append("sig_record_removed")
    elif account.published >= 5 and account.removed == 0:
        out.append("sig_record_clean")
    if burst:
        out.append("sig_burst")
    return out


def model_text(body: str, features: Sequence[str]) -> str:
    """What the model reads: the body, its link domains as words, and the signals."""
    domains = " ".join("dom_" + re.sub(r"\W", "_", d) for d in link_domains(body))
    return f"{body}\n{domains} {' '.join(features)}"


def label_for(action: str, reason: str | None) -> int | None:
    """What a moderator's decision teaches: 1 spam, 0 not spam, None nothing."""
    if action == "remove":
        words = re.findall(r"[a-z]+", (reason or "").lower())
        return 1 if words and words[0] in ("spam", "abuse") else None
    if action in ("approve", "dismiss_flags"):
        return 0
    return None


# What a comment must carry besides its words before the model's score alone may hold it:
# a way to reach the spammer (a link, a handle, a number), a wall of tickers, a burst of one
# ticker from new accounts, or an author whose comments moderators keep removing. A short
# comment with none of these can't promote anything, and a bag-of-words model reads too
# little in a few words to be trusted with it ("Link me." once scored 0.96): flags and the
# moderators handle those.
EVIDENCE = frozenset(
    {
        "sig_chat_link",
        "sig_short_link",
        "sig_link",
        "sig_contact",
        "sig_cashtags_dense",
        "sig_burst",
        "sig_record_removed",
    }
)
WORDS_ALONE = 12  # from this many words, the words alone may be evidence enough


def decide(
    score: float,
    features: Sequence[str],
    tags: Sequence[str],
    *,
    account: AccountFacts,
    now: dt.datetime,
    hold_score: float,
    words: int = WORDS_ALONE,
) -> Verdict:
    """``words``: how many words the body has (short bodies need EVIDENCE to be held)."""
    evidence = words >= WORDS_ALONE or any(f in EVIDENCE for f in features)
    return Verdict(
        score=score,
        signals=tuple(features),
        cashtags=tuple(tags[:MAX_CASHTAGS_STORED]),
        new_account=is_new(account, now),
        hold=score >= hold_score and evidence,
    )


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


# --- what the database says -----------------------------------------------------------------


# Built once: every comment but a moderator's is scored, and building this statement (its
# CASEs and their cache key) cost five times what running it does (433 us against 84 us).
# The table's columns, not the model's attributes: those take the ORM's execution path (~35 us
# more for the same SQL and row).
_C = cast(Table, Comment.__table__).c
_ACCOUNT_FACTS = select(
    func.min(_C.created_at),
    func.sum(case((_C.status == CommentStatus.PUBLISHED, 1), else_=0)),
    func.sum(case((_C.status == CommentStatus.REMOVED, 1), else_=0)),
).where(_C.author_id == bindparam("user_id"))


def account_facts(session: Session, user_id: str | None) -> AccountFacts:
    """The author's first comment time and record, in one query (guests: no record)."""
    if user_id is None:
        return AccountFacts(guest=True)
    row = session.execute(_ACCOUNT_FACTS, {"user_id": user_id}).one()
    # MIN keeps its column's type (UTCDateTime): an aware UTC datetime on either database,
    # or None for an author without comments.
    return AccountFacts(first_seen=row[0], published=int(row[1] or 0), removed=int(row[2] or 0))


def burst(session: Session, tags: Sequence[str], now: dt.datetime) -> bool:
    """Did new accounts post BURST_ACCOUNTS or more comments naming one of ``tags`` within
    BURST_WINDOW (this one not counted yet)?"""
    if not tags:
        return False
    # Spaces delimit the stored tags, so LIKE '% BABA %' never matches BABAX.
    wanted = or_(*(CommentSpam.cashtags.like(f"% {t} %") for t in tags[:3]))
    n = session.scalar(
        select(func.count())
        .select_from(CommentSpam)
        .where(
            and_(
                CommentSpam.created_at >= now - BURST_WINDOW,
                CommentSpam.new_account.is_(True),
                wanted,
            )
        )
    )
    return int(n or 0) >= BURST_ACCOUNTS - 1


# A plain INSERT: nothing reads the row back in the request that scores the comment, and the
# ORM's unit of work for one new object cost more than the statement.
_STORE = insert(cast(Table, CommentSpam.__table__))


def store(session: Session, *, comment_id: int, verdict: Verdict, now: dt.datetime) -> None:
    session.execute(
        _STORE,
        {
            "comment_id": comment_id,
            "score": verdict.score,
            "signals": list(verdict.signals),
            "cashtags": (" " + " ".join(verdict.cashtags) + " ") if verdict.cashtags else None,
            "new_account": verdict.new_account,
            "created_at": now,
        },
    )


def scores_for(session: Session, comment_ids: Sequence[int]) -> dict[int, float]:
    """Spam scores of many comments, in one query (comments never scored are missing)."""
    if not comment_ids:
        return {}
    return {
        cid: float(score)
        for cid, score in session.execute(
            select(CommentSpam.comment_id, CommentSpam.score).where(
                CommentSpam.comment_id.in_(list(comment_ids))
            )
        )
    }


def training_example(session: Session, comment_id: int) -> tuple[str, list[str]] | None:
    """(body, signals as scored) of a comment a moderator decided on; None when its text is
    gone (deleted by its author, or erased)."""
    row = session.execute(
        select(Comment.body, CommentSpam.signals)
        .outerjoin(CommentSpam, CommentSpam.comment_id == Comment.id)
        .where(Comment.id == comment_id)
    ).first()
    if row is None or not row[0]:
        return None
    features: Any = row[1] or []
    return row[0], [str(f) for f in features]
