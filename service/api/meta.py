"""GET /config: what a client needs to render the thread and its forms."""

from __future__ import annotations

from typing import Any

from ..enums import FlagReason, Sort
from ..http import read_limit, settings
from .blueprint import bp


@bp.get("/config")
@read_limit()
def get_config() -> dict[str, Any]:
    """The reaction kinds, edit window, depth and body limits, and whether guests may post."""
    s = settings()
    return {
        "reaction_kinds": list(s.reaction_kinds),
        "edit_window_seconds": s.edit_window_seconds,
        "max_depth": s.max_depth,
        "allow_guests": s.allow_guests,
        "max_body_length": s.max_body,
        "replies_per_thread": s.replies_per_thread,
        "flag_reasons": [reason.value for reason in FlagReason],
        "sorts": [sort.value for sort in Sort],
        # market features (docs/markets.md)
        "require_disclosure": s.require_disclosure,
        "ticker_url_template": s.ticker_url_template or None,
    }
