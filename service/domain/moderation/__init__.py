"""Moderation rules, free of Flask, one idea per module:

- auto_rules: automatic holds (blocked terms, too many links)
- flags: readers' flags and their weights
- holds: holding a comment, and the snapshot the audit log keeps
- actions: a moderator's decision on one comment (a table of handlers)
- articles: an article's status and premoderation switch
- bans: bans and shadow bans
- erasure: erasing a user
- queue: the moderation queue

Functions take the session and keyword-only arguments, flush, and leave the commit to the
view. Every decision that changes what readers see writes an audit entry in the same
transaction (``audit.record``). Everything is re-exported here, so
``from service.domain.moderation import add_flag`` keeps working.
"""

from __future__ import annotations

from ...enums import HeldReason, ModerationAction
from ..comments import auto_closed
from .actions import ACTIONS, apply_action
from .articles import article_settings, update_article
from .auto_rules import (
    AutoRules,
    TermsCache,
    compile_terms,
    count_links,
    normalise,
    read_terms_file,
)
from .bans import ban_out, lift_ban, put_ban
from .erasure import erase_user
from .flags import (
    MAX_FLAG_WEIGHT,
    MIN_FLAG_WEIGHT,
    NEW_ACCOUNT_FLAG_WEIGHT,
    FlagResult,
    add_flag,
    flag_weight,
    flagger_record,
    is_established,
)
from .holds import audit_hold, hold_edited, snapshot
from .queue import (
    NOTES_PER_COMMENT,
    QUEUE_KEYS,
    QUEUE_STATES,
    author_records,
    flag_context,
    queue_condition,
    queue_key,
    queue_page,
    queue_query,
    queue_sizes,
)

# Why a comment waits (Comment.held_reason): the names used before HeldReason.
HELD_PREMODERATION = HeldReason.PREMODERATION
HELD_BLOCKED_TERM = HeldReason.BLOCKED_TERM
HELD_LINKS = HeldReason.LINKS
HELD_FLAGS = HeldReason.FLAGS

__all__ = [
    "ACTIONS",
    "HELD_BLOCKED_TERM",
    "HELD_FLAGS",
    "HELD_LINKS",
    "HELD_PREMODERATION",
    "MAX_FLAG_WEIGHT",
    "MIN_FLAG_WEIGHT",
    "NEW_ACCOUNT_FLAG_WEIGHT",
    "NOTES_PER_COMMENT",
    "QUEUE_KEYS",
    "QUEUE_STATES",
    "AutoRules",
    "FlagResult",
    "HeldReason",
    "ModerationAction",
    "TermsCache",
    "add_flag",
    "apply_action",
    "article_settings",
    "audit_hold",
    "author_records",
    "flag_context",
    "auto_closed",
    "ban_out",
    "compile_terms",
    "count_links",
    "erase_user",
    "flag_weight",
    "flagger_record",
    "hold_edited",
    "is_established",
    "lift_ban",
    "normalise",
    "put_ban",
    "queue_condition",
    "queue_key",
    "queue_page",
    "queue_query",
    "queue_sizes",
    "read_terms_file",
    "snapshot",
    "update_article",
]
