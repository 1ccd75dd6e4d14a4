"""Counts for listing pages: many articles in one call."""

from __future__ import annotations

from typing import Any

from flask import request

from ..domain.reactions import counts_for
from ..errors import Problem
from ..extensions import db
from ..schemas import ARTICLE_ID_RULE, valid_article_id
from . import bp, read_limit

MAX_IDS = 100


@bp.get("/counts")
@read_limit()
def counts() -> dict[str, Any]:
    """{"counts": {id: {"comments", "reactions"}}} for up to 100 article_id parameters."""
    unknown = sorted(set(request.args) - {"article_id"})
    if unknown:
        raise Problem(422, f"Unknown query parameter(s): {', '.join(unknown)}.",
                      type_="validation-error", title="Invalid request",
                      errors={name: ["Unknown parameter."] for name in unknown})
    ids = list(dict.fromkeys(request.args.getlist("article_id")))
    if not ids:
        raise Problem(422, "Give at least one article_id.", type_="validation-error",
                      title="Invalid request", errors={"article_id": ["Required."]})
    if len(ids) > MAX_IDS:
        raise Problem(422, f"Give at most {MAX_IDS} article_id values (got {len(ids)}).",
                      type_="validation-error", title="Invalid request",
                      errors={"article_id": [f"At most {MAX_IDS}."]})
    bad = [i for i in ids if not valid_article_id(i)]
    if bad:
        raise Problem(422, f"article_id must be {ARTICLE_ID_RULE}.", type_="validation-error",
                      title="Invalid request", errors={"article_id": [ARTICLE_ID_RULE]})
    return {"counts": counts_for(db.session, ids)}
