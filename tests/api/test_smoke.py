from tests.conftest import auth


def test_post_and_list(client, post):
    r = post("a1", "**hello** world")
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    r2 = post("a1", "reply", user="u-2", parent_id=c["id"])
    assert r2.status_code == 201, r2.get_json()
    r = client.get("/api/v1/articles/a1/comments")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == 2
    assert body["items"][0]["replies"][0]["body"] == "reply"
    assert body["items"][0]["reply_count"] == 1
