"""Progress at a glance, in the learner's language: retention, the next 30 days of reviews,
accuracy per topic, the streak and 30 days of activity; `plot` draws the same as a PNG.

Days are the learner's local calendar days (a streak is about when *you* practised);
the database keeps UTC. Retention is Anki's "true retention": of the reviews of cards that
had graduated to review, the share not forgotten (not rated Again).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.quiz.model import topic_name
from grader.quiz.store import ProgressStore
from grader.quiz.text import Lang, Msg

DAYS = 30
_BARS = " ▁▂▃▄▅▆▇█"
_REVIEW_STATE = 2  # fsrs State.Review

L = {
    "title": Msg("주제별 정답률", "Accuracy per topic"),
    "topic": Msg("주제", "topic"),
    "answered": Msg("푼 문제", "answered"),
    "correct": Msg("맞힘", "correct"),
    "accuracy": Msg("정답률", "accuracy"),
    "all": Msg("전체", "all"),
    "streak": Msg("연속 학습", "streak"),
    "days": Msg("일", "days"),
    "day": Msg("일", "day"),
    "due_today": Msg("오늘 복습", "due today"),
    "total": Msg("전체 답", "total answers"),
    "retention": Msg("기억 유지율", "retention"),
    "retention_note": Msg("복습 단계 카드를 잊지 않은 비율", "reviews of graduated cards not forgotten"),
    "last30": Msg("최근 30일", "last 30 days"),
    "ever": Msg("전체 기간", "all time"),
    "none_yet": Msg("아직 없음", "none yet"),
    "forecast": Msg("앞으로 30일의 복습 예정 (하루 한 칸, 첫 칸은 밀린 것 포함 오늘)",
                    "Reviews due in the next 30 days (one column a day; today includes overdue)"),
    "activity": Msg("최근 30일의 학습 (하루 한 칸, 그날 푼 문제 수)",
                    "Last 30 days (answers per day, one column a day)"),
    "leeches": Msg("보류된 문제(leech)", "suspended leeches"),
    "no_answers": Msg("아직 답한 문제가 없습니다: `dlgrade quiz`로 시작하세요.",
                      "No answers yet: run `dlgrade quiz` to start."),
}


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
class Retention:
    passed: int
    reviews: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.reviews if self.reviews else None


@dataclass(frozen=True)
class Stats:
    today: date
    topics: list[TopicRow]
    streak: int
    due_today: int
    total: int
    activity: list[tuple[date, int]]  # the last DAYS days, oldest first
    forecast: list[tuple[date, int]]  # the next DAYS days from today (overdue counted today)
    retention_30: Retention
    retention_all: Retention
    suspended: int

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
    month_ago = now - timedelta(days=DAYS)
    passed = [0, 0]
    reviewed = [0, 0]
    for row in rows:
        per_topic[row.topic].append((row.score, row.correct))
        per_day[row.answered.astimezone(zone).date()] += 1
        if row.rating is not None and row.reviewed_state == _REVIEW_STATE:
            for k, counts in enumerate((True, row.answered >= month_ago)):
                if counts:
                    reviewed[k] += 1
                    passed[k] += row.rating != 1
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
    due_days: Counter[date] = Counter(max(today, d.astimezone(zone).date())
                                      for d in store.due_times())
    forecast = [(today + timedelta(days=k), due_days[today + timedelta(days=k)])
                for k in range(DAYS)]
    return Stats(today, topics, streak, store.count_due(end_of_today), len(rows), activity,
                 forecast, Retention(passed[1], reviewed[1]), Retention(passed[0], reviewed[0]),
                 len(store.suspended_ids()))


def activity_bar(activity: list[tuple[date, int]]) -> Text:
    """One character per day, its height the number of answers (or reviews) that day."""
    peak = max((n for _, n in activity), default=0)
    bar = Text()
    for _, n in activity:
        if n == 0:
            bar.append("·", style="dim")
        else:
            level = max(1, round(n / peak * (len(_BARS) - 1)))
            bar.append(_BARS[level], style="green")
    return bar


def _retention(r: Retention, lang: Lang) -> str:
    rate = r.rate
    return L["none_yet"].inline(lang) if rate is None else f"{rate:.0%} ({r.passed}/{r.reviews})"


def render(stats: Stats, lang: Lang = "both") -> RenderableType:
    def t(key: str) -> str:
        return L[key].inline(lang)

    table = Table(title=t("title"), title_justify="left", show_edge=False)
    table.add_column(t("topic"))
    table.add_column(t("answered"), justify="right")
    table.add_column(t("correct"), justify="right")
    table.add_column(t("accuracy"), justify="right")
    for row in stats.topics:
        style = "green" if row.accuracy >= 0.8 else "yellow" if row.accuracy >= 0.5 else "red"
        table.add_row(escape(topic_name(row.topic, lang)), str(row.answered), str(row.correct),
                      f"[{style}]{row.accuracy:.0%}[/]")
    if stats.topics:
        table.add_section()
        answered = sum(r.answered for r in stats.topics)
        table.add_row(f"[bold]{t('all')}", str(answered), str(sum(r.correct for r in stats.topics)),
                      f"[bold]{stats.accuracy:.0%}")

    days = t("day") if stats.streak == 1 else t("days")
    streak = f"{stats.streak}일" if lang == "ko" else f"{stats.streak} {days}"
    facts = Text.assemble(
        (f"{t('streak')} ", "bold"), f"{streak}   ",
        (f"{t('due_today')} ", "bold"), f"{stats.due_today}   ",
        (f"{t('total')} ", "bold"), f"{stats.total}",
    )
    if stats.suspended:
        facts.append(f"   {t('leeches')} ", style="bold yellow")
        facts.append(str(stats.suspended))
    retention = Text.assemble(
        (f"{t('retention')} ", "bold"),
        f"{t('last30')} {_retention(stats.retention_30, lang)} · "
        f"{t('ever')} {_retention(stats.retention_all, lang)}   ",
        (f"({t('retention_note')})", "dim"),
    )
    width = len(stats.activity)
    first, last = stats.activity[0][0], stats.activity[-1][0]
    axis = Text(f"{first:%m-%d}".ljust(width - 5) + f"{last:%m-%d}", style="dim")
    start, end = stats.forecast[0][0], stats.forecast[-1][0]
    ahead = Text(f"{start:%m-%d}".ljust(width - 5) + f"{end:%m-%d}", style="dim")
    peak = max((n for _, n in stats.forecast), default=0)
    return Group(
        table if stats.topics else Text(L["no_answers"](lang), style="dim"),
        Text(),
        facts,
        retention,
        Text(),
        Text(t("forecast"), style="bold"),
        activity_bar(stats.forecast) + Text(f"  max {peak}", style="dim"),
        ahead,
        Text(),
        Text(t("activity"), style="bold"),
        activity_bar(stats.activity),
        axis,
    )


# ------------------------------------------------------------------ the picture


def korean_font() -> str | None:
    """A font with Hangul that matplotlib knows, if the machine has one."""
    from matplotlib import font_manager

    for name in ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic",
                 "AppleGothic", "Noto Sans CJK JP", "Source Han Sans KR", "UnDotum"):
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return name
    return None


def plot(stats: Stats, out: Path, lang: Lang = "both") -> str | None:
    """Forecast, accuracy per topic and activity as one PNG (matplotlib, no display needed).

    Returns a note when the labels had to be English (no font with Hangul on this machine).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    note = None
    if lang != "en":
        font = korean_font()
        if font is None:
            note = ("no font with Hangul found (e.g. Noto Sans CJK KR), so the picture's labels "
                    "are in English")
            lang = "en"
        else:
            plt.rcParams["font.family"] = font

    def t(key: str) -> str:
        return L[key].inline(lang)

    fig, axes = plt.subplots(3, 1, figsize=(9, 10), constrained_layout=True)
    days = [d for d, _ in stats.forecast]
    axes[0].bar(range(len(days)), [n for _, n in stats.forecast], color="#4c72b0")
    axes[0].set_title(t("forecast").split(" (")[0])
    axes[0].set_xticks(range(0, len(days), 5), [f"{d:%m-%d}" for d in days[::5]])
    rows = stats.topics
    names = [topic_name(r.topic, lang) for r in rows]
    axes[1].barh(range(len(rows)), [100 * r.accuracy for r in rows], color="#55a868")
    axes[1].set_yticks(range(len(rows)), names)
    axes[1].invert_yaxis()
    axes[1].set_xlim(0, 100)
    axes[1].set_xlabel(f"{t('accuracy')} (%)")
    rate = stats.retention_30.rate
    retention = f" · {t('retention')} {rate:.0%}" if rate is not None else ""
    axes[1].set_title(f"{t('title')}{retention}")
    past = [d for d, _ in stats.activity]
    axes[2].bar(range(len(past)), [n for _, n in stats.activity], color="#c44e52")
    axes[2].set_title(t("activity").split(" (")[0])
    axes[2].set_xticks(range(0, len(past), 5), [f"{d:%m-%d}" for d in past[::5]])
    from matplotlib.ticker import MaxNLocator

    for ax in (axes[0], axes[2]):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return note
