"""What `make run` prints once the server answers: where to go and how to call the API.

`flask --app service banner --wait 60` is started in the background just before the server,
whichever server that is: it asks the address the configuration names (HOST, PORT) for
/healthz until something answers, then prints. Pages that are off (the demo outside demo
mode, /docs when COMMENTS_API_DOCS is off) are left out.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from .config import Settings

# Addresses that mean "every interface": a browser reaches the server through loopback.
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def base_url(host: str, port: int) -> str:
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


def token_command(base: str, persona: str = "reader-a") -> str:
    """A shell line that sets TOKEN to a demo identity's token (python3 reads the JSON)."""
    return (
        f"TOKEN=$(curl -s -H 'Content-Type: application/json' "
        f'-d \'{{"persona":"{persona}"}}\' {base}/demo/token '
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')"
    )


def banner_text(settings: Settings, listening: bool = True) -> str:
    base = base_url(settings.host, settings.port)
    lines = [f"The comments service is {'listening on' if listening else 'configured for'} {base}"]
    if settings.demo:
        lines.append(f"  demo article        {base}/demo")
    lines.append(f"  moderator console   {base}/admin")
    if settings.api_docs:
        lines.append(f"  API docs            {base}/docs  (try any call from there)")
    else:
        lines.append(f"  API description     {base}/openapi.yaml")
    if settings.demo:
        lines += [
            "  a token for curl (demo mode; personas reader-a, reader-b, moderator):",
            f"    {token_command(base)}",
            '    then: curl -H "Authorization: Bearer $TOKEN" ...  '
            '(README.md, "A walk through the API with curl")',
        ]
    return "\n".join(lines)


def wait_until_listening(base: str, seconds: float, interval: float = 0.25) -> bool:
    """True once GET /healthz answers 200, False when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
