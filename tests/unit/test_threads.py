"""Threading rules, without Flask."""

import pytest

from service.domain.threads import CursorError, Cursors, ancestor_ids, place_reply


@pytest.mark.parametrize(
    ("parent_depth", "max_depth", "expected"),
    [
        (0, 5, (10, 1)),  # a reply to a top-level comment
        (4, 5, (10, 5)),  # reaching the deepest level
        (5, 5, (7, 5)),  # deeper than allowed: becomes a sibling of its parent
        (0, 0, (None, 0)),  # no threading at all: replies become top-level comments
    ],
)
def test_place_reply_flattens_at_max_depth(parent_depth, max_depth, expected):
    assert (
        place_reply(parent_id=10, parent_depth=parent_depth, grandparent_id=7, max_depth=max_depth)
        == expected
    )


def test_ancestor_ids_reads_the_path():
    assert ancestor_ids("/") == []
    assert ancestor_ids("/1/5/23/") == [1, 5, 23]


def test_cursor_round_trip_and_tampering():
    cursors = Cursors("secret")
    token = cursors.encode("thread:a:newest", [False, 42])
    assert cursors.decode(token, "thread:a:newest", 2) == [False, 42]
    with pytest.raises(CursorError):
        cursors.decode(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "thread:a:newest", 2)
    with pytest.raises(CursorError):  # a cursor from another article or sort
        cursors.decode(token, "thread:b:newest", 2)
    with pytest.raises(CursorError):  # signed by another installation
        Cursors("other").decode(token, "thread:a:newest", 2)
    with pytest.raises(CursorError):
        cursors.decode("garbage", "thread:a:newest", 2)
