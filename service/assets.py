"""Static files (the widget's /embed/*, the console's /admin/*): gzip when the client
accepts it, a strong ETag per encoding, and a short freshness with revalidation.

Caching policy: the URLs stay unversioned, because host pages embed
`<script src=".../embed/comments.js">` once and must pick up fixes without editing their
pages. Clients and CDNs may reuse a copy for `max_age` seconds (300); after that they
revalidate with `If-None-Match` and get a 304 (no body) until the file changes. The files
are small (tens of KB, a quarter of that gzipped), so a revalidation every five minutes
costs little, and a fix reaches every page within five minutes.

Each file is read and compressed once per process and again only when its modification
time or size changes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from flask import Response, request
from werkzeug.http import http_date


@dataclass(frozen=True)
class _Asset:
    stamp: tuple[float, int]
    raw: bytes
    gzipped: bytes
    etag: str
    etag_gzip: str


_ASSETS: dict[Path, _Asset] = {}


def _load(path: Path) -> _Asset:
    stat = os.stat(path)
    stamp = (stat.st_mtime, stat.st_size)
    asset = _ASSETS.get(path)
    if asset is None or asset.stamp != stamp:
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()[:32]
        asset = _ASSETS[path] = _Asset(
            stamp=stamp,
            raw=raw,
            # mtime=0: the same bytes, and so the same ETag, in every worker and instance
            gzipped=gzip.compress(raw, compresslevel=9, mtime=0),
            etag=digest,
            etag_gzip=digest + "-gzip",  # another representation, another strong ETag
        )
    return asset


def send_asset(directory: Path, name: str, mimetype: str, max_age: int) -> Response:
    path = directory / name
    asset = _load(path)
    gzipped = request.accept_encodings["gzip"] > 0
    response = Response(asset.gzipped if gzipped else asset.raw, mimetype=mimetype)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(asset.etag_gzip if gzipped else asset.etag)
    response.headers["Last-Modified"] = http_date(asset.stamp[0])
    response.vary.add("Accept-Encoding")
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.make_conditional(request.environ)  # in place: a 304 when the validators match
    return response
