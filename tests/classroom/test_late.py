"""Late-policy arithmetic: late days are whole days rounded up after the grace; penalty capped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.classroom.late import assess, late_days, penalty_percent
from grader.course import NoLatePolicy, PerDayPolicy

KST = timezone(timedelta(hours=9))
DUE = datetime(2025, 3, 14, 23, 59, tzinfo=KST)
TEN = PerDayPolicy(kind="per_day", percent=10, cap=50)


@pytest.mark.parametrize("after, days", [
    (timedelta(hours=-5), 0),
    (timedelta(0), 0),                          # exactly on the due time
    (timedelta(seconds=1), 1),                  # a second late is a day late
    (timedelta(days=1), 1),
    (timedelta(days=1, seconds=1), 2),
    (timedelta(days=6, hours=23), 7),
])
def test_late_days_round_up(after: timedelta, days: int) -> None:
    assert late_days(DUE + after, DUE) == days


def test_time_zones_are_compared_as_instants() -> None:
    same_instant_in_utc = DUE.astimezone(timezone.utc)
    assert late_days(same_instant_in_utc, DUE) == 0
    assert late_days(same_instant_in_utc + timedelta(minutes=1), DUE) == 1


def test_grace_minutes_are_subtracted_before_counting() -> None:
    assert late_days(DUE + timedelta(minutes=15), DUE, grace_minutes=15) == 0
    assert late_days(DUE + timedelta(minutes=16), DUE, grace_minutes=15) == 1
    # 24 h and 10 min late with 15 min of grace: 23 h 55 min after the grace, one day
    assert late_days(DUE + timedelta(days=1, minutes=10), DUE, grace_minutes=15) == 1
    assert late_days(DUE + timedelta(days=1, minutes=16), DUE, grace_minutes=15) == 2


def test_no_due_date_is_never_late() -> None:
    assert late_days(DUE + timedelta(days=400), None) == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        late_days(datetime(2025, 3, 15), DUE)


@pytest.mark.parametrize("days, percent", [(0, 0), (1, 10), (3, 30), (5, 50), (6, 50), (30, 50)])
def test_penalty_is_percent_per_day_up_to_the_cap(days: int, percent: float) -> None:
    assert penalty_percent(days, TEN) == percent


def test_no_policy_costs_nothing_but_still_counts_days() -> None:
    result = assess(80.0, DUE + timedelta(days=2, hours=1), DUE, NoLatePolicy())
    assert (result.days, result.percent, result.penalty, result.score) == (3, 0.0, 0.0, 80.0)


def test_assess_takes_the_percent_of_the_score() -> None:
    result = assess(80.0, DUE + timedelta(days=1, hours=20), DUE, TEN)  # 2 days late
    assert (result.days, result.percent, result.penalty, result.score) == (2, 20.0, 16.0, 64.0)
    assert result.late
    capped = assess(90.0, DUE + timedelta(days=9), DUE, TEN)
    assert (capped.percent, capped.penalty, capped.score) == (50.0, 45.0, 45.0)


def test_assess_uses_the_policys_grace() -> None:
    policy = PerDayPolicy(kind="per_day", percent=10, cap=50, grace_minutes=30)
    assert not assess(100.0, DUE + timedelta(minutes=29), DUE, policy).late
    assert assess(100.0, DUE + timedelta(minutes=31), DUE, policy).score == 90.0


@settings(max_examples=200, deadline=None)
@given(score=st.floats(0, 100), minutes=st.integers(-10_000, 60_000),
       percent=st.floats(0.5, 100), cap=st.floats(0.5, 100))
def test_penalty_never_exceeds_the_cap_and_grows_with_lateness(score: float, minutes: int,
                                                              percent: float, cap: float) -> None:
    policy = PerDayPolicy(kind="per_day", percent=percent, cap=cap)
    now = assess(score, DUE + timedelta(minutes=minutes), DUE, policy)
    later = assess(score, DUE + timedelta(minutes=minutes + 1440), DUE, policy)
    assert 0 <= now.percent <= cap
    assert now.percent <= later.percent
    assert now.score == pytest.approx(score - now.penalty, abs=1e-6)  # rounded to 6 decimals
    assert 0 <= now.penalty <= score * cap / 100 + 1e-6  # points are rounded to 6 decimals
