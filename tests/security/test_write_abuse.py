"""#14 item 9: many accounts behind one IP share a write ceiling, and brand-new accounts
cannot hide a comment with their flags."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from service.enums import CommentStatus
from service.extensions import db
from service.models import Comment
from tests.helpers import auth

API = "/api/v1"


@pytest.mark.settings(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_WRITE_PER_IP="10/minute")
def test_forty_accounts_from_one_ip_share_the_write_ceiling(client):
    def post(user, ip):
        return client.post(
            f"{API}/articles/a1/comments",
            json={"body": f"from {user}"},
            headers=auth(user, name=user),
            environ_base={"REMOTE_ADDR": ip},
        ).status_code

    statuses = [post(f"sock-{n}", "10.9.9.9") for n in range(40)]
    assert statuses.count(201) == 10 and statuses.count(429) == 30
    assert post("someone-else", "10.9.9.10") == 201  # another address is not affected


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_the_default_ceiling_is_sixty_a_minute(app):
    assert app.config["COMMENTS_LIMIT_WRITE_PER_IP"] == "60/minute"


@pytest.mark.settings(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_WRITE_PER_IP="3/minute")
def test_reactions_and_flags_count_against_the_same_ceiling(client, post):
    cid = post("a1", "target", user="author").get_json()["id"]
    ip = {"REMOTE_ADDR": "10.8.8.8"}
    codes = [
        client.put(
            f"{API}/comments/{cid}/reactions/like", headers=auth("r1"), environ_base=ip
        ).status_code,
        client.post(
            f"{API}/comments/{cid}/flags",
            json={"reason": "spam"},
            headers=auth("r2"),
            environ_base=ip,
        ).status_code,
        client.put(
            f"{API}/comments/{cid}/reactions/like", headers=auth("r3"), environ_base=ip
        ).status_code,
        client.put(
            f"{API}/comments/{cid}/reactions/like", headers=auth("r4"), environ_base=ip
        ).status_code,
    ]
    assert codes[3] == 429 and all(c < 400 for c in codes[:3])


def _flag(client, cid, user):
    return client.post(f"{API}/comments/{cid}/flags", json={"reason": "spam"}, headers=auth(user))


@pytest.mark.settings(COMMENTS_FLAG_TRUST_HOURS=24)
def test_three_brand_new_accounts_cannot_hide_a_comment(client, post):
    cid = post("a1", "an honest opinion", user="author").get_json()["id"]
    for n in range(3):
        assert _flag(client, cid, f"new-{n}").status_code == 201
    assert client.get(f"{API}/comments/{cid}").get_json()["status"] == "published"
    # Twelve of them do (12 x 0.25 = 3): heard, just quietly.
    for n in range(3, 12):
        _flag(client, cid, f"new-{n}")
    assert client.get(f"{API}/comments/{cid}").status_code == 404


@pytest.mark.settings(COMMENTS_FLAG_TRUST_HOURS=24)
def test_accounts_with_a_day_old_published_comment_weigh_fully(app, client, post):
    cid = post("a1", "target", user="author").get_json()["id"]
    for n in range(3):
        post("a2", f"my first comment {n}", user=f"old-{n}")
    with app.app_context():
        db.session.execute(
            update(Comment)
            .where(Comment.author_id.like("old-%"))
            .values(created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25))
        )
        db.session.commit()
    for n in range(3):
        assert _flag(client, cid, f"old-{n}").status_code == 201
    assert client.get(f"{API}/comments/{cid}").status_code == 404


def test_only_the_accounts_own_published_day_old_comment_earns_full_weight(app, client, post):
    """``is_established`` asks for the flagger's own comment, published, not shadowed, and at
    least ``trust_after`` old (mutation testing, #22: the tests above gave every old account a
    published comment, so dropping the author, status, shadow or age condition, ``!=`` for the
    author, or ``now + trust_after`` went unnoticed; each lets a brand-new account, or one
    whose only old comment was removed or shadow-banned, flag at full weight)."""
    from service.domain.moderation.flags import is_established

    day = dt.timedelta(hours=24)
    now = dt.datetime.now(dt.timezone.utc)
    ages = {
        "veteran": (dt.timedelta(hours=25), None),
        "recent": (dt.timedelta(hours=1), None),
        "removed": (dt.timedelta(hours=25), "remove"),
        "shadowed": (dt.timedelta(hours=25), "shadow"),
    }
    for user, (age, fate) in ages.items():
        cid = post("a1", f"an old comment by {user}", user=user).get_json()["id"]
        with app.app_context():
            values: dict = {"created_at": now - age}
            if fate == "remove":
                values["status"] = CommentStatus.REMOVED
            if fate == "shadow":
                values["shadowed"] = True
            db.session.execute(update(Comment).where(Comment.id == cid).values(**values))
            db.session.commit()
    with app.app_context():
        judged = {
            user: is_established(db.session, user, now, day)
            for user in ("veteran", "recent", "removed", "shadowed", "newcomer")
        }
        assert judged == {
            "veteran": True,
            "recent": False,
            "removed": False,
            "shadowed": False,
            "newcomer": False,
        }
        assert is_established(db.session, "newcomer", now, dt.timedelta(0))


def _guest(client, body, name="Pat", ip="10.1.1.1"):
    return client.post(
        f"{API}/articles/a1/comments",
        json={"body": body, "author_name": name},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_guests_get_duplicate_detection_by_name_and_ip(client):
    """#14 item 8 (duplicates): a guest's double submit, dressed up, is 409 too."""
    first = _guest(client, "Rates will fall.")
    assert first.status_code == 201
    for variant in ["Rates will fall.\u200b", "Rates will *fall*", "Rates will f&#97;ll."]:
        r = _guest(client, variant)
        assert r.status_code == 409, variant
        assert r.get_json()["comment_id"] == first.get_json()["id"]
    # Another guest name, or the same name from another address, is another guest.
    assert _guest(client, "Rates will fall.", name="Sam").status_code == 201
    assert _guest(client, "Rates will fall.", ip="10.1.1.2").status_code == 201


def test_signed_in_duplicates_see_through_dressing(client, post):
    assert post("a1", "Buy the dip.", user="u-5").status_code == 201
    assert post("a1", "Buy the **dip**!", user="u-5").status_code == 409
    assert post("a1", "Buy the dip.\u200b", user="u-5").status_code == 409
