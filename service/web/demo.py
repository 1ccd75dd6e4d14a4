"""Demo mode: the demo article, its identities and their tokens, and a seeded conversation.

Everything here writes through the domain functions, so the seeded thread has the same
counters, scores and tombstones as one written through the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import DEMO_KEY_ID, Settings
from ..domain.comments import Author, Rules, create_comment, delete_comment
from ..domain.reactions import react_to_comment
from ..models import Comment, utcnow

TOKEN_SECONDS = 3600

ARTICLE: dict[str, Any] = {
    "id": "alibaba-ai-push-qwen3",
    "section": "Technology · Markets",
    "title": "Alibaba doubles down on AI as Qwen3 pulls customers into its cloud",
    "standfirst": (
        "The Hangzhou group is spending heavily on data centres and giving away open models. "
        "Investors are asking when the cloud division's revenue will show it was worth it."
    ),
    "byline": "By the Ledger markets desk",
    "paragraphs": [
        "Alibaba has turned its artificial-intelligence push into the centre of its equity story. "
        "Management now describes the group less as an online marketplace with a cloud arm than "
        "as a cloud and AI company that also runs marketplaces, and it has promised to keep "
        "raising capital spending on servers and data centres for several years.",
        "The bet rests on Qwen, the family of large language models built by its cloud unit. "
        "The Qwen3 generation ships in sizes from small models that run on a laptop to large "
        "mixture-of-experts systems, most of them under an open licence. Developers can download "
        "and adapt the weights for free; the company earns money when they run the models, or "
        "the applications built on them, on Alibaba Cloud.",
        "That strategy is visible in the cloud division's results. Revenue growth has picked up "
        "after a slow period in which the unit walked away from low-margin hosting contracts, "
        "and the company says AI-related products have grown at triple-digit rates for several "
        "quarters in a row. Analysts caution that the AI share of revenue is still small and "
        "that price cuts on model access, common across China's crowded market, weigh on margins.",
        "Competition is fierce. Domestic rivals offer their own open models and cheap inference, "
        "and American export controls limit access to the most advanced chips, pushing Chinese "
        "providers to squeeze more out of older hardware and home-grown accelerators.",
        "For shareholders the question is timing. Heavy investment depresses free cash flow now; "
        "the payoff depends on enterprises moving real workloads onto Qwen-based services. "
        "The next few quarterly reports, and whether cloud growth keeps accelerating while "
        "spending rises, will show whether the market's renewed enthusiasm is justified.",
    ],
    "note": "Demo article written for this service's demonstration; no figures are quoted.",
}

# persona -> (user id, display name, roles); the guest has no token.
PERSONAS: dict[str, dict[str, Any]] = {
    "reader-a": {"label": "Reader A", "sub": "demo-reader-a", "name": "Mei Lin", "roles": []},
    "reader-b": {"label": "Reader B", "sub": "demo-reader-b", "name": "Daniel Okafor", "roles": []},
    "moderator": {
        "label": "Moderator",
        "sub": "demo-moderator",
        "name": "Desk Moderator",
        "roles": ["moderator"],
    },
    "guest": {"label": "Guest", "sub": None, "name": None, "roles": []},
}


def mint(persona: str, settings: Settings, now: float | None = None) -> dict[str, Any]:
    """A short-lived HS256 token for ``persona``, signed with the demo's own secret (never
    the site's COMMENTS_JWT_SECRET) and marked ``kid: demo`` so only demo mode accepts it."""
    who = PERSONAS[persona]
    if who["sub"] is None:
        return {"persona": persona, "token": None, "expires_in": None, "user": None}
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": who["sub"],
        "name": who["name"],
        "roles": who["roles"],
        "iat": issued,
        "exp": issued + TOKEN_SECONDS,
    }
    if not settings.demo_jwt_secret:
        raise RuntimeError("demo tokens exist only in demo mode")
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    token = jwt.encode(
        claims, settings.demo_jwt_secret, algorithm="HS256", headers={"kid": DEMO_KEY_ID}
    )
    return {
        "persona": persona,
        "token": token,
        "expires_in": TOKEN_SECONDS,
        "user": {"id": who["sub"], "name": who["name"], "roles": who["roles"]},
    }


