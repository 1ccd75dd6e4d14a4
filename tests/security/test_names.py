"""#14 item 16: names carry no control, bidi or invisible characters, no stacks of combining
marks, and a guest may not take the name of a signed-in reader or moderator in a thread."""

from __future__ import annotations

import pytest

from service.domain.names import name_problem
from tests.helpers import auth

API = "/api/v1"
BAD = [
    "esc\x1b[31mred",
    "two\r\nlines",
    "bell\x07",
    "evil\u202eedoc",
    "zero\u200bwidth",
    "mark\u2066isolate",
    "Z" + "\u0301" * 80,
    "line\u2028sep",
]


@pytest.mark.parametrize("name", BAD)
def test_a_guest_name_with_hostile_characters_is_422(client, name):
    r = client.post(f"{API}/articles/a1/comments", json={"body": "hi", "author_name": name})
    assert r.status_code == 422
    assert "author_name" in r.get_json()["errors"]


@pytest.mark.parametrize("name", BAD)
def test_a_token_name_with_hostile_characters_is_401(client, name):
    r = client.post(
        f"{API}/articles/a1/comments", json={"body": "hi"}, headers=auth("u-1", name=name)
    )
    assert r.status_code == 401


@pytest.mark.parametrize("name", ["José", "Nguyễn Thị", "李小龍", "O'Brien-Smith", "Zoë"])
def test_real_names_are_fine(name):
    assert name_problem(name) is None


def test_a_guest_cannot_take_a_signed_in_name_in_the_thread(client, post):
    assert post("a1", "from the desk", user="mod-1", headers=None).status_code == 201
    client.post(
        f"{API}/articles/a1/comments",
        json={"body": "official"},
        headers=auth("m-2", name="Desk Moderator", roles=["moderator"]),
    )
    for name in ["Desk Moderator", "desk moderator", "Name mod-1"]:
        r = client.post(f"{API}/articles/a1/comments", json={"body": "me too", "author_name": name})
        assert r.status_code == 422, name
        assert "author_name" in r.get_json()["errors"]
    # Another thread, or another name, is fine.
    r = client.post(
        f"{API}/articles/a2/comments", json={"body": "hi", "author_name": "Desk Moderator"}
    )
    assert r.status_code == 201
    r = client.post(f"{API}/articles/a1/comments", json={"body": "hi", "author_name": "Pat"})
    assert r.status_code == 201


def test_a_token_without_a_name_shows_its_sub_cleaned(client):
    r = client.post(
        f"{API}/articles/a1/comments", json={"body": "hi"}, headers=auth("ab\x1bc\u202e")
    )
    assert r.status_code == 201
    assert r.get_json()["author"]["name"] == "abc"
