"""Threading rules, without Flask."""

import pytest

from service.domain.threads import (
    _HOT_STATEMENTS,
    CursorError,
    Cursors,
    _check_hot_key,
    _hot_statement,
    ancestor_ids,
    place_reply,
)


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


def test_cursor_refusals_say_why():
    cursors = Cursors("secret")
    token = cursors.encode("thread:a:top", [False, 3, 42])
    assert cursors.decode(token, "thread:a:top", 3) == [False, 3, 42]
    with pytest.raises(CursorError) as wrong_width:  # a cursor of a sort with other keys
        cursors.decode(token, "thread:a:top", 2)
    assert str(wrong_width.value) == "The cursor belongs to another listing or sort."
    with pytest.raises(CursorError) as forged:
        Cursors("other").decode(token, "thread:a:top", 3)
    assert str(forged.value) == "The cursor is not one this service issued."
    # signed by us, but not the [scope, key] pair a listing issues
    for payload in ({"scope": "thread:a:top"}, ["thread:a:top"], ["thread:a:top", "k", 1]):
        odd = cursors._serializer.dumps(payload)
        with pytest.raises(CursorError, match="another listing"):
            cursors.decode(odd, "thread:a:top", 3)
    with pytest.raises(CursorError, match="another listing"):
        cursors.decode(cursors._serializer.dumps(["thread:a:top", "key"]), "thread:a:top", 3)


def test_cursors_are_salted_for_this_purpose():
    """The same secret signs other things (itsdangerous salts keep them apart): a value
    signed with the bare secret is not a cursor."""
    from itsdangerous import URLSafeSerializer

    bare = URLSafeSerializer("secret").dumps(["thread:a:newest", [False, 42]])
    with pytest.raises(CursorError):
        Cursors("secret").decode(bare, "thread:a:newest", 2)
    salted = URLSafeSerializer("secret", salt="comments-cursor-v1")
    assert Cursors("secret").decode(
        salted.dumps(["thread:a:newest", [False, 42]]), "thread:a:newest", 2
    ) == [False, 42]


@pytest.mark.parametrize(
    ("values", "ok"),
    [
        ([False, 42], True),
        ([True, 2.5, 42], True),
        ([True, -3, 42], True),
        ([1, 42], False),  # pinned must be a bool
        ([False, "42"], False),  # the id must be an int
        ([False, True, 42], False),  # a score is a number, not a bool
        ([False, "x", 42], False),
    ],
)
def test_check_key_accepts_only_the_types_a_listing_issues(values, ok):
    from service.domain.threads import _check_key
    from service.enums import Sort

    sort = Sort.TOP if len(values) == 3 else Sort.NEWEST
    if ok:
        assert _check_key(values, sort) == values
    else:
        with pytest.raises(CursorError, match="^The cursor is malformed.$"):
            _check_key(values, sort)


@pytest.mark.parametrize(
    "values",
    [
        [1, 0.5, 7, 1_700_000_000],  # pinned not a bool
        ["yes", 0.5, 7, 1_700_000_000],
        [False, "0.5", 7, 1_700_000_000],  # the hot key not a number
        [False, True, 7, 1_700_000_000],  # a bool is no hot key
        [False, 0.5, "7", 1_700_000_000],  # the id not an integer
        [False, 0.5, True, 1_700_000_000],
        [False, 0.5, 7, 1_700_000_000.5],  # the reference time not whole seconds
    ],
)
def test_a_hot_cursor_with_a_value_of_the_wrong_type_is_malformed(values):
    """A signed hot cursor is still checked value by value before it reaches SQL."""
    with pytest.raises(CursorError) as refused:
        _check_hot_key(values)
    assert str(refused.value) == "The cursor is malformed."


def test_a_well_formed_hot_cursor_is_let_through():
    assert _check_hot_key([True, 0, 7, 1_700_000_000]) == [True, 0, 7, 1_700_000_000]
    assert _check_hot_key([False, -0.25, 7, 0]) == [False, -0.25, 7, 0]


def test_the_hot_statement_is_built_once_per_dialect_viewer_and_page():
    """Building sort=hot's statement costs more than running it on SQLite (docs/markets.md):
    it is built once per (dialect, signed in, paged) and reused."""
    saved = dict(_HOT_STATEMENTS)
    _HOT_STATEMENTS.clear()
    try:
        first = _hot_statement("sqlite", True, False)
        assert _hot_statement("sqlite", True, False) is first
        assert _HOT_STATEMENTS[("sqlite", True, False)] is first
        assert _hot_statement("sqlite", False, False) is not first
        assert _hot_statement("sqlite", True, True) is not first
    finally:
        _HOT_STATEMENTS.clear()
        _HOT_STATEMENTS.update(saved)
