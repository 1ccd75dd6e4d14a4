"""Request ids, JSON logs, /metrics and /readyz, through the test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import auth
from tests.servers import free_port


def _value(client: Any, name: str, **labels: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# --- request ids --------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed(client: Any) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "edge-42.a_b"})
    assert r.headers["X-Request-ID"] == "edge-42.a_b"


@pytest.mark.parametrize("given", ["x" * 129, "has space", "<script>", "a\u00e9b", ""])
def test_an_insane_request_id_is_replaced(client: Any, given: str) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": given})
    rid = r.headers["X-Request-ID"]
    assert rid != given and 1 <= len(rid) <= 128 and rid.isalnum()


def test_errors_carry_a_request_id_too(client: Any) -> None:
    for response, status in (
        (client.get("/api/v1/nowhere"), 404),
        (client.delete("/healthz"), 405),
        (client.post("/api/v1/articles/a1/comments", data="x", content_type="text/plain"), 415),
    ):
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert response.headers.get("X-Request-ID")
    assert (
        client.get("/healthz").headers["X-Request-ID"]
        != client.get("/healthz").headers["X-Request-ID"]
    )


# --- logs ---------------------------------------------------------------------------------


def test_each_request_logs_one_json_line_without_ip_or_email(
    client: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    r = client.post(
        "/api/v1/articles/log-1/comments",
        json={"body": "hello"},
        headers={
            **auth("u-log", name="Mei"),
            "X-Request-ID": "rid-1",
            "X-Forwarded-For": "203.0.113.9",
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert r.status_code == 201
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    mine = [entry for entry in lines if entry.get("request_id") == "rid-1"]
    assert len(mine) == 1
    entry = mine[0]
    assert entry["message"] == "request" and entry["level"] == "info"
    assert entry["method"] == "POST" and entry["status"] == 201
    assert entry["route"] == "/api/v1/articles/<article_id>/comments"  # the rule, not the path
    assert isinstance(entry["duration_ms"], (int, float)) and "time" in entry
    raw = json.dumps(lines)
    assert "198.51.100.7" not in raw and "203.0.113.9" not in raw and "@" not in raw


# --- metrics ------------------------------------------------------------------------------


def test_requests_are_counted_by_route_and_status(client: Any) -> None:
    labels = {"method": "GET", "route": "/api/v1/articles/<article_id>/comments"}
    before_200 = _value(client, "comments_http_requests_total", status="200", **labels)
    before_422 = _value(client, "comments_http_requests_total", status="422", **labels)
    client.get("/api/v1/articles/m-1/comments")
    client.get("/api/v1/articles/m-2/comments")
    client.get("/api/v1/articles/bad id!/comments")
    assert _value(client, "comments_http_requests_total", status="200", **labels) == before_200 + 2
    assert _value(client, "comments_http_requests_total", status="422", **labels) == before_422 + 1
    hist = _value(client, "comments_http_request_duration_seconds_count", status="200", **labels)
    assert hist >= 2


def test_unmatched_paths_share_one_label(client: Any) -> None:
    before = _value(client, "comments_http_requests_total", route="<unmatched>", status="404")
    client.get("/wp-admin/a")
    client.get("/wp-admin/b")
    assert (
        _value(client, "comments_http_requests_total", route="<unmatched>", status="404")
        == before + 2
    )


def test_counters_have_no_created_series(client: Any, post: Any) -> None:
    """The app switches prometheus_client's *_created series off when it makes its metrics
    (not at import, which changes nothing global)."""
    post("m-c", "counted")
    text = client.get("/metrics").get_data(as_text=True)
    names = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    assert "comments_created_total" in names
    assert not [name for name in names if name.endswith("_created")]


def test_comments_and_reactions_are_counted(client: Any, post: Any) -> None:
    created = _value(client, "comments_created_total", status="published")
    added = _value(client, "comments_reaction_requests_total", target="comment", action="add")
    comment = post("m-3", "counted once").get_json()
    replay_headers = {"Idempotency-Key": "k-1"}
    post("m-3", "idempotent", headers=replay_headers)
    post("m-3", "idempotent", headers=replay_headers)  # a replay is not a new comment
    client.put(f"/api/v1/comments/{comment['id']}/reactions/like", headers=auth("u-9"))
    assert _value(client, "comments_created_total", status="published") == created + 2
    assert (
        _value(client, "comments_reaction_requests_total", target="comment", action="add")
        == added + 1
    )


def test_moderation_queue_size_is_read_at_scrape_time(app: Any, client: Any, post: Any) -> None:
    from service.enums import CommentStatus
    from service.extensions import db
    from service.models import Comment

    ids = [post("q-1", f"comment {i}").get_json()["id"] for i in range(3)]
    assert _value(client, "comments_moderation_queue_size", state="pending") == 0
    with app.app_context():
        db.session.get(Comment, ids[0]).status = CommentStatus.PENDING
        db.session.get(Comment, ids[1]).flag_count = 2
        db.session.commit()
    assert _value(client, "comments_moderation_queue_size", state="pending") == 1
    assert _value(client, "comments_moderation_queue_size", state="flagged") == 1
    assert _value(client, "comments_moderation_queue_size", state="hidden") == 0


@pytest.fixture
def limited(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_READ="2/minute")
    return settings


def test_rate_limited_requests_are_counted(limited: Any, client: Any) -> None:
    route = "/api/v1/articles/<article_id>"
    before = _value(client, "comments_rate_limited_requests_total", route=route)
    statuses = [client.get("/api/v1/articles/rl-1").status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert _value(client, "comments_rate_limited_requests_total", route=route) == before + 2


@pytest.fixture
def dead_redis(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0"
    )
    return settings


def test_rate_limit_storage_errors_are_counted_and_requests_still_served(
    dead_redis: Any,
    client: Any,
) -> None:
    before = _value(client, "comments_ratelimit_storage_errors_total")
    assert client.get("/api/v1/articles/redis-down").status_code == 200
    assert _value(client, "comments_ratelimit_storage_errors_total") >= before + 1


# --- readiness ----------------------------------------------------------------------------


def test_ready_when_the_database_answers(client: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ready", "database": "ok"}


def test_not_ready_names_redis_when_it_is_down(dead_redis: Any, client: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["checks"] == {"database": "ok", "redis": "down"}
    assert "redis" in body["detail"] and "database" not in body["detail"]
    assert r.headers["Retry-After"]


@pytest.fixture
def live_redis(settings: dict[str, Any]) -> dict[str, Any]:
    import os

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    settings.update(RATELIMIT_STORAGE_URI=url)
    return settings


@pytest.mark.redis
def test_ready_with_a_live_redis(live_redis: Any, client: Any) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["redis"] == "ok"


def test_not_ready_names_the_database_when_it_is_down(tmp_path: Any) -> None:
    from service import create_app

    app = create_app(
        {
            "DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x",
            "COMMENTS_SECRET_KEY": "k",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"] == {"database": "down"}
    assert "database" in r.get_json()["detail"]
    # /metrics still answers without the database (the queue gauge is left out).
    m = app.test_client().get("/metrics")
    assert m.status_code == 200 and b"comments_http_requests_total" in m.data
    assert b"comments_moderation_queue_size{" not in m.data
