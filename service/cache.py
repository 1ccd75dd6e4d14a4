"""A cache of public thread pages, keyed by the article's ``version``.

Every write that changes what a thread shows bumps ``articles.version`` in the same
transaction (``domain/comments.shift_counts`` / ``bump_version``, reactions), so a key that
contains the version can never name stale content: nothing is ever invalidated, old
versions simply stop being asked for and age out. Looking the version up costs the one
primary-key query that a listing makes anyway (the article row).

Only the public view is stored: what an anonymous reader sees. A signed-in reader's page
is that same page with their own reactions filled in, unless they have comments only they
can see in the thread (pending, or shadow-banned), in which case it is built for them and
never stored (see ``api/comments.py``).

``COMMENTS_CACHE_URL``: unset or ``memory://`` keeps a bounded LRU in each worker;
``redis://...`` shares pages between workers and instances; ``off`` disables the cache.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

MEMORY_BUDGET = 16 * 1024 * 1024  # bytes of page bodies per worker
REDIS_TTL_SECONDS = 600  # versions move on; old keys should not sit in Redis for ever


class PageCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class MemoryCache:
    """A least-recently-used map bounded by the total size of its values."""

    def __init__(self, budget: int = MEMORY_BUDGET) -> None:
        self.budget = budget
        self.size = 0
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.budget // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._items[key] = value
            self.size += len(value)
            while self.size > self.budget:
                _, evicted = self._items.popitem(last=False)
                self.size -= len(evicted)

    def __len__(self) -> int:
        return len(self._items)


class RedisCache:
    """Pages shared by every worker and instance. Redis trouble is a miss, never an error:
    the page is then built from the database, as it would be without a cache."""

    def __init__(self, url: str, ttl: int = REDIS_TTL_SECONDS) -> None:
        self.ttl = ttl
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.25, socket_timeout=0.25)

    def get(self, key: str) -> bytes | None:
        try:
            value: Any = self.client.get(key)
        except Exception as exc:  # noqa: BLE001 - any Redis failure is a miss
            log.warning("page cache: Redis get failed (%s); reading the database", exc)
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        try:
            self.client.set(key, value, ex=self.ttl)
        except Exception as exc:  # noqa: BLE001
            log.warning("page cache: Redis set failed (%s)", exc)


def from_url(url: str | None) -> PageCache | None:
    if not url or url == "memory://":
        return MemoryCache()
    if url == "off":
        return None
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"expected memory://, redis://... or off, got {url!r}")


def pack(etag: str, body: bytes) -> bytes:
    return etag.encode() + b"\n" + body


def unpack(value: bytes) -> tuple[str, bytes]:
    etag, _, body = value.partition(b"\n")
    return etag.decode(), body
