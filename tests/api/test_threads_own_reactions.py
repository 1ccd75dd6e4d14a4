"""threads.own_reactions: a viewer's own reactions, and with ``muted`` the people they muted,
from one query."""

from __future__ import annotations

from service.domain import readers
from service.domain.threads import own_reactions
from service.extensions import db
from tests.helpers import auth


def test_own_reactions_keeps_reactions_and_mutes_apart(app, client, post):
    ids = [post("own-1", f"c{i}", user="author").get_json()["id"] for i in range(2)]
    for comment_id, kind in ((ids[0], "like"), (ids[1], "like"), (ids[1], "funny")):
        r = client.put(f"/api/v1/comments/{comment_id}/reactions/{kind}", headers=auth("me"))
        assert r.status_code == 200, r.get_json()
    with app.app_context():
        for muted_id in ("troll-1", "troll-2"):
            readers.mute(db.session, user_id="me", muted_id=muted_id)
        db.session.commit()
        expected = {ids[0]: ["like"], ids[1]: ["funny", "like"]}
        # Without ``muted`` the mutes are not read: no entry for them among the comments.
        assert own_reactions(db.session, ids, "me") == expected
        muted: set[str] = set()
        assert own_reactions(db.session, ids, "me", muted=muted) == expected
        assert muted == {"troll-1", "troll-2"}
