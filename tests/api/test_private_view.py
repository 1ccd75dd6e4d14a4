"""Whether a signed-in reader sees more of a thread than the public does: only when they
author a comment of that article that only they can see (threads.article_for_listing).

A wrong answer one way serves them the public page without their own pending comment; the
other way costs every signed-in page the uncached path. Mistakes this catches: the
predicate's OR losing its parentheses (any shadowed comment anywhere would count), the
article or the author condition dropped (private comments of another thread, or of another
reader, would count).
"""

from __future__ import annotations

from sqlalchemy import update

from service.domain.threads import Viewer, article_for_listing
from service.enums import CommentStatus
from service.extensions import db
from service.models import Comment


def _set(session, comment_id: int, **values) -> None:
    session.execute(update(Comment).where(Comment.id == comment_id).values(**values))


def test_only_the_readers_own_hidden_comment_in_this_thread_makes_their_view_private(app, post):
    # The posts first, outside an app context: requests inside one would share its ``g``.
    ids = {}
    for key, article, user in (
        ("public", "a-1", "u-1"),
        ("pending", "a-1", "u-2"),
        ("shadowed", "a-1", "u-3"),
        ("elsewhere", "a-2", "u-1"),
        ("shadowed-pending", "a-1", "u-5"),
    ):
        response = post(article, f"{key} comment by {user}", user=user)
        assert response.status_code == 201, response.get_json()
        ids[key] = response.get_json()["id"]
    with app.app_context():
        _check(db.session, ids)


def _check(db_session, ids: dict[str, int]) -> None:
    _set(db_session, ids["pending"], status=CommentStatus.PENDING)
    _set(db_session, ids["shadowed"], shadowed=True)
    _set(db_session, ids["elsewhere"], status=CommentStatus.PENDING)
    _set(db_session, ids["shadowed-pending"], status=CommentStatus.REMOVED, shadowed=True)
    db_session.commit()

    def private(article: str, user: str) -> bool:
        head, seen_privately = article_for_listing(db_session, article, Viewer(user_id=user))
        assert head is not None and head.id == article
        return seen_privately

    assert private("a-1", "u-2")  # their comment awaits a moderator
    assert private("a-1", "u-3")  # written under a shadow ban: only they see it
    assert private("a-2", "u-1")
    assert not private("a-1", "u-1")  # their published comment is public; the pending one is a-2's
    assert not private("a-1", "u-4")  # nothing of theirs; others' hidden comments do not count
    assert not private("a-1", "u-5")  # removed, shadowed or not: nobody's to see
