"""The widget's and the console's files: gzip when accepted, a strong ETag per encoding,
304 on revalidation, five minutes' freshness on an unversioned URL (service/assets.py)."""

from __future__ import annotations

import gzip

import pytest

ASSETS = [
    "/embed/comments.js",
    "/embed/comments.css",
    "/embed/count.js",
    "/admin/console.js",
    "/admin/console.css",
]


@pytest.mark.parametrize("path", ASSETS)
def test_gzip_when_accepted_and_identity_otherwise(client, path):
    plain = client.get(path)
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert len(zipped.get_data()) < len(plain.get_data()) / 2
    for r in (plain, zipped):
        assert "Accept-Encoding" in r.headers["Vary"]
        assert r.headers["Cache-Control"] == "public, max-age=300"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


@pytest.mark.parametrize("path", ASSETS)
def test_strong_etags_revalidate_to_304(client, path):
    plain = client.get(path)
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    etags = [r.headers["ETag"] for r in (plain, zipped)]
    assert all(e.startswith('"') for e in etags), etags  # strong, not W/"..."
    assert etags[0] != etags[1]  # two representations, two validators
    assert client.get(path).headers["ETag"] == etags[0]  # stable
    again = client.get(path, headers={"If-None-Match": etags[0]})
    assert again.status_code == 304 and again.get_data() == b""
    again = client.get(path, headers={"If-None-Match": etags[1], "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.get_data() == b""
    stale = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_a_changed_file_gets_a_new_etag(client, tmp_path, app):
    from service.assets import send_asset

    asset = tmp_path / "x.js"
    asset.write_text("one")
    with app.test_request_context("/"):
        first = send_asset(tmp_path, "x.js", "text/javascript", 300).headers["ETag"]
    asset.write_text("two!")
    with app.test_request_context("/"):
        second = send_asset(tmp_path, "x.js", "text/javascript", 300)
    assert second.headers["ETag"] != first
    second.direct_passthrough = False
    assert second.get_data() == b"two!"
