"""Real servers for tests that need more than the test client: the service as
`python -m service.serve` (granian) starts it, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


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
        return s.getsockname()[1]


def wait_until_ready(base: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {base} did not start within {timeout} s")


@contextmanager
def server(env: dict[str, str], workers: int = 1, ready_timeout: float = 20.0) -> Iterator[str]:
    """Serve the app as `make run` and the container do; yields the base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.serve"],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    # Drain stderr while the server runs: the app logs every request there, and once the
    # pipe's buffer (64 KiB) is full every worker blocks on its next log line.
    tail: list[bytes] = []

    keep = os.environ.get("TEST_SERVER_LOG")  # a file to keep every server log line in

    def drain() -> None:
        assert proc.stderr is not None
        sink = open(keep, "ab") if keep else None
        try:
            for line in proc.stderr:
                tail.append(line)
                del tail[:-50]
                if sink:
                    sink.write(line)
        finally:
            if sink:
                sink.close()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        try:
            wait_until_ready(base, ready_timeout)
        except RuntimeError:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(timeout=5)
            raise RuntimeError(b"".join(tail).decode()[-3000:]) from None
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        if proc.stderr:
            proc.stderr.close()


# The name tests used while the server was gunicorn.
gunicorn = server
