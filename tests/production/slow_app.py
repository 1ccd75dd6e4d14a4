"""A WSGI app for tests of the server itself (shutdown, the worker timeout): /slow?s=N
answers after N seconds, anything else at once, each with the worker's pid. Served by
`python -m service.serve tests.production.slow_app:app`, wrapped like the real app."""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs

from service import watchdog
from service.observability import configure_logging


def _app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        seconds = float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["2"])[0])
        time.sleep(seconds)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{os.getpid()}\n".encode()]


configure_logging("INFO")  # JSON lines, as the real app logs them
app = watchdog.wrap(_app)
