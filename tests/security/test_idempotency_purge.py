"""#14 item 11: expired Idempotency-Keys are purged (lazily, bounded) and erasure removes
the erased user's keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from service.extensions import db
from service.models import IdempotencyKey
from tests.helpers import auth

API = "/api/v1"


def _keys(app, caller=None):
    with app.app_context():
        query = select(func.count()).select_from(IdempotencyKey)
        if caller:
            query = query.where(IdempotencyKey.caller == caller)
        return db.session.scalar(query)


def _post(client, user, key, body):
    return client.post(
        f"{API}/articles/a1/comments",
        json={"body": body},
        headers={**auth(user), "Idempotency-Key": key},
    )


def test_expired_keys_are_purged_by_later_posts(app, client):
    for n in range(3):
        assert _post(client, "u-1", f"old-{n}", f"old post {n}").status_code == 201
    with app.app_context():
        db.session.execute(
            update(IdempotencyKey).values(
                created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
            )
        )
        db.session.commit()
    assert _keys(app) == 3
    assert _post(client, "u-2", "fresh", "a new post").status_code == 201
    assert _keys(app) == 1  # only the fresh one is left


def test_erasure_removes_the_users_keys(app, client):
    mine = _post(client, "u-erase", "k1", "mine").get_json()["id"]
    # A reply keeps "mine" as a tombstone, so its key is not removed by the cascade.
    client.post(
        f"{API}/articles/a1/comments", json={"body": "re", "parent_id": mine}, headers=auth("u-2")
    )
    _post(client, "u-keep", "k1", "theirs")
    assert _keys(app, "user:u-erase") == 1
    r = client.delete(f"{API}/admin/users/u-erase", headers=auth("root", roles=["admin"]))
    assert r.status_code == 200
    assert _keys(app, "user:u-erase") == 0 and _keys(app, "user:u-keep") == 1
