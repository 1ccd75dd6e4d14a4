"""The HTTP server: granian (a Rust HTTP server) serving the app.

The default target is ``service.asgi:app`` on granian's ASGI interface: the live event
streams (issue 16) are held open on each worker's event loop, and every other request goes
to the Flask app on a pool of WEB_THREADS threads (service/asgi.py). A WSGI target given on
the command line (``python -m service.serve service.wsgi:app``, the benchmark's ceiling,
the tests' slow app) is served on the WSGI interface as before.

``python -m service.serve`` is what `make run`, the container and the benchmark start. It
reads the same variables gunicorn did (HOST, PORT, WEB_CONCURRENCY, PROMETHEUS_MULTIPROC_DIR)
plus WEB_THREADS and WORKER_TIMEOUT, and gives what gunicorn gave:

* worker processes (WEB_CONCURRENCY), each with WEB_THREADS threads for the app; granian
  reads and parses requests in Rust, so a client that sends half a request and stalls holds
  no Python thread (the reason for the switch: docs/production.md);
* graceful shutdown on SIGTERM/SIGINT: in-flight requests finish, within 20 s;
* a worker that dies is replaced (``respawn_failed_workers``);
* a request stuck for WORKER_TIMEOUT seconds ends its worker, which is then replaced
  (``service.watchdog``; granian itself has no per-request timeout);
* metrics summed across workers (a fresh PROMETHEUS_MULTIPROC_DIR, stale files removed);
* JSON log lines for granian's own messages too; the app logs the one access line per
  request;
* one delivery worker beside it (``flask --app service worker``: webhooks and whatever
  else waits in the outbox), started before the server and stopped after it, unless
  COMMENTS_DELIVERY_WORKER=false (production may run workers as their own processes).

``python -m service.serve bench.ceiling:app`` serves another WSGI target the same way.

``COMMENTS_SERVER=uvicorn`` serves the same ASGI app on uvicorn instead (``uvicorn_server``):
an open event stream costs about a third of granian's memory there, so an instance that
holds many streams fits in less; what it lacks is granian's time limit on a client that
never finishes its headers (docs/production.md, "Many open streams").
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from .config import SETTINGS

DEFAULT_TARGET = "service.asgi:app"
ASGI_TARGETS = frozenset({DEFAULT_TARGET})
# Connections one ASGI worker holds at once: its open event streams plus the requests in
# flight (granian's default, backlog / workers, would refuse the 1,025th stream).
ASGI_CONNECTIONS_PER_WORKER = 20_000
GRACEFUL_SECONDS = 20
# The app's own limits on the request line and header block (service/requestlimits.py) sit
# below granian's (a 64 KiB request target; this buffer for the head), so every request
# granian can parse reaches the app and is refused, if at all, as problem+json.
HTTP1_BUFFER = 417_792
HEADER_READ_TIMEOUT_MS = 10_000
BACKLOG = 2048  # a client that never finishes its headers is dropped
WORKER_NICENESS = 10  # the delivery worker beside the server (see start_delivery_worker)


_ROWS = {setting.name: setting for setting in SETTINGS}


def setting(name: str) -> Any:
    """A setting the server needs before any app exists (the app loads them all again and
    checks them): read from the environment with the one table's parser, check and default
    (service/config.py), so the server and the app never disagree about any of them."""
    row = _ROWS[name]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return row.default
    try:
        value = row.parse(raw)
    except ValueError as exc:
        sys.exit(f"comments: {name} cannot be {raw!r}: {exc}")
    problem = row.check(value) if row.check is not None else None
    if problem is not None:
        sys.exit(f"comments: {name} cannot be {raw!r}: {problem}")
    return value


def metrics_dir() -> str | None:
    """Point every worker at one directory for prometheus-client's multiprocess files:
    the given one emptied of a previous run's files, or a fresh one (returned, to remove at
    exit). Must run before a worker imports prometheus_client."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        return None
    made = tempfile.mkdtemp(prefix="comments-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.jsonlog.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "_granian": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "granian.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def server(target: str = DEFAULT_TARGET) -> Any:
    # granian's Rust extension is ~19 MB of a process, which uvicorn's supervisor never needs
    from granian.constants import Interfaces  # lazy: see above
    from granian.http import HTTP1Settings  # lazy: as above
    from granian.log import LogLevels  # lazy: as above
    from granian.server import Server  # lazy: as above

    workers: int = setting("WEB_CONCURRENCY")
    threads: int = setting("WEB_THREADS")
    os.environ.setdefault("WORKER_TIMEOUT", str(setting("WORKER_TIMEOUT")))
    level = str(setting("COMMENTS_LOG_LEVEL")).lower()
    asgi = target in ASGI_TARGETS
    return Server(
        target,
        address=setting("HOST"),
        port=setting("PORT"),
        interface=Interfaces.ASGI if asgi else Interfaces.WSGI,
        workers=workers,
        # WSGI: the app's threads are granian's. ASGI: the app's pool is service/asgi.py's
        # (WEB_THREADS), and granian allows one blocking thread.
        blocking_threads=1 if asgi else threads,
        # granian's backpressure caps the connections a worker holds at once (idle and
        # half-sent ones included), not the requests running: left at its default,
        # backlog / workers, for WSGI. Requests beyond the threads wait, parsed, inside
        # granian (WSGI) or as tasks waiting for the pool (ASGI).
        backpressure=ASGI_CONNECTIONS_PER_WORKER if asgi else None,
        backlog=BACKLOG,
        http1_settings=HTTP1Settings(
            header_read_timeout=HEADER_READ_TIMEOUT_MS, max_buffer_size=HTTP1_BUFFER
        ),
        websockets=False,
        log_level=LogLevels(level if level in LogLevels.__members__ else "info"),
        log_dictconfig=LOG_CONFIG,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=GRACEFUL_SECONDS,
    )


UVICORN_LOG_CONFIG: dict[str, Any] = {
    **LOG_CONFIG,
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
    },
}


