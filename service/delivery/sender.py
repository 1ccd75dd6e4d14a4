"""Sending one signed webhook: Standard Webhooks headers, signed with the ``standardwebhooks``
package, POSTed with urllib3 to the address the SSRF check approved.

The connection goes to the checked IP address itself (the Host header and the TLS server
name stay the URL's host, and the certificate is verified against it), so a name cannot
resolve to a public address for the check and a private one for the connection. Redirects
are not followed (a 3xx is a failed attempt); connect and read have their own time limits;
at most 64 KiB of the answer is read, and only its status is kept.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import urllib3
from standardwebhooks.webhooks import Webhook
from urllib3.exceptions import HTTPError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from . import ssrf

USER_AGENT = "comments-service-webhooks/1"
MAX_ANSWER_BYTES = 64 * 1024
MAX_POOLS = 64

DELIVERED = "delivered"
HTTP_ERROR = "http_error"
TIMEOUT = "timeout"
CONNECTION_ERROR = "connection_error"
REFUSED = "refused"
RESULTS = (DELIVERED, HTTP_ERROR, TIMEOUT, CONNECTION_ERROR, REFUSED)


@dataclass(frozen=True)
class Outcome:
    result: str  # one of RESULTS
    status: int | None = None  # the HTTP status, when an answer came
    error: str | None = None  # why it failed, for the deliveries list
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result == DELIVERED


def signed_headers(secret: str, message_id: str, payload: str) -> dict[str, str]:
    """The Standard Webhooks headers for ``payload`` (signed now, so a retry of an old event
    carries a fresh timestamp that receivers' replay windows accept)."""
    seconds = int(time.time())
    moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(seconds),
        "webhook-signature": Webhook(secret).sign(message_id, moment, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Sender:
    """Sends webhooks; thread-safe, keeps one small connection pool per checked address."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        allow_private: bool,
        pool_size: int = 8,
    ) -> None:
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.allow_private = allow_private
        self.pool_size = pool_size
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, target: ssrf.Target, address: str) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, address, target.port, target.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                if len(self._pools) >= MAX_POOLS:
                    oldest = next(iter(self._pools))
                    self._pools.pop(oldest).close()
                options = {
                    "maxsize": self.pool_size,
                    "block": False,
                    "retries": False,
                    "timeout": self.timeout,
                }
                if target.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(
                        address,
                        target.port,
                        server_hostname=target.host,
                        assert_hostname=target.host,
                        cert_reqs="CERT_REQUIRED",
                        **options,  # type: ignore[arg-type]
                    )
                else:
                    pool = urllib3.HTTPConnectionPool(address, target.port, **options)  # type: ignore[arg-type]
                self._pools[key] = pool
            return pool

    def send(self, url: str, payload: str, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            target = ssrf.check(url, allow_private=self.allow_private)
        except ssrf.Refused as exc:
            return Outcome(REFUSED, error=f"refused: {exc}"[:500])
        host = f"[{target.host}]" if ":" in target.host else target.host
        default_port = ssrf.SCHEMES[target.scheme]
        host_header = host if target.port == default_port else f"{host}:{target.port}"
        pool = self._pool(target, target.addresses[0])
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=payload.encode(),
                headers={**headers, "host": host_header},
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                timeout=self.timeout,
            )
            try:
                response.read(MAX_ANSWER_BYTES, decode_content=False)
            finally:
                if response.length_remaining:  # more than we read: do not reuse the connection
                    response.close()
                else:
                    response.release_conn()
        except Urllib3Timeout as exc:
            return Outcome(
                TIMEOUT, error=f"timeout: {exc}"[:500], seconds=time.monotonic() - started
            )
        except (HTTPError, OSError) as exc:
            return Outcome(
                CONNECTION_ERROR,
                error=f"{exc.__class__.__name__}: {exc}"[:500],
                seconds=time.monotonic() - started,
            )
        seconds = time.monotonic() - started
        status = response.status
        if 200 <= status < 300:
            return Outcome(DELIVERED, status=status, seconds=seconds)
        why = "redirect not followed" if 300 <= status < 400 else "answered"
        return Outcome(HTTP_ERROR, status=status, error=f"{why} {status}", seconds=seconds)

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


__all__ = ["Outcome", "RESULTS", "Sender", "signed_headers"]
