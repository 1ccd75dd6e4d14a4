"""Engagement and moderation figures."""

from __future__ import annotations

from typing import Any

from flask import request

from ..domain.stats import moderation_stats
from ..extensions import db
from ..http import write_limit
from ..schemas import load_query
from .blueprint import bp
from .schemas import StatsQuerySchema


@bp.get("/stats")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def stats() -> dict[str, Any]:
    """Comments and reactions per day (UTC) over ``?days=`` (default 30), the most discussed
    articles, flags by reason, queue sizes and the median time to a moderator's decision."""
    args = load_query(StatsQuerySchema(), request.args)
    return moderation_stats(db.session(), days=args["days"])