def uvicorn_server(target: str = DEFAULT_TARGET) -> Any:
    """The same app on uvicorn (``COMMENTS_SERVER=uvicorn``): uvloop and httptools, whose
    open connection costs about a third of granian's (docs/performance.md), for an instance
    that holds many event streams. A supervisor process starts WEB_CONCURRENCY workers
    and replaces one that dies (the watchdog's exit included), as granian does; SIGTERM
    ends the streams (service/asgi.py) and lets in-flight requests finish within 20 s.
    Not here: a time limit on a client that never finishes its headers (it holds a
    connection, not a thread: docs/production.md)."""
    import uvicorn  # lazy: only this server needs it
    from uvicorn.supervisors import Multiprocess  # lazy: as above

    if target not in ASGI_TARGETS:
        sys.exit("comments: COMMENTS_SERVER=uvicorn serves the service's ASGI app only")
    level = str(setting("COMMENTS_LOG_LEVEL")).lower()
    os.environ.setdefault("WORKER_TIMEOUT", str(setting("WORKER_TIMEOUT")))
    config = uvicorn.Config(
        target,
        host=setting("HOST"),
        port=setting("PORT"),
        workers=setting("WEB_CONCURRENCY"),
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        interface="asgi3",
        # The app logs the one access line per request, and reads the client's address as
        # granian gives it (the proxies it trusts are its own setting, not the server's).
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_config=UVICORN_LOG_CONFIG,
        log_level=level if level in uvicorn.config.LOG_LEVELS else "info",
        backlog=BACKLOG,
        limit_concurrency=ASGI_CONNECTIONS_PER_WORKER,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    socket = config.bind_socket()

    class Serving:
        def serve(self) -> None:
            Multiprocess(config, sockets=[socket]).run()

    return Serving()


def _end_leftover_workers() -> None:
    """granian has returned from serve(), yet a worker it respawned after a crash can still
    be running (seen in tests/reliability: it outlived the main process, holding the port
    and the log pipe). Ask any child still here to stop, then kill it."""

    def children() -> list[int]:
        try:
            text = open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read()
        except OSError:
            return []
        return [int(pid) for pid in text.split() if not _is_resource_tracker(int(pid))]

    left = children()
    for pid in left:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACEFUL_SECONDS
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        for pid in list(left):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    left.remove(pid)
            except ChildProcessError:
                left.remove(pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)


def _is_resource_tracker(pid: int) -> bool:
    """multiprocessing's resource tracker (uvicorn's workers are spawned processes) ignores
    SIGTERM and ends by itself once this process has gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"multiprocessing.resource_tracker" in cmdline.read()
    except OSError:
        return False


def start_delivery_worker(target: str) -> subprocess.Popen[bytes] | None:
    """The delivery worker as a child process (for the service's own app only): it shares
    the server's environment, metrics directory included, so /metrics shows its figures,
    and it stops by itself if this process dies without stopping it."""
    if target != DEFAULT_TARGET or not setting("COMMENTS_DELIVERY_WORKER"):
        return None
    command = [sys.executable, "-m", "flask", "--app", "service", "worker", "--exit-with-parent"]
    # At a lower CPU priority: on a busy machine the server's start-up and its requests come
    # first, deliveries after (they are asynchronous anyway). No threads run yet here, so a
    # preexec_fn is safe.
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_lower_priority)


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


def stop_delivery_worker(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)  # it finishes the delivery in hand, then exits
    try:
        worker.wait(timeout=GRACEFUL_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def raise_open_files_limit() -> None:
    """Each open event stream is a socket: take the hard limit of open files, not the
    usual soft 1,024 (the container's hard limit is the operator's to set)."""
    import resource  # lazy: POSIX only, and only the server needs it

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = args[0] if args else DEFAULT_TARGET
    raise_open_files_limit()
    made = metrics_dir()
    worker = start_delivery_worker(target)
    try:
        (uvicorn_server if setting("COMMENTS_SERVER") == "uvicorn" else server)(target).serve()
    finally:
        stop_delivery_worker(worker)
        _end_leftover_workers()
        if made:
            shutil.rmtree(made, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
