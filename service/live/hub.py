"""One process's live-event hub: event ids, the replay buffer, and fan-out to open streams.

Every event of an article gets the id ``<era>-<seq>``: ``seq`` counts that article's events
from 1, ``era`` names the buffer that counted them (a buffer that is lost and made again,
after a restart or its expiry, starts a new era, so an old id can never be mistaken for a
new one). A client resuming with ``Last-Event-ID`` gets the events after it when the buffer
still holds all of them, otherwise a ``reset`` (refetch the thread).

Two ways to share events, chosen by whether a Redis is configured:

* **Redis** (``COMMENTS_REDIS_URL``, or the cache's or rate limiter's Redis): publishing is
  one Redis call, a Lua script that takes the next id, appends the event to the article's
  capped stream (``XADD ... MAXLEN ~``, the replay buffer, expiring when idle) and
  ``PUBLISH``es it. Each worker process of every instance holds one pub/sub subscription
  and hands each message to its own open streams.
* **In process** (no Redis): ids and a bounded ring per article live here, and publishing
  hands the event to this process's event loop. Other processes do not hear of it, so run
  one worker process (``make run`` does) or configure a Redis.

Threads: ``publish`` and ``replay`` run in the app's request threads; ``subscribe``,
``unsubscribe`` and delivery run on the event loop of the ASGI server (service/asgi.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import threading
import time
import types
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generator, Iterable, Iterator

import redis

log = logging.getLogger(__name__)

KEY_PREFIX = "comments:live:"
IDLE_TTL_SECONDS = 24 * 3600  # an article's buffer with no event for a day is dropped
MAX_PENDING = 512  # frames waiting for one slow client before its stream is ended
LOCAL_BUDGET = 32 * 1024 * 1024  # bytes of frames kept by the in-process rings
NO_EVENTS = "0"  # the id of "nothing published yet": a resume from it replays from the start
PING = b": ping\n\n"
BATCH = 500  # streams written before the fan-out lets the loop run other work
FANOUT_LOG_MIN = 1000  # a fan-out to this many streams logs its timing (bench/streams.py)

Send = Callable[[dict[str, Any]], Awaitable[None]]

# KEYS: the article's stream, its meta hash. ARGV: maxlen, ttl, channel, article, type,
# data, era for a new buffer. Returns the id. Fields: e (type), d (data JSON).
PUBLISH_SCRIPT = """
local era = redis.call('HGET', KEYS[2], 'era')
if not era then
  era = ARGV[7]
  redis.call('HSET', KEYS[2], 'era', era)
