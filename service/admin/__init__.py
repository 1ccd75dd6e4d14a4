"""The moderators' blueprint (/api/v1/admin): queue, actions, articles, bans, audit log,
people and figures, webhooks (admins only).

Every route needs a moderator (the token's ``roles`` holds ``moderator`` or ``admin``, or an
API key with one of those roles): anonymous callers get 401, everyone else 403. The check
runs for the whole blueprint, so a route added later cannot forget it.
"""

from __future__ import annotations

from . import articles, audit, bans, comments, stats, users, webhooks
from .blueprint import bp

__all__ = ["articles", "audit", "bans", "bp", "comments", "stats", "users", "webhooks"]
