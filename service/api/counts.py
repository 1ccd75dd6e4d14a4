"""Counts for listing pages: many articles in one call."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import current_app, request

from ..auth import current_caller
from ..cache import pack, unpack
from ..domain.reactions import counts_for, own_uncounted_counts
from ..extensions import db
from ..http import page_cache, read_limit, settings
from ..problems import Problem
from ..schemas import ARTICLE_ID_RULE, valid_article_id
from .blueprint import bp

MAX_IDS = 100


def _now() -> float:
    return time.time()


@bp.get("/counts")
@read_limit()
def counts() -> Any:
    """{"counts": {id: {"comments", "reactions"}}} for up to 100 article_id parameters.

    A listing page asks for the same ids for every reader, so answers are kept for
    COMMENTS_COUNTS_CACHE_SECONDS (default 1 s) in the page cache, keyed by the query string
    and the current time slot: a count can lag a write by that long (browsers and CDNs keep
    it 30 s anyway). Only valid requests are stored, so a hit needs no checking."""
    caller = current_caller()
    if caller.is_authenticated and caller.user_id:
        return _own_counts(caller.user_id)
    cache, ttl = page_cache(), settings().counts_cache_seconds
    key = None
    if cache is not None and ttl > 0:
        key = ":".join(
            (
                "counts",
                str(ttl),
                str(int(_now() // ttl)),
                hashlib.sha256(request.query_string).hexdigest(),
            )
        )
        hit = cache.get(key)
        if hit is not None:
            etag, body = unpack(hit)
            stored = current_app.response_class(body, mimetype="application/json")
            stored.set_etag(etag)
            return stored
    response: Any = current_app.json.response({"counts": _counts()})
    if cache is not None and key is not None:
        response.add_etag()
        cache.set(key, pack(response.get_etag()[0] or "", response.get_data()))
    return response


def _own_counts(user_id: str) -> dict[str, Any]:
    """A signed-in caller's counts: public ones, plus what their own writes would add had a
    shadow ban not kept them out (never stored: they are this caller's alone)."""
    counts = _counts()
    for article_id, extra in own_uncounted_counts(db.session(), list(counts), user_id).items():
        counts[article_id]["comments"] += extra["comments"]
        counts[article_id]["reactions"] += extra["reactions"]
    return {"counts": counts}


def _counts() -> dict[str, Any]:
    unknown = sorted(set(request.args) - {"article_id"})
    if unknown:
        raise Problem(
            422,
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            type_="validation-error",
            title="Invalid request",
            errors={name: ["Unknown parameter."] for name in unknown},
        )
    ids = list(dict.fromkeys(request.args.getlist("article_id")))
    if not ids:
        raise Problem(
            422,
            "Give at least one article_id.",
            type_="validation-error",
            title="Invalid request",
            errors={"article_id": ["Required."]},
        )
    if len(ids) > MAX_IDS:
        raise Problem(
            422,
            f"Give at most {MAX_IDS} article_id values (got {len(ids)}).",
            type_="validation-error",
            title="Invalid request",
            errors={"article_id": [f"At most {MAX_IDS}."]},
        )
    bad = [i for i in ids if not valid_article_id(i)]
    if bad:
        raise Problem(
            422,
            f"article_id must be {ARTICLE_ID_RULE}.",
            type_="validation-error",
            title="Invalid request",
            errors={"article_id": [ARTICLE_ID_RULE]},
        )
    return counts_for(db.session(), ids)
