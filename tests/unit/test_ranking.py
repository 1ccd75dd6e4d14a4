"""The numbers behind sort=top, best and controversial."""

import math

import pytest

from service.domain.ranking import controversy, net_score, wilson_lower_bound


def test_net_score():
    assert net_score(6, 2) == 4
    assert net_score(0, 3) == -3


def test_wilson_is_zero_without_votes_and_within_bounds():
    assert wilson_lower_bound(0, 0) == 0.0
    for likes, dislikes in [(1, 0), (0, 1), (6, 2), (100, 1), (3, 97)]:
        value = wilson_lower_bound(likes, dislikes)
        assert 0.0 <= value <= likes / (likes + dislikes)


def test_wilson_matches_the_formula():
    # n = 10, p = 0.8, z = 1.281551565545, computed by hand from the Wilson interval
    z = 1.281551565545
    n, p = 10, 0.8
    expected = (p + z * z / (2 * n) - z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)) / (
        1 + z * z / n
    )
    assert wilson_lower_bound(8, 2) == pytest.approx(expected)
    assert wilson_lower_bound(8, 2) == pytest.approx(0.6016, abs=1e-3)


def test_wilson_prefers_confidence_over_raw_share():
    # 6 likes and no dislikes is a better bet than one like alone...
    assert wilson_lower_bound(6, 0) > wilson_lower_bound(1, 0)
    # ...and a mostly-liked comment beats a mostly-disliked one with more votes.
    assert wilson_lower_bound(6, 0) > wilson_lower_bound(2, 6)


def test_controversy_wants_many_votes_evenly_split():
    assert controversy(10, 0) == 0.0
    assert controversy(0, 10) == 0.0
    assert controversy(50, 50) > controversy(90, 10)
    assert controversy(50, 50) > controversy(5, 5)
    assert controversy(5, 5) == pytest.approx(10.0)


def test_controversy_is_magnitude_to_the_power_of_balance():
    """Kills the survivor ``magnitude ** balance`` -> ``magnitude * balance``: (5, 5), the
    only value tested before, is the one point where both give 10."""
    assert controversy(6, 2) == pytest.approx(2.0)  # 8 ** (2/6)
    assert controversy(1, 9) == pytest.approx(10 ** (1 / 9))
    assert controversy(3, 1) == pytest.approx(4 ** (1 / 3))


def test_wilson_of_a_single_vote():
    """One like: the bound is 1 / (1 + z²), not 0 (kills ``n == 0`` -> ``n == 1``); one
    dislike: exactly 0."""
    z = 1.281551565545
    assert wilson_lower_bound(1, 0) == pytest.approx(1 / (1 + z * z))
    assert wilson_lower_bound(0, 1) == pytest.approx(0.0, abs=1e-12)
