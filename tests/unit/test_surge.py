"""domain/surge.py's slow mode rule without Flask: which setting is in force and until when
(the API tests in tests/api/test_surge.py cover the rest)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from service.domain import surge
from tests.helpers import utc

NOW = utc(2026, 11, 29, 12)
SOON, LATER = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=10)


@dataclass
class _Article:
    slow_mode_seconds: int = 0
    slow_mode_until: dt.datetime | None = None
    surge_slow_mode_seconds: int = 0
    surge_until: dt.datetime | None = None
    premoderation_until: dt.datetime | None = None


def test_a_surge_of_zero_seconds_is_no_slow_mode_and_has_no_end():
    assert surge.slow_mode(_Article(surge_until=LATER), NOW) == (0, None)
    assert surge.slow_mode(_Article(slow_mode_until=LATER), NOW) == (0, None)


def test_of_equally_strict_settings_the_longest_says_when_slow_mode_ends():
    both = _Article(slow_mode_seconds=30, slow_mode_until=SOON)
    both.surge_slow_mode_seconds, both.surge_until = 30, LATER
    assert surge.slow_mode(both, NOW) == (30, LATER)
    both.slow_mode_until = None  # the moderator's lasts until changed
    assert surge.slow_mode(both, NOW) == (30, None)
    stricter = _Article(slow_mode_seconds=60, slow_mode_until=SOON)
    stricter.surge_slow_mode_seconds, stricter.surge_until = 30, LATER
    assert surge.slow_mode(stricter, NOW) == (60, SOON)


def test_no_article_row_has_no_premoderation_and_no_slow_mode():
    """A thread nobody has written to has no row (None): the rules read it as all off."""
    assert surge.premoderation_active(None, NOW) is False
    assert surge.slow_mode(None, NOW) == (0, None)
    assert surge.public_fields(None, NOW) == {
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "premoderation_until": None,
    }
