"""GET /config: what a client needs to render the thread and its forms."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..enums import FlagReason, Sort
from ..http import read_limit
from .blueprint import bp


@bp.get("/config")
@read_limit()
def get_config() -> dict[str, Any]:
    """The reaction kinds, edit window, depth and body limits, and whether guests may post."""
    config = current_app.config
    return {
        "reaction_kinds": list(config["COMMENTS_REACTION_KINDS"]),
        "edit_window_seconds": config["COMMENTS_EDIT_WINDOW_SECONDS"],
        "max_depth": config["COMMENTS_MAX_DEPTH"],
        "allow_guests": config["COMMENTS_ALLOW_GUESTS"],
        "max_body_length": config["COMMENTS_MAX_BODY"],
        "replies_per_thread": config["COMMENTS_REPLIES_PER_THREAD"],
        "flag_reasons": [reason.value for reason in FlagReason],
        "sorts": [sort.value for sort in Sort],
    }
