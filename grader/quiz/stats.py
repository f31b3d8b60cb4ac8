"""Progress at a glance: accuracy per topic, the streak, what is due, 30 days of activity.

Days are the learner's local calendar days (a streak is about when *you* practised);
the database keeps UTC.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from grader.quiz.store import ProgressStore

DAYS = 30
_BARS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class TopicRow:
    topic: str
    answered: int
    correct: int
    mean_score: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Stats:
    today: date
    topics: list[TopicRow]
    streak: int
    due_today: int
    total: int
    activity: list[tuple[date, int]]  # the last DAYS days, oldest first

    @property
    def accuracy(self) -> float:
        answered = sum(t.answered for t in self.topics)
        return sum(t.correct for t in self.topics) / answered if answered else 0.0


def collect(store: ProgressStore, now: datetime, tz: tzinfo | None = None) -> Stats:
    """Stats as of `now` (UTC), with days counted in `tz` (default: the machine's zone)."""
    local_now = now.astimezone(tz)
    zone = local_now.tzinfo
    today = local_now.date()
    rows = store.answers()

    per_topic: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    per_day: Counter[date] = Counter()
    for row in rows:
        per_topic[row.topic].append((row.score, row.correct))
        per_day[row.answered.astimezone(zone).date()] += 1
    topics = [TopicRow(t, len(v), sum(c for _, c in v), sum(s for s, _ in v) / len(v))
              for t, v in sorted(per_topic.items())]

    # a streak survives until the end of the day after the last practice
    day = today if per_day[today] else today - timedelta(days=1)
    streak = 0
    while per_day[day]:
        streak += 1
        day -= timedelta(days=1)

    end_of_today = datetime.combine(today + timedelta(days=1), time(), zone)
    activity = [(today - timedelta(days=k), per_day[today - timedelta(days=k)])
                for k in range(DAYS - 1, -1, -1)]
    return Stats(today, topics, streak, store.count_due(end_of_today), len(rows), activity)


def activity_bar(activity: list[tuple[date, int]]) -> Text:
    """One character per day, its height the number of answers that day."""
    peak = max((n for _, n in activity), default=0)
    bar = Text()
    for _, n in activity:
        if n == 0:
            bar.append("·", style="dim")
        else:
            level = max(1, round(n / peak * (len(_BARS) - 1)))
            bar.append(_BARS[level], style="green")
    return bar


def render(stats: Stats) -> RenderableType:
    table = Table(title="Accuracy per topic", title_justify="left", show_edge=False)
    table.add_column("topic")
    table.add_column("answered", justify="right")
    table.add_column("correct", justify="right")
    table.add_column("accuracy", justify="right")
    for row in stats.topics:
        style = "green" if row.accuracy >= 0.8 else "yellow" if row.accuracy >= 0.5 else "red"
        table.add_row(row.topic, str(row.answered), str(row.correct),
                      f"[{style}]{row.accuracy:.0%}[/]")
    if stats.topics:
        table.add_section()
        answered = sum(t.answered for t in stats.topics)
        table.add_row("[bold]all", str(answered), str(sum(t.correct for t in stats.topics)),
                      f"[bold]{stats.accuracy:.0%}")

    first, last = stats.activity[0][0], stats.activity[-1][0]
    bar = activity_bar(stats.activity)
    width = len(stats.activity)
    axis = Text(f"{first:%m-%d}".ljust(width - 5) + f"{last:%m-%d}", style="dim")
    days = "day" if stats.streak == 1 else "days"
    facts = Text.assemble(
        ("streak ", "bold"), f"{stats.streak} {days}   ",
        ("due today ", "bold"), f"{stats.due_today}   ",
        ("total answers ", "bold"), f"{stats.total}",
    )
    return Group(
        table if stats.topics else Text("No answers yet: run `dlgrade quiz` to start.", style="dim"),
        Text(),
        facts,
        Text(),
        Text(f"Last {DAYS} days (answers per day, one column a day)", style="bold"),
        bar,
        axis,
    )
