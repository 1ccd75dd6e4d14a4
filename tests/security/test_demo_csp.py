"""#14 item 19: /demo under a Content-Security-Policy whose nonce is new for every response,
carried by its inline script and stylesheet and by nothing else; the same policy as the
console's and the API docs' otherwise (one builder, service/csp.py)."""

from __future__ import annotations

import re

import pytest

from service import csp

pytestmark = pytest.mark.settings(COMMENTS_DEMO=True)


def _nonce(policy: str) -> str:
    found = set(re.findall(r"'nonce-([^']+)'", policy))
    assert len(found) == 1, policy
    return found.pop()


def test_the_demo_page_has_a_strict_policy_with_a_nonce(client):
    r = client.get("/demo")
    assert r.status_code == 200
    policy = r.headers["Content-Security-Policy"]
    nonce = _nonce(policy)
    assert len(nonce) >= 22  # 128 bits or more
    assert policy == csp.policy(nonce)
    assert "'unsafe-inline'" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"


def test_every_inline_script_and_style_carries_the_nonce_and_nothing_else_is_inline(client):
    r = client.get("/demo")
    nonce = _nonce(r.headers["Content-Security-Policy"])
    html = r.get_data(as_text=True)
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    styles = re.findall(r"<style([^>]*)>", html)
    assert inline_scripts and styles
    for attributes in inline_scripts + styles:
        assert f'nonce="{nonce}"' in attributes
    # Inline handlers and style attributes would be refused by the policy: none may be left.
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"\sstyle\s*=", html)


def test_each_response_gets_a_new_nonce(client):
    nonces = {_nonce(client.get("/demo").headers["Content-Security-Policy"]) for _ in range(3)}
    assert len(nonces) == 3


def test_console_and_docs_keep_the_same_policy_without_a_nonce(client):
    for path in ("/admin", "/docs"):
        r = client.get(path)
        assert r.headers["Content-Security-Policy"] == csp.policy()
        assert "nonce" not in r.headers["Content-Security-Policy"]