# (key, parent key, author id, author name, minutes ago, body)
CONVERSATION: tuple[tuple[str, str | None, str, str, int, str], ...] = (
    (
        "capex",
        None,
        "demo-priya",
        "Priya Raman",
        290,
        "The capex guidance is the real story here. They are spending like a utility and asking "
        "to be valued like a software company. I want to see **cloud margins** move before I buy "
        "that.",
    ),
    (
        "capex-1",
        "capex",
        "demo-reader-b",
        "Daniel Okafor",
        250,
        "Fair, but the open-weights strategy means the model itself is a loss leader by design. "
        "The margin shows up in compute hours, not licences.",
    ),
    (
        "capex-2",
        "capex-1",
        "demo-priya",
        "Priya Raman",
        230,
        "Only if customers stay on Alibaba Cloud to run it. Open weights run anywhere.",
    ),
    (
        "capex-3",
        "capex-2",
        "demo-reader-a",
        "Mei Lin",
        200,
        "In practice most of the mid-sized firms I talk to take the managed version. Nobody wants "
        "to run their own GPU cluster for a chatbot.",
    ),
    (
        "chips",
        None,
        "demo-tom",
        "Tom Becker",
        180,
        "Nobody has mentioned export controls enough. Training the next generation on restricted "
        "hardware is a much harder problem than serving the current one.",
    ),
    (
        "chips-1",
        "chips",
        "demo-sofia",
        "Sofia Marques",
        150,
        "They have been surprisingly efficient so far. Efficiency under constraint is a moat of "
        "its own.",
    ),
    ("deleted", None, "demo-jin", "Jin Park", 120, "Buying more at these levels."),
    (
        "deleted-1",
        "deleted",
        "demo-reader-b",
        "Daniel Okafor",
        110,
        "On what thesis? The article says the AI share of revenue is still small.",
    ),
    (
        "pricing",
        None,
        "demo-reader-a",
        "Mei Lin",
        75,
        "The price war on inference worries me more than chips. Every provider in China has cut "
        "API prices at least twice this year.",
    ),
    (
        "pricing-1",
        "pricing",
        "demo-sofia",
        "Sofia Marques",
        40,
        "Lower prices are how you get the workloads in the first place. See how the cloud market "
        "played out elsewhere a decade ago.",
    ),
    (
        "question",
        None,
        "demo-omar",
        "Omar Haddad",
        12,
        "Does anyone have a good source on how much of the cloud growth is *external* customers "
        "rather than Alibaba's own businesses?",
    ),
)

# (comment key, kind, user ids)
REACTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("capex", "like", ("demo-reader-a", "demo-tom", "demo-sofia", "demo-omar", "demo-jin")),
    ("capex", "insightful", ("demo-reader-b", "demo-tom", "demo-omar")),
    ("capex", "disagree", ("demo-jin",)),
    ("capex-1", "like", ("demo-priya", "demo-reader-a")),
    ("capex-3", "insightful", ("demo-priya", "demo-reader-b", "demo-sofia")),
    ("chips", "like", ("demo-reader-b", "demo-sofia")),
    ("chips", "dislike", ("demo-jin",)),
    ("pricing", "agree", ("demo-reader-b", "demo-tom", "demo-omar")),
    ("pricing-1", "like", ("demo-omar",)),
    ("question", "like", ("demo-reader-a", "demo-priya")),
)

DELETED = ("deleted",)


def seed(session: Session, settings: Settings, now: dt.datetime | None = None) -> int:
    """Write the demo conversation once; returns how many comments it created (0 if the
    article already has comments)."""
    article_id = ARTICLE["id"]
    if session.execute(select(Comment.id).where(Comment.article_id == article_id).limit(1)).first():
        return 0
    now = now or utcnow()
    # Seeded comments are published whatever moderation the server runs with.
    rules = dataclasses.replace(
        Rules.from_settings(settings), premoderation="off", duplicate_window=dt.timedelta(0)
    )
    comments: dict[str, Comment] = {}
    for key, parent, user_id, name, minutes, body in CONVERSATION:
        created = create_comment(
            session,
            article_id=article_id,
            author=Author(user_id=user_id, name=name),
            body=body,
            parent_id=comments[parent].id if parent else None,
            rules=rules,
            now=now - dt.timedelta(minutes=minutes),
        )
        comments[key] = created.comment
    kinds = list(settings.reaction_kinds)
    for key, kind, users in REACTIONS:
        if kind not in kinds:
            continue
        for user_id in users:
            react_to_comment(
                session,
                comment=comments[key],
                user_id=user_id,
                kind=kind,
                kinds=kinds,
                add=True,
                now=now,
            )
    for key in DELETED:
        comment = comments[key]
        delete_comment(
            session,
            comment=comment,
            user_id=comment.author_id,
            guest_token_ok=False,
            is_moderator=False,
            now=now,
        )
    session.flush()
    return len(comments)
