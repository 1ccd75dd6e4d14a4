"""#14 item 17: /metrics behind a bearer token (required in production unless declared
public); /readyz on pooled connections, still a prompt 503, and rate limited like reads."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
from typing import Any, Iterator

import pytest
from sqlalchemy import event

from service import create_app
from service.config import ConfigError, load_config
from service.extensions import db
from service.http import services
from tests.reliability.load import TcpProxy

TOKEN = "metrics-token-" + "x" * 40
PRODUCTION = {
    "COMMENTS_ENV": "production",
    "COMMENTS_JWT_SECRET": "s" * 48,
    "COMMENTS_SECRET_KEY": "s" * 48,
    "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
}


# --- /metrics -----------------------------------------------------------------------------


@pytest.mark.settings(COMMENTS_METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN}x",
        "Bearer caf\u00e9",  # not ASCII: still a 401, never a 500
    ],
    ids=["none", "wrong", "prefix", "basic", "longer", "latin-1"],
)
def test_metrics_with_a_token_configured_refuses_everyone_else(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert "COMMENTS_METRICS_TOKEN" in r.get_json()["detail"]
    assert b"comments_http_requests_total" not in r.data


@pytest.mark.settings(COMMENTS_METRICS_TOKEN=TOKEN)
def test_metrics_with_the_token_answers(client):
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert b"comments_http_requests_total" in r.data
    assert client.get("/metrics", headers={"Authorization": f"bearer  {TOKEN}"}).status_code == 200


def test_metrics_without_a_token_configured_stay_open_outside_production(client):
    assert client.get("/metrics").status_code == 200


def test_the_token_is_compared_in_constant_time():
    """The comparison is hmac.compare_digest, not ==: read from the code that answers."""
    import inspect

    from service import ops

    source = inspect.getsource(ops._metrics_caller_ok)
    assert "hmac.compare_digest" in source and "==" not in source.split("compare_digest")[1]


def test_production_refuses_to_start_without_a_metrics_token(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(environ=PRODUCTION, instance_path=str(tmp_path))
    message = str(caught.value)
    assert "COMMENTS_METRICS_TOKEN: production needs a token for /metrics" in message
    assert "COMMENTS_METRICS_PUBLIC=true" in message


def test_production_starts_with_a_token_or_with_metrics_declared_public(tmp_path):
    config = load_config(
        environ={**PRODUCTION, "COMMENTS_METRICS_TOKEN": TOKEN}, instance_path=str(tmp_path)
    )
    assert config["COMMENTS_METRICS_TOKEN"] == TOKEN
    config = load_config(
        environ={**PRODUCTION, "COMMENTS_METRICS_PUBLIC": "true"}, instance_path=str(tmp_path)
    )
    assert config["COMMENTS_METRICS_PUBLIC"] is True


def test_production_refuses_a_short_metrics_token(tmp_path):
    with pytest.raises(ConfigError, match="COMMENTS_METRICS_TOKEN: production needs at least 32"):
        load_config(
            environ={**PRODUCTION, "COMMENTS_METRICS_TOKEN": "short"}, instance_path=str(tmp_path)
        )


def test_a_whitespace_metrics_token_is_refused_everywhere(tmp_path):
    with pytest.raises(ConfigError, match="COMMENTS_METRICS_TOKEN: only whitespace"):
        load_config(environ={"COMMENTS_METRICS_TOKEN": "   "}, instance_path=str(tmp_path))


# --- /readyz ------------------------------------------------------------------------------


def test_readyz_reuses_one_database_connection(app):
    opened: list[Any] = []
    with app.app_context():
        engine = services().probe_engine
    event.listen(engine, "connect", lambda *_: opened.append(1))
    client = app.test_client()
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
    assert len(opened) == 1  # a new connection per probe before


class CountingRedis:
    """Just enough of a Redis server to answer PING (and the client's hello commands),
    counting the connections it accepts."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                command = data.upper()
                if b"HELLO" in command:
                    conn.sendall(b"%1\r\n+proto\r\n:3\r\n")
                else:
                    conn.sendall(b"+PONG\r\n" if b"PING" in command else b"+OK\r\n")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def counting_redis() -> Iterator[CountingRedis]:
    server = CountingRedis()
    yield server
    server.close()


def test_readyz_reuses_one_redis_connection(settings, database_url, counting_redis):
    app = create_app(
        {
            **settings,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{counting_redis.port}/0",
        }
    )
    client = app.test_client()
    for _ in range(5):
        r = client.get("/readyz")
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["redis"] == "ok"
    assert counting_redis.accepted == 1  # a new connection per probe before
    with app.app_context():
        db.engine.dispose()


@pytest.mark.settings(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_READ="3/minute")
def test_readyz_is_rate_limited_like_other_reads(client):
    statuses = [client.get("/readyz").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = client.get("/readyz")
    assert r.mimetype == "application/problem+json" and r.headers["Retry-After"]


PG_URL = os.environ.get("TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


def _through(proxy: Any) -> str:
    assert PG_URL
    parts = urllib.parse.urlsplit(PG_URL)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


def _timed_readyz(client: Any) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    r = client.get("/readyz")
    return r.status_code, r.get_json(), time.monotonic() - started


@needs_postgres
@pytest.mark.parametrize("fault", ["cut", "frozen"])
def test_a_dead_database_is_still_a_prompt_503_and_recovery_is_seen(app, settings, fault):
    """The pooled connection must not hide an outage: the proxy to PostgreSQL drops every
    connection (cut) or stops answering without closing anything (frozen)."""
    assert PG_URL
    parts = urllib.parse.urlsplit(PG_URL)
    proxy = FreezingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxied = create_app({**settings, "DATABASE_URL": _through(proxy)})
    client = proxied.test_client()
    try:
        assert client.get("/readyz").status_code == 200
        if fault == "cut":
            proxy.cut()
        else:
            proxy.freeze()
        status, body, seconds = _timed_readyz(client)
        assert status == 503 and body["checks"] == {"database": "down"}
        assert seconds < 2.5, f"took {seconds:.2f} s"
        # A second probe while the first may still be stuck: just as prompt.
        status, body, seconds = _timed_readyz(client)
        assert status == 503 and seconds < 2.5, f"took {seconds:.2f} s"
        proxy.restore()
        deadline = time.monotonic() + 15
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "readiness never came back"
            time.sleep(0.2)
    finally:
        proxy.restore()
        proxy.close()
        with proxied.app_context():
            db.engine.dispose()
            services().probe_engine.dispose()


class FreezingProxy(TcpProxy):
    """A TcpProxy that can also go silent: connections stay open and bytes are read, but
    nothing is forwarded (a server that hangs without closing anything)."""

    def __init__(self, host: str, port: int) -> None:
        self.frozen = threading.Event()
        super().__init__(host, port)

    def freeze(self) -> None:
        self.frozen.set()

    def restore(self) -> None:
        self.frozen.clear()
        super().restore()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not self.frozen.is_set():
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)
