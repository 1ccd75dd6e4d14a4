"""Load and fault helpers: a cuttable TCP proxy, and client threads that post, reply, react,
flag and delete against live servers while recording every acknowledged write."""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import auth


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. ``cut()`` drops every open connection and
    refuses new ones (as a dead database host would); ``restore()`` forwards again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.stopping = False
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                client.close()  # RST: connection refused, at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                self._close(s)

    def _close(self, s: socket.socket) -> None:
        with self.lock:
            self.conns.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            self._close(s)

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.stopping = True
        self.cut()
        self.listener.close()


@dataclass
class Outcome:
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: set[int] = field(default_factory=set)  # comment ids answered with 201
    deleted: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)  # unexpected responses, with bodies
    transport_errors: int = 0
    transport_kinds: Counter[str] = field(default_factory=Counter)
    slowest_503: float = 0.0

    def merge(self, other: "Outcome") -> None:
        self.statuses.update(other.statuses)
        self.acknowledged |= other.acknowledged
        self.deleted |= other.deleted
        self.errors += other.errors
        self.transport_errors += other.transport_errors
        self.transport_kinds.update(other.transport_kinds)
        self.slowest_503 = max(self.slowest_503, other.slowest_503)


def request(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return (
                r.status,
                r.headers,
                (json.loads(raw) if raw else None),
            )  # case-insensitive: granian sends lower-case names
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return e.code, e.headers, parsed


def client_thread(
    bases: list[str], seconds: float, seed: int, articles: tuple[str, ...], allowed: set[int]
) -> Outcome:
    rnd = random.Random(seed)
    out = Outcome()
    user = f"load-{seed}"
    headers = auth(user, name=user, expires_in=3600)
    mine: list[int] = []
    own: set[int] = set()  # every comment this user posted, deleted or not
    seen_by_article: dict[str, list[int]] = {a: [] for a in articles}
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        base = rnd.choice(bases)
        article = rnd.choice(articles)
        seen = seen_by_article[article]
        roll = rnd.random()
        try:
            started = time.monotonic()
            if roll < 0.35 or not seen:
                payload: dict[str, Any] = {"body": f"{user} says {n}"}
                if seen and rnd.random() < 0.5:
                    payload["parent_id"] = rnd.choice(seen)
                status, hdrs, body = request(
                    base, "POST", f"/api/v1/articles/{article}/comments", headers, payload
                )
                if status == 201:
                    out.acknowledged.add(body["id"])
                    own.add(body["id"])
                    mine.append(body["id"])
                    seen.append(body["id"])
            elif roll < 0.6:
                target = rnd.choice(seen)
                kind = rnd.choice(("like", "dislike", "insightful"))
                if target in own:  # authors cannot vote on their own comments (403)
                    kind = "insightful"
                verb = rnd.choice(("PUT", "DELETE"))
                status, hdrs, body = request(
                    base, verb, f"/api/v1/comments/{target}/reactions/{kind}", headers
                )
            elif roll < 0.7:
                status, hdrs, body = request(
                    base,
                    "POST",
                    f"/api/v1/comments/{rnd.choice(seen)}/flags",
                    headers,
                    {"reason": "spam"},
                )
            elif roll < 0.78 and mine:
                victim = mine.pop(rnd.randrange(len(mine)))
                status, hdrs, body = request(base, "DELETE", f"/api/v1/comments/{victim}", headers)
                if status == 204:
                    out.deleted.add(victim)
            else:
                status, hdrs, body = request(
                    base, "GET", f"/api/v1/articles/{article}/comments?limit=20", headers
                )
                if status == 200:
                    seen.extend(item["id"] for item in body["items"][:5])
                    del seen[:-200]
            elapsed = time.monotonic() - started
        # connection refused or reset, or cut between the headers and the body (a worker
        # killed mid-response: IncompleteRead): never seen whole, so not acknowledged
        except (OSError, ValueError, http.client.HTTPException) as exc:
            out.transport_errors += 1
            out.transport_kinds[type(exc).__name__] += 1
            time.sleep(0.05)
            continue
        out.statuses[status] += 1
        if status == 503:
            out.slowest_503 = max(out.slowest_503, elapsed)
            if not (
                isinstance(body, dict)
                and hdrs.get("Content-Type", "").startswith("application/problem+json")
                and "Retry-After" in hdrs
            ):
                out.errors.append(f"503 without problem+json/Retry-After: {hdrs} {body}")
            time.sleep(0.05)
        elif status not in allowed:
            out.errors.append(f"{status}: {body}")
    return out


def run_load(
    bases: list[str],
    seconds: float,
    threads: int,
    *,
    articles: tuple[str, ...] = ("load-a", "load-b", "load-c"),
    allowed: set[int] | None = None,
    during: Any = None,
) -> Outcome:
    """``threads`` clients for ``seconds``; ``during()`` runs in the calling thread meanwhile."""
    allowed = allowed or {200, 201, 204, 404, 409, 422}  # 422: the parent was deleted meanwhile
    results: list[Outcome] = [Outcome() for _ in range(threads)]

    def work(i: int) -> None:
        results[i] = client_thread(bases, seconds, i + 1, articles, allowed)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    if during is not None:
        during()
    for w in workers:
        w.join()
    total = Outcome()
    for r in results:
        total.merge(r)
    return total
