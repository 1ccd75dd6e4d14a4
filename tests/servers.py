"""Real processes for tests that need more than the test client: the service as
`python -m service.serve` (granian) starts it, on a free port. The one launcher and the one
``free_port()`` of the suite (tests/production, tests/reliability, tests/readme and the rate
limit tests start their servers here)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)
STRONG = "s" * 48  # 48 characters: passes production's length checks


def is_server_process(args: str) -> bool:
    """Is this `ps` command line one of our server's processes? `python -m service.serve`
    starts granian, which renames its processes ("granian asgi ADDRESS service.asgi:app",
    and "... worker-N") when setproctitle is installed, as it is with the test tools."""
    return "service.serve" in args or (
        args.startswith("granian ") and ("service.asgi" in args or "service.wsgi" in args)
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment for a child: the venv's tools first, no test database, no stray
    settings from the caller's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMENTS_", "RATELIMIT_", "PROMETHEUS_", "TEST_"))
        and k not in {"DATABASE_URL", "WEB_CONCURRENCY", "HOST", "PORT", "ACCESS_LOG"}
    }
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def get(url: str, timeout: float = 2.0, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until_ready(process: subprocess.Popen[Any], url: str, seconds: float = 30.0) -> None:
    """Until ``url`` answers 200; fails when the process exits first or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode} before it was ready")
        try:
            if get(url, timeout=1.0)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready within {seconds} s")


def stop(process: subprocess.Popen[Any], seconds: float = 30.0) -> int:
    """SIGTERM, then the exit status; killed (and TimeoutExpired raised) if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def start(
    env: dict[str, str], log: Path, target: Sequence[str] = ()
) -> tuple[subprocess.Popen[Any], str]:
    """`python -m service.serve [target]` on a free port of 127.0.0.1, its output appended to
    ``log``; returns the process and its base URL (not waited for: see wait_until_ready)."""
    port = free_port()
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "service.serve", *target],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


@contextmanager
def server(
    env: dict[str, str], workers: int = 1, ready: str = "/healthz", ready_timeout: float = 20.0
) -> Iterator[str]:
    """Serve the app as `make run` and the container do, in this process's environment plus
    ``env``; yields the base URL, and stops the server after. Its log goes to the file
    TEST_SERVER_LOG names (kept), else to a temporary one (its tail is shown on failure)."""
    keep = os.environ.get("TEST_SERVER_LOG")
    with tempfile.TemporaryDirectory(prefix="server-") as tmp:
        log = Path(keep) if keep else Path(tmp) / "server.log"
        offset = log.stat().st_size if log.exists() else 0
        process, base = start({**os.environ, **env, "WEB_CONCURRENCY": str(workers)}, log)
        try:
            try:
                wait_until_ready(process, base + ready, seconds=ready_timeout)
            except AssertionError as exc:
                tail = log.read_bytes()[offset:].decode(errors="replace")[-3000:]
                raise RuntimeError(f"{exc}\n{tail}") from None
            yield base
        finally:
            try:
                stop(process, seconds=15)
            except subprocess.TimeoutExpired:
                pass


# The name tests used while the server was gunicorn.
gunicorn = server
