"""Late-submission arithmetic: how many days late, and what that costs.

A submission `grace_minutes` or less after the due date is on time. Past the grace,
late days = ceil(lateness after the grace, in days): a minute past the grace is one
day late, 24 h and a minute is two. The `per_day` policy takes `percent` of the score
per late day, never more than `cap` percent in all (the policies are part of the course
config, grader.course).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from grader.course import LatePolicy, NoLatePolicy, PerDayPolicy

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Lateness:
    days: int  # 0 when on time (or when there is no due date)
    percent: float  # of the score, 0..100
    penalty: float  # points taken off
    score: float  # after the penalty

    @property
    def late(self) -> bool:
        return self.days > 0


def late_days(submitted_at: datetime, due: datetime | None, grace_minutes: float = 0) -> int:
    """Whole days late, rounded up, counted after the grace period; 0 without a due date."""
    if due is None:
        return 0
    if submitted_at.tzinfo is None or due.tzinfo is None:
        raise ValueError("late_days needs timezone-aware datetimes")
    over = submitted_at - due - timedelta(minutes=grace_minutes)
    if over <= timedelta(0):
        return 0
    return math.ceil(over / DAY)


def penalty_percent(days: int, policy: LatePolicy) -> float:
    """Percent of the score lost for `days` late days: min(cap, percent × days)."""
    if days <= 0 or isinstance(policy, NoLatePolicy):
        return 0.0
    return min(policy.cap, policy.percent * days)


def days_and_percent(submitted_at: datetime, due: datetime | None,
                     policy: LatePolicy) -> tuple[int, float]:
    """Late days under the policy's grace, and the percent of the score they cost."""
    grace = policy.grace_minutes if isinstance(policy, PerDayPolicy) else 0.0
    days = late_days(submitted_at, due, grace)
    return days, penalty_percent(days, policy)


def assess(score: float, submitted_at: datetime, due: datetime | None,
           policy: LatePolicy) -> Lateness:
    """Late days, penalty and final score of one graded submission."""
    days, percent = days_and_percent(submitted_at, due, policy)
    penalty = round(score * percent / 100, 6)
    final = round(score - penalty, 6) if penalty else score  # no float dust like 84.15000000000001
    return Lateness(days=days, percent=percent, penalty=penalty, score=final)
