"""GET /comments/{id}/context (#16): a comment in place, with the branch down to it.

The domain rule (service/domain/permalinks.py) is called directly for every depth from 0 to
the maximum, then the endpoint is checked for the listing's visibility rules, for the
shadow-banned author's numbers, and against openapi.yaml.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from service import services
from service.domain import comments as rules_
from service.domain.errors import RuleError
from service.domain.permalinks import comment_in_context
from service.domain.reactions import react_to_comment
from service.domain.threads import Node, Viewer
from service.enums import ArticleStatus, CommentStatus
from service.extensions import db
from service.models import Article, Ban, Comment, utcnow
from tests.helpers import MODERATOR, auth
from tests.openapi_check import assert_matches_spec

API = "/api/v1"
PER_ROOT = 3  # replies the listing nests per top-level comment, small to make the point
KINDS = ["like", "dislike", "insightful", "funny", "agree", "disagree"]


def _say(
    session: Any, rules: Any, article: str, body: str, parent: int | None = None, user: str = "u-1"
) -> Comment:
    return rules_.create_comment(
        session,
        article_id=article,
        author=rules_.Author(user_id=user, name=user.upper()),
        body=body,
        parent_id=parent,
        rules=rules,
        now=utcnow(),
    ).comment


def _chain(session: Any, rules: Any, article: str = "a1") -> list[Comment]:
    """A top-level comment with PER_ROOT + 2 earlier replies (so the listing's nested
    replies are all taken before the branch starts), then a reply chain down to the
    deepest level: chain[d] is at depth d."""
    root = _say(session, rules, article, "the top-level comment")
    for i in range(PER_ROOT + 2):
        _say(session, rules, article, f"an earlier reply {i}", parent=root.id, user="u-2")
    chain = [root]
    for depth in range(1, rules.max_depth + 1):
        chain.append(_say(session, rules, article, f"depth {depth}", parent=chain[-1].id))
    assert [c.depth for c in chain] == list(range(rules.max_depth + 1))
    return chain


def _branch(node: Node, target_id: int) -> list[int]:
    """The ids from ``node`` down to ``target_id``, following replies."""
    if node.comment.id == target_id:
        return [target_id]
    for child in node.replies:
        below = _branch(child, target_id)
        if below:
            return [node.comment.id, *below]
    return []


@pytest.fixture
def rules(app: Any) -> Any:
    return rules_.Rules.from_settings(services.of(app).settings)


def test_every_depth_from_top_level_to_the_deepest(db_session, rules):
    chain = _chain(db_session, rules)
    db_session.commit()
    assert rules.max_depth == 5  # the default: depths 0..5 below
    for depth, target in enumerate(chain):
        context = comment_in_context(
            db_session, comment_id=target.id, viewer=Viewer(), per_root=PER_ROOT
        )
        assert context.target_id == target.id
        assert context.root.comment.id == chain[0].id
        # Each ancestor's replies contain the next one, down to the comment.
        assert _branch(context.root, target.id) == [c.id for c in chain[: depth + 1]]
        # Besides the branch, the root nests what the listing nests: its first replies.
        nested = [n.comment.id for n in context.root.replies]
        earlier = sorted(nested)[:PER_ROOT]
        assert all(db_session.get(Comment, i).body.startswith("an earlier") for i in earlier)
        if depth >= 1:
            assert nested == earlier + [chain[1].id]  # oldest first, the branch last
        else:
            assert nested == earlier


def test_a_reply_flattened_at_the_deepest_level_is_found_under_its_parent(db_session, rules):
    chain = _chain(db_session, rules)
    deepest = chain[-1]
    sibling = _say(db_session, rules, "a1", "a reply to the deepest", parent=deepest.id)
    db_session.commit()
    assert (sibling.depth, sibling.parent_id) == (rules.max_depth, deepest.parent_id)
    context = comment_in_context(
        db_session, comment_id=sibling.id, viewer=Viewer(), per_root=PER_ROOT
    )
    assert _branch(context.root, sibling.id) == [c.id for c in chain[:-1]] + [sibling.id]


def test_reactions_and_the_viewers_own_come_with_the_branch(db_session, rules):
    chain = _chain(db_session, rules)
    react_to_comment(
        db_session, comment=chain[3], user_id="u-9", kind="like", kinds=KINDS, add=True
    )
    react_to_comment(
        db_session, comment=chain[0], user_id="u-8", kind="funny", kinds=KINDS, add=True
    )
    db_session.commit()
    context = comment_in_context(
        db_session, comment_id=chain[4].id, viewer=Viewer(user_id="u-9"), per_root=PER_ROOT
    )
    assert context.reactions[chain[3].id] == {"like": 1}
    assert context.reactions[chain[0].id] == {"funny": 1}
    assert context.mine == {chain[3].id: ["like"]}


def test_the_nested_replies_are_the_ones_the_viewer_may_see_and_only_this_threads(
    db_session, rules
):
    """Mutation testing (#22): the first-replies query without `visible_to` showed a held
    reply to everyone in the branch's context; without `root_id == root` it read the first
    replies of every thread in the database (same tree, the reactions of all of them)."""
    chain = _chain(db_session, rules)
    earlier = sorted(
        db_session.scalars(
            select(Comment.id).where(Comment.parent_id == chain[0].id, Comment.id < chain[1].id)
        )
    )
    assert len(earlier) == PER_ROOT + 2
    held = db_session.get(Comment, earlier[0])
    rules_.set_status(db_session, held, CommentStatus.PENDING)
    other = _say(db_session, rules, "a2", "another thread")
    other_reply = _say(db_session, rules, "a2", "its reply", parent=other.id, user="u-2")
    for comment in (other, other_reply):
        react_to_comment(
            db_session, comment=comment, user_id="u-8", kind="like", kinds=KINDS, add=True
        )
    db_session.commit()
    for viewer, nested in (
        (Viewer(), earlier[1 : PER_ROOT + 1]),  # the held reply is skipped, as in the listing
        (Viewer(user_id="u-2"), earlier[:PER_ROOT]),  # ... but not for its author
    ):
        context = comment_in_context(
            db_session, comment_id=chain[2].id, viewer=viewer, per_root=PER_ROOT
        )
        assert [n.comment.id for n in context.root.replies] == [*nested, chain[1].id]
        assert set(context.reactions).isdisjoint({other.id, other_reply.id})


def test_missing_is_a_rule_error_404(db_session):
    with pytest.raises(RuleError) as missing:
        comment_in_context(db_session, comment_id=424242, viewer=Viewer(), per_root=PER_ROOT)
    assert (missing.value.status, missing.value.kind) == (404, "not-found")


# --- through HTTP --------------------------------------------------------------------------


@pytest.fixture
def chain(app: Any) -> list[int]:
    with app.app_context():
        rules = rules_.Rules.from_settings(services.of(app).settings)
        ids = [c.id for c in _chain(db.session, rules)]
        db.session.commit()
    return ids


def _set_status(app: Any, comment_id: int, status: CommentStatus, **kw: Any) -> None:
    with app.app_context():
        rules_.set_status(db.session, db.session.get(Comment, comment_id), status, **kw)
        db.session.commit()


def _context(client: Any, comment_id: int, headers: dict[str, str] | None = None) -> Any:
    r = client.get(f"{API}/comments/{comment_id}/context", headers=headers or {})
    assert_matches_spec("GET", "/api/v1/comments/{comment_id}/context", r)
    return r


def _ids(item: dict[str, Any], target: int) -> list[int]:
    if item["id"] == target:
        return [target]
    for reply in item["replies"]:
        below = _ids(reply, target)
        if below:
            return [item["id"], *below]
    return []


@pytest.mark.settings(COMMENTS_REPLIES_PER_THREAD=PER_ROOT)
def test_the_endpoint_answers_root_and_target(client, chain):
    for depth, target in enumerate(chain):
        r = _context(client, target)
        assert r.status_code == 200
        body = r.get_json()
        assert body["target_id"] == target
        assert body["root"]["id"] == chain[0] and body["root"]["depth"] == 0
        assert _ids(body["root"], target) == chain[: depth + 1]
        assert body["root"]["reply_count"] == PER_ROOT + 2 + 5
    # The same comment as GET /comments/{id} shows it, branch aside.
    one = client.get(f"{API}/comments/{chain[2]}").get_json()
    node = _context(client, chain[2]).get_json()["root"]["replies"][-1]["replies"][0]
    assert {k: v for k, v in node.items() if k != "replies"} == {
        k: v for k, v in one.items() if k != "replies"
    }


@pytest.mark.settings(COMMENTS_REPLIES_PER_THREAD=PER_ROOT)
def test_what_the_listing_hides_is_404(app, client, chain):
    target = chain[3]
    assert _context(client, target).status_code == 200
    # A pending comment: only its author sees it (and its branch).
    _set_status(app, target, CommentStatus.PENDING)
    r = _context(client, target)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert r.get_json()["detail"] == "There is no such comment."
    assert _context(client, target, auth("u-2")).status_code == 404
    mine = _context(client, target, auth("u-1"))
    assert mine.status_code == 200 and _ids(mine.get_json()["root"], target) == chain[:4]
    # Under a hidden (flagged) ancestor, a reply is out of everyone's view, as in the listing.
    _set_status(app, target, CommentStatus.PUBLISHED)
    _set_status(app, chain[1], CommentStatus.HIDDEN)
    assert _context(client, target).status_code == 404
    assert _context(client, target, auth("u-1")).status_code == 404
    assert _context(client, chain[0]).status_code == 200  # the top-level comment still is
    _set_status(app, chain[1], CommentStatus.PUBLISHED)
    # A tombstone with visible replies stays in the branch, without its words or author.
    _set_status(app, chain[2], CommentStatus.DELETED)
    body = _context(client, target).get_json()["root"]
    tomb = body["replies"][-1]["replies"][0]
    assert (tomb["id"], tomb["status"], tomb["body"], tomb["author"]) == (
        chain[2],
        "deleted",
        None,
        None,
    )
    # A removed comment without replies is gone.
    _set_status(app, chain[-1], CommentStatus.REMOVED)
    assert _context(client, chain[-1]).status_code == 404
    # A hidden article: only moderators.
    with app.app_context():
        db.session.execute(
            update(Article).where(Article.id == "a1").values(status=ArticleStatus.HIDDEN)
        )
        db.session.commit()
    assert _context(client, chain[0]).status_code == 404
    assert _context(client, chain[0], auth("m-1", **MODERATOR)).status_code == 200
    assert _context(client, 999_999).status_code == 404
    assert client.get(f"{API}/comments/{2**31}/context").status_code == 404


def test_a_shadow_banned_author_sees_their_branch_and_numbers_as_if_they_counted(app, client):
    with app.app_context():
        rules = rules_.Rules.from_settings(services.of(app).settings)
        root = _say(db.session, rules, "a1", "top")
        db.session.add(Ban(user_id="troll", shadow=True, created_by="m-1", created_at=utcnow()))
        db.session.commit()
        reply = _say(db.session, rules, "a1", "shadowed reply", parent=root.id, user="troll")
        db.session.commit()
        root_id, reply_id = root.id, reply.id
    assert _context(client, reply_id).status_code == 404  # nobody else sees it
    own = _context(client, reply_id, auth("troll")).get_json()
    assert _ids(own["root"], reply_id) == [root_id, reply_id]
    public = client.get(f"{API}/comments/{root_id}/context").get_json()["root"]
    assert (public["reply_count"], own["root"]["reply_count"]) == (0, 1)
