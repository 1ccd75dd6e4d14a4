"""How comments rank: the numbers behind sort=top, best and controversial."""

from __future__ import annotations

import math

# z for an 80% confidence interval, as Reddit's "best" sort uses.
WILSON_Z = 1.281551565545


def net_score(likes: int, dislikes: int) -> int:
    """sort=top: likes minus dislikes."""
    return likes - dislikes


def wilson_lower_bound(likes: int, dislikes: int, z: float = WILSON_Z) -> float:
    """sort=best: the lower bound of the Wilson score interval for the share of likes.

    A comment with 6 likes and 0 dislikes outranks one with 60 likes and 40 dislikes, and
    a comment nobody voted on scores 0.
    """
    n = likes + dislikes
    if n == 0:
        return 0.0
    p = likes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)
    return (centre - margin) / (1 + z2 / n)


def controversy(likes: int, dislikes: int) -> float:
    """sort=controversial: many votes, evenly split (0 when either side has none).

    magnitude ** balance, with balance = minority / majority, as Reddit ranks it.
    """
    if likes <= 0 or dislikes <= 0:
        return 0.0
    magnitude = likes + dislikes
    balance = min(likes, dislikes) / max(likes, dislikes)
    return float(magnitude**balance)


# --- sort=hot -----------------------------------------------------------------------------

DEFAULT_GRAVITY = 1.8
# The first page of sort=hot ranks as of the current minute (cursors then carry that time):
# within a minute the order barely moves, and the public page cache can keep the page.
HOT_STEP_SECONDS = 60


def hot(score: int, age_hours: float, gravity: float = DEFAULT_GRAVITY) -> float:
    """sort=hot, as Hacker News ranks stories: (score + 1) / (age_hours + 2) ** gravity.

    A new comment starts at 1 / 2**gravity and sinks as it ages unless votes lift it; a
    larger gravity sinks old comments faster. A comment dated after the reference time (a
    cursor's frozen clock) counts as brand new, age 0. threads.hot_rank is the same formula
    in SQL; tests/unit/test_ranking.py checks that the two agree.
    """
    return float((score + 1) / (max(age_hours, 0.0) + 2.0) ** gravity)


def hot_reference(now_epoch: float) -> int:
    """The reference time (Unix seconds) of a first page of sort=hot requested at
    ``now_epoch``: the start of its minute."""
    return int(now_epoch // HOT_STEP_SECONDS) * HOT_STEP_SECONDS