end
local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'e', ARGV[5], 'd', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
local id = era .. '-' .. seq
local frame = 'id: ' .. id .. '\\nevent: ' .. ARGV[5] .. '\\ndata: ' .. ARGV[6] .. '\\n\\n'
redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\\n' .. era .. '\\n' .. seq .. '\\n' .. frame)
return id
"""


def frame(event_id: str, event: str, data: bytes) -> bytes:
    """One server-sent event, as sent: JSON data holds no newline, so one data line."""
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (event_id.encode(), event.encode(), data)


def parse_id(value: str | None) -> tuple[str, int] | None:
    """``"<era>-<seq>"`` → (era, seq); None for anything else (a client's header)."""
    if not value or len(value) > 64:
        return None
    era, sep, seq = value.strip().rpartition("-")
    if not sep or not era or not seq.isdigit():
        return None
    return era, int(seq)


@dataclass(frozen=True)
class Replay:
    """What a stream starts with: ``body`` (missed events, or a reset), and the newest id
    it covers (``era``, ``seq``), so live events already in ``body`` are not sent twice."""

    body: bytes
    head: str
    era: str | None
    seq: int


class Subscriber:
    """One open stream, on the event loop: no task, timer or future of its own while it
    waits; the hub's one fan-out task writes each event to it (``Hub.attach``).

    ``send`` is the stream's ASGI send once its response has started; before that, and
    while a send to a slow client is still under way (``busy``), frames wait in
    ``backlog``. ``era``/``seq`` name the newest event its replay held, so an event in
    both is sent once. ``done`` is set when the stream ends; ``gone`` when the client
    ended it; ``listening`` is the server's pending ``receive`` (service/asgi.py)."""

    __slots__ = (
        "article_id", "send", "era", "seq", "busy", "backlog", "closed", "done", "gone",
        "listening",
    )  # fmt: skip

    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        self.send: Send | None = None
        self.era: str | None = None
        self.seq = 0
        self.busy = False
        self.backlog: list[tuple[str, int, bytes]] | None = None
        self.closed = False
        self.done: asyncio.Future[None] | None = None
        self.gone = False
        self.listening: Any = None

    def wants(self, era: str, seq: int) -> bool:
        """False for an event its replay already held."""
        return not (era == self.era and seq <= self.seq)

    def close(self) -> None:
        self.closed = True
        self.backlog = None
        if self.done is not None and not self.done.done():
            self.done.set_result(None)


class _Ring:
    __slots__ = ("era", "seq", "entries", "size")

    def __init__(self, era: str, maxlen: int) -> None:
        self.era = era
        self.seq = 0
        self.entries: deque[tuple[int, bytes]] = deque(maxlen=maxlen)
        self.size = 0


class Hub:
    def __init__(
        self, *, redis_url: str | None, buffer: int, max_per_ip: int, heartbeat: float = 15.0
    ) -> None:
        self.redis_url = redis_url
        self.buffer = buffer
        self.max_per_ip = max_per_ip
        self.heartbeat = heartbeat
        self._lock = threading.Lock()
        self._rings: OrderedDict[str, _Ring] = OrderedDict()
        self._ring_bytes = 0
        self._eras = itertools.count(1)
        self._process_era = str(int(time.time() * 1000))
        self._per_ip: dict[str, int] = {}
        self._subscribers: dict[str, set[Subscriber]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._listener: asyncio.Task[None] | None = None
        self._listening: asyncio.Event | None = None
        self._waited = False
        # the fan-out (event loop): events in order, one task writing them, one ticker
        self._outbox: deque[tuple[str | None, str, int, bytes]] = deque()
        self._fanning: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._drains: set[asyncio.Task[None]] = set()
        self._redis: redis.Redis | None = None
        self._sha = ""
        self.channel = ""
        if redis_url:
            self._redis = redis.Redis.from_url(
                redis_url, socket_connect_timeout=0.25, socket_timeout=0.25
            )
            self._sha = hashlib.sha1(PUBLISH_SCRIPT.encode()).hexdigest()
            db = self._redis.connection_pool.connection_kwargs.get("db", 0)
            # Pub/sub is shared by every database of a Redis server: the channel names ours.
            self.channel = f"{KEY_PREFIX}{db}"

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None

    # --- publishing (request threads) -----------------------------------------------------

    def publish(self, items: Iterable[tuple[str, str, bytes]]) -> None:
        """Send (article id, event, data JSON) to every stream of those articles. Called
        after the commit; never raises (the change happened whatever the stream does)."""
        items = list(items)
        if not items:
            return
        try:
            if self._redis is not None:
                self._publish_redis(items)
            else:
                self._publish_local(items)
        except Exception as exc:  # a lost event: streams see a gap only on resume
            log.warning("live events not published: %s", exc.__class__.__name__)

    def _publish_redis(self, items: list[tuple[str, str, bytes]]) -> None:
        """One round trip: EVALSHA per event, pipelined (the script is loaded once, and
        again if Redis lost it)."""
        assert self._redis is not None
        era = str(int(time.time()))
        for attempt in (1, 2):
            pipe = self._redis.pipeline(transaction=False)
            for article_id, event, data in items:
                stream, meta = _keys(article_id)
                args = (self.buffer, IDLE_TTL_SECONDS, self.channel, article_id, event, data, era)
                pipe.evalsha(self._sha, 2, stream, meta, *args)
            try:
                pipe.execute()
                return
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self._sha = self._redis.script_load(PUBLISH_SCRIPT)

    def _publish_local(self, items: list[tuple[str, str, bytes]]) -> None:
        out = []
        with self._lock:
            for article_id, event, data in items:
                ring = self._ring(article_id, create=True)
                assert ring is not None
                ring.seq += 1
                sent = frame(f"{ring.era}-{ring.seq}", event, data)
                if len(ring.entries) == ring.entries.maxlen:
                    ring.size -= len(ring.entries[0][1])
                    self._ring_bytes -= len(ring.entries[0][1])
                ring.entries.append((ring.seq, sent))
                ring.size += len(sent)
                self._ring_bytes += len(sent)
                out.append((article_id, ring.era, ring.seq, sent))
            while self._ring_bytes > LOCAL_BUDGET and len(self._rings) > 1:
                _, dropped = self._rings.popitem(last=False)
                self._ring_bytes -= dropped.size
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver_all, out)

    def _ring(self, article_id: str, *, create: bool) -> _Ring | None:
        ring = self._rings.get(article_id)
        if ring is None and create:
            # A ring made again after it was dropped starts a new era (see the module doc).
            ring = _Ring(f"{self._process_era}.{next(self._eras)}", self.buffer)
            self._rings[article_id] = ring
        if ring is not None:
            self._rings.move_to_end(article_id)
        return ring

    # --- replay (request threads) ---------------------------------------------------------

    def replay(self, article_id: str, last_event_id: str | None) -> Replay:
        """The events after ``last_event_id`` if all are still known, else a reset; for a
        fresh stream (no id), nothing but the newest id."""
        if self._redis is not None:
            try:
                era, seq, entries = self._redis_state(article_id, last_event_id)
            except redis.exceptions.RedisError as exc:
                # No buffer to read: refetch, and keep the client's id (a reset without
                # one), so that it resumes exactly once Redis answers again.
                log.warning("live events: no replay, Redis failed (%s)", exc.__class__.__name__)
                return Replay(b"event: reset\ndata: {}\n\n", NO_EVENTS, None, 0)
        else:
            era, seq, entries = self._local_state(article_id, last_event_id)
        head = f"{era}-{seq}" if era is not None else NO_EVENTS
        if last_event_id is None:
            return Replay(b"", head, era, seq)
        if last_event_id.strip() == NO_EVENTS:
            wanted: tuple[str, int] | None = (era or "", 0)
        else:
            wanted = parse_id(last_event_id)
        if era is None:
            missed = wanted is None or wanted[1] != 0
        elif wanted is None or wanted[0] != era or wanted[1] > seq:
            missed = True
        else:
            after = [(s, f) for s, f in entries if s > wanted[1]]
            # every event after the client's must be here: none trimmed, none beyond the
            # page read (Redis trims approximately, so it may hold more than the buffer)
            missed = wanted[1] < seq and (
                not after or after[0][0] != wanted[1] + 1 or after[-1][0] != seq
            )
            if not missed:
                return Replay(b"".join(f for _, f in after), head, era, seq)
        if not missed:
            return Replay(b"", head, era, seq)
        return Replay(frame(head, "reset", b"{}"), head, era, seq)

    def _local_state(
        self, article_id: str, _last: str | None
    ) -> tuple[str | None, int, list[tuple[int, bytes]]]:
        with self._lock:
            ring = self._ring(article_id, create=False)
            if ring is None:
                return None, 0, []
            return ring.era, ring.seq, list(ring.entries)

    def _redis_state(
        self, article_id: str, last: str | None
    ) -> tuple[str | None, int, list[tuple[int, bytes]]]:
        assert self._redis is not None
        stream, meta = _keys(article_id)
        wanted = parse_id(last) if last else None
        after = wanted[1] if wanted else 0
        pipe = self._redis.pipeline(transaction=False)
        pipe.hmget(meta, "era", "seq")
        if last is not None:
            pipe.xrange(stream, min=f"({after}-0", max="+", count=self.buffer + 1)
        results = pipe.execute()
        era_raw, seq_raw = results[0]
        if era_raw is None:
            return None, 0, []
        era, seq = era_raw.decode(), int(seq_raw or 0)
        entries = []
        for entry_id, fields in results[1] if last is not None else []:
            s = int(entry_id.decode().split("-")[0])
            entries.append((s, frame(f"{era}-{s}", fields[b"e"].decode(), fields[b"d"])))
        return era, seq, entries

    # --- the per-IP cap (request threads reserve, the event loop releases) -----------------

    def reserve(self, ip: str) -> bool:
        with self._lock:
            held = self._per_ip.get(ip, 0)
            if held >= self.max_per_ip:
                return False
            self._per_ip[ip] = held + 1
            return True

    def release(self, ip: str) -> None:
        with self._lock:
            held = self._per_ip.get(ip, 0) - 1
            if held > 0:
                self._per_ip[ip] = held
            else:
                self._per_ip.pop(ip, None)

    # --- streams (the event loop) ---------------------------------------------------------

    async def start(self) -> None:
        """Bind to the running loop; with Redis, subscribe (once) before the first stream."""
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self._ticker = self.loop.create_task(self._tick())
            if self._redis is not None:
                self._listening = asyncio.Event()
                self._listener = self.loop.create_task(self._listen())
        if self._listening is not None and not self._waited:
            self._waited = True  # once: while Redis is away, streams open without waiting
            try:
                await asyncio.wait_for(self._listening.wait(), timeout=5)
            except asyncio.TimeoutError:
                log.warning("live events: Redis subscription not ready after 5 s")

    def subscribe(self, article_id: str) -> Subscriber:
        subscriber = Subscriber(article_id)
        self._subscribers.setdefault(article_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self._subscribers.get(subscriber.article_id)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self._subscribers[subscriber.article_id]

    @property
    def open_streams(self) -> int:
        return sum(len(group) for group in self._subscribers.values())

    def close_all(self) -> None:
        """End every open stream (shutdown, or a lost Redis subscription: the clients
        reconnect and resume from their last id)."""
        for group in list(self._subscribers.values()):
            for subscriber in list(group):
                subscriber.close()

    def attach(self, subscriber: Subscriber, send: Send, era: str | None, seq: int) -> None:
        """The stream's response has started (with its replay up to ``era``/``seq``):
        from now on events are written to ``send``; those that came meanwhile go first."""
        subscriber.send, subscriber.era, subscriber.seq = send, era, seq
        if subscriber.done is None:
            subscriber.done = asyncio.get_running_loop().create_future()
            if subscriber.closed:
                subscriber.done.set_result(None)
        waiting, subscriber.backlog = subscriber.backlog, None
        for e, s, data in waiting or ():
            self._write(subscriber, e, s, data)

    def _deliver_all(self, items: list[tuple[str, str, int, bytes]]) -> None:
        for article_id, era, seq, data in items:
            self._deliver(article_id, era, seq, data)

    def _deliver(self, article_id: str | None, era: str, seq: int, data: bytes) -> None:
        """Queue an event (``article_id`` None: a heartbeat to every stream) for the one
        fan-out task, which writes events in the order they came."""
        self._outbox.append((article_id, era, seq, data))
        if self._fanning is None or self._fanning.done():
            self._fanning = asyncio.get_running_loop().create_task(self._fan_out())

    async def _fan_out(self) -> None:
        """Write each queued event's one ``bytes`` to its article's streams, letting the
        loop run every BATCH streams (the pool's answers, a posting request's among them,
        are sent from this loop too). With granian a send does not wait for the client:
        it hands the bytes to the connection (a slow client's send is left to finish in
        a task of its own, ``_write``)."""
        while self._outbox:
            article_id, era, seq, data = self._outbox.popleft()
            if article_id is None:
                targets = [s for group in self._subscribers.values() for s in group]
            else:
                targets = list(self._subscribers.get(article_id, ()))
            began, clock = time.time(), time.perf_counter()
            for i, subscriber in enumerate(targets, 1):
                if article_id is None and (subscriber.busy or subscriber.send is None):
                    continue  # a stream that is still sending needs no ping
                self._write(subscriber, era, seq, data)
                if i % BATCH == 0:
                    await asyncio.sleep(0)
            if article_id is not None and len(targets) >= FANOUT_LOG_MIN:
                log.info(
                    "live fan-out: event %s-%d of article %s to %d streams, began %.3f, "
                    "took %.1f ms",
                    era, seq, article_id, len(targets), began,
                    (time.perf_counter() - clock) * 1000,
                )  # fmt: skip

    def _write(self, subscriber: Subscriber, era: str, seq: int, data: bytes) -> None:
        if subscriber.closed or not subscriber.wants(era, seq):
            return
        if subscriber.send is None or subscriber.busy:
            backlog = subscriber.backlog
            if backlog is None:
                backlog = subscriber.backlog = []
            if len(backlog) >= MAX_PENDING:
                subscriber.close()  # a client this far behind reconnects and resumes
            else:
                backlog.append((era, seq, data))
            return
        message = {"type": "http.response.body", "body": data, "more_body": True}
        try:
            started = _begin(subscriber.send(message))
        except Exception:  # the client is gone
            subscriber.close()
            return
        if started is not None:  # the client reads slowly: finish (and catch up) apart
            subscriber.busy = True
            task = asyncio.get_running_loop().create_task(self._drain(subscriber, *started))
            self._drains.add(task)
            task.add_done_callback(self._drains.discard)

    async def _drain(self, subscriber: Subscriber, *started: Any) -> None:
        try:
            await _resume(*started)
            while subscriber.backlog and subscriber.send is not None and not subscriber.closed:
                waiting, subscriber.backlog = subscriber.backlog, None
                body = b"".join(d for e, s, d in waiting if subscriber.wants(e, s))
                message = {"type": "http.response.body", "body": body, "more_body": True}
                await subscriber.send(message)
        except Exception:
            subscriber.close()
        finally:
            subscriber.busy = False

    async def _tick(self) -> None:
        """One heartbeat for every stream each ``heartbeat`` seconds, through the fan-out
        (so it never cuts into an event), instead of a timer per stream."""
        while True:
            await asyncio.sleep(self.heartbeat)
            if self._subscribers:
                self._deliver(None, "", 0, PING)

    async def _listen(self) -> None:
        import redis.asyncio as aioredis  # lazy: only a worker that serves streams needs it

        assert self.redis_url and self._listening is not None
        while True:
            client = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._listening.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        article, era, seq, data = message["data"].split(b"\n", 3)
                        self._deliver(article.decode(), era.decode(), int(seq), data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._listening.is_set():  # once per outage, not once per retry
                    log.warning("live events: Redis subscription lost (%s)", type(exc).__name__)
                    self._listening.clear()
                    self.close_all()  # what they missed meanwhile comes back by replay
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    async def stop(self) -> None:
        self.close_all()
        for task in (self._ticker, self._fanning, *self._drains):
            if task is not None:
                task.cancel()
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):
                pass
            self._listener = None


def _begin(awaitable: Awaitable[None]) -> tuple[Any, Any] | None:
    """Run ``awaitable`` up to its first suspension: None when it finished without one
    (granian's send, unless the connection's one-chunk channel is still full), else what
    ``_resume`` needs to finish it in a task. Stepped with ``next``: granian's awaitables
    are iterators without ``send``."""
    steps = awaitable.__await__()
    try:
        suspended = next(steps)
    except StopIteration:
        return None
    return steps, suspended


@types.coroutine
def _resume(steps: Iterator[Any], suspended: Any) -> Generator[Any, Any, None]:
    """The rest of an awaitable that ``_begin`` started: what it waits on is waited on by
    the task that awaits this (a task resumes with None, so ``next`` is enough)."""
    while True:
        try:
            yield suspended
        except BaseException as exc:  # cancelled: hand it on
            throw = getattr(steps, "throw", None)
            if throw is None:
                raise
            try:
                suspended = throw(exc)
            except StopIteration:
                return
            continue
        try:
            suspended = next(steps)
        except StopIteration:
            return


def _keys(article_id: str) -> tuple[str, str]:
    # Braces: a Redis Cluster keeps both keys of an article on one node.
    return f"{KEY_PREFIX}{{{article_id}}}:s", f"{KEY_PREFIX}{{{article_id}}}:m"


__all__ = ["Hub", "Replay", "Subscriber", "frame", "parse_id"]
