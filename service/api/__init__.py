"""The public API blueprint (/api/v1): one module per resource, thin views.

``bp`` and its hooks live in blueprint.py and the helpers every blueprint shares in
service/http.py, so the resource modules import neither this package nor one another's
parents; importing them here registers their routes.
"""

from __future__ import annotations

from . import (
    articles,
    comments,
    counts,
    events,
    flags,
    markets,
    meta,
    notifications,
    permalinks,
    preview,
    reactions,
)
from .blueprint import bp

__all__ = [
    "articles",
    "bp",
    "comments",
    "counts",
    "events",
    "flags",
    "markets",
    "meta",
    "notifications",
    "permalinks",
    "preview",
    "reactions",
]
