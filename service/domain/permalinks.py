"""Permalinks: one comment shown in place, inside its thread (issue #16).

``GET /comments/{id}/context`` answers with the comment's top-level ancestor and the branch
down to it, so a page opened at ``#comment-{id}`` can show a deep reply that is not on the
thread's first page. Each ancestor's replies are what the listing nests under that
top-level comment (its first ``per_root`` visible replies, oldest first) plus the next
ancestor, so the branch is never cut. Visibility is the listing's: if the viewer may not
see the comment, one of its ancestors (a pending or hidden parent leaves a hole the listing
does not show either) or the article, it does not exist for them.

Three queries whatever the depth:
  1. the comment and its article's status,
  2. the ancestors and the replies the listing nests under the top-level one,
  3. reaction counts and the viewer's own reactions (one UNION, as in the listing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from ..enums import ArticleStatus
from ..models import Article, Comment
from .errors import RuleError
from .threads import (
    Node,
    Viewer,
    ancestor_ids,
    build_tree,
    comment_visible,
    reactions_for,
    visible_to,
)

NOT_FOUND = "There is no such comment."


@dataclass
class Context:
    """The top-level ancestor with the branch down to ``target_id`` nested in it."""

    root: Node
    target_id: int
    reactions: dict[int, dict[str, int]]
    mine: dict[int, list[str]]
    # Paths of the viewer's own shadowed comments in the article (see threads.reactions_for)
    own_shadowed: list[str] = field(default_factory=list)


def _not_found() -> RuleError:
    # The same answer whether the comment is missing or only hidden from this viewer.
    return RuleError(404, NOT_FOUND, kind="not-found")


def comment_in_context(
    session: Session, *, comment_id: int, viewer: Viewer, per_root: int
) -> Context:
    row = session.execute(
        select(Comment, Article.status)
        .outerjoin(Article, Article.id == Comment.article_id)
        .where(Comment.id == comment_id)
    ).first()
    if row is None:
        raise _not_found()
    target, article_status = row
    if article_status == ArticleStatus.HIDDEN and not viewer.is_moderator:
        raise _not_found()
    if not comment_visible(target, viewer):
        raise _not_found()
    chain = ancestor_ids(target.path)  # top-level first
    root_id = chain[0] if chain else target.id
    # What the listing nests under the root (threads.first_replies, for one root) ...
    rank = func.row_number().over(partition_by=Comment.root_id, order_by=Comment.id).label("rank")
    listed = (
        select(Comment.id.label("cid"), rank)
        .where(Comment.root_id == root_id, visible_to(viewer))
        .subquery()
    )
    # ... and the branch itself, by primary key: one semi-join, never a scan of the article.
    wanted = union(
        select(listed.c.cid).where(listed.c.rank <= per_root),
        select(Comment.id).where(Comment.id.in_([*chain, target.id])),
    ).subquery()
    rows = list(
        session.scalars(
            select(Comment).where(Comment.id.in_(select(wanted.c.cid))).order_by(Comment.id)
        )
    )
    by_id = {c.id: c for c in rows}
    for ancestor in chain:
        comment = by_id.get(ancestor)
        if comment is None or not comment_visible(comment, viewer):
            raise _not_found()
    root = by_id[root_id]
    replies = [c for c in rows if c.id != root_id]  # in id order: parents before children
    own_shadowed: list[str] = []
    reactions, mine = reactions_for(
        session,
        [c.id for c in rows],
        viewer.user_id,
        shadowed_in=target.article_id if viewer.user_id else None,
        own_shadowed=own_shadowed,
    )
    return Context(build_tree([root], replies)[0], target.id, reactions, mine, own_shadowed)


__all__ = ["Context", "NOT_FOUND", "comment_in_context"]
