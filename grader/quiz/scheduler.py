"""Spaced repetition with FSRS, rated the way Anki rates: Again, Hard, Good, Easy.

A wrong answer is Again; after a right one the learner picks Hard, Good (the default) or Easy,
or Again for a lucky guess, seeing the next interval each would give. Every time is a
timezone-aware UTC datetime read from an injectable clock, so tests can freeze or advance time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating, ReviewLog, Scheduler, State

Clock = Callable[[], datetime]
RATINGS: tuple[Rating, ...] = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is a bug (its zone is unknown), not a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: quiz times must be timezone-aware")
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Settings:
    """What a learner may tune (`quiz.toml`), with Anki's defaults."""

    desired_retention: float = 0.9
    new_per_day: int = 20
    reviews_per_day: int = 200
    leech_lapses: int = 8  # a card forgotten this many times is suspended
    learn_ahead_minutes: int = 20  # a missed card due within this is asked again this session
    parameters: tuple[float, ...] | None = field(default=None)  # fitted by `quiz optimize`


def card_id(qid: str) -> int:
    """A stable card id per question (fsrs would otherwise use the creation time)."""
    return zlib.crc32(qid.encode())


class QuizScheduler:
    """FSRS cards for questions. `fuzz=False` makes intervals exact (tests)."""

    def __init__(self, clock: Clock = utc_now, *, fuzz: bool = True,
                 settings: Settings = Settings()):
        self.clock = clock
        self.settings = settings
        kwargs = {} if settings.parameters is None else {"parameters": settings.parameters}
        self._fsrs = Scheduler(desired_retention=settings.desired_retention,
                               enable_fuzzing=fuzz, **kwargs)

    def now(self) -> datetime:
        return as_utc(self.clock())

    def new_card(self, qid: str) -> Card:
        return Card(card_id=card_id(qid), due=self.now())

    def rate(self, card: Card, rating: Rating) -> Card:
        """The card after one review with `rating`, now."""
        updated, _log = self._fsrs.review_card(card, rating, review_datetime=self.now())
        return updated

    def outcomes(self, card: Card) -> dict[Rating, Card]:
        """The card after each possible rating, now: what the rating prompt shows and applies.

        Computed once per answer so the interval shown is the interval given, fuzz included.
        """
        now = self.now()
        return {r: self._fsrs.review_card(card, r, review_datetime=now)[0] for r in RATINGS}

    def review(self, card: Card, correct: bool) -> Card:
        """Right is Good and wrong is Again: the rating when the learner picks none."""
        return self.rate(card, Rating.Good if correct else Rating.Again)

    def retrievability(self, card: Card, at: datetime) -> float:
        return self._fsrs.get_card_retrievability(card, current_datetime=as_utc(at))


def default_rating(correct: bool) -> Rating:
    return Rating.Good if correct else Rating.Again


def is_lapse(before: Card | None, rating: Rating) -> bool:
    """Forgetting a card that had graduated to review: what Anki counts as a lapse."""
    return before is not None and before.state == State.Review and rating == Rating.Again


_UNITS = {"en": ("m", "h", "d", "mo", "y"), "ko": ("분", "시간", "일", "개월", "년")}


def interval_text(delta: timedelta, lang: str = "en") -> str:
    """Anki's short interval labels: 1m, 10m, 3h, 4d, 2.5mo, 1.3y (Korean: 1분, 4일, 2.5개월)."""
    minute, hour, day, month, year = _UNITS["ko" if lang == "ko" else "en"]
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes}{minute}"
    hours = minutes / 60
    if hours < 24:
        return f"{round(hours)}{hour}"
    days = hours / 24
    if days < 30:
        return f"{round(days)}{day}"
    if days < 365:
        return f"{days / 30:.1f}".removesuffix(".0") + month
    return f"{days / 365:.1f}".removesuffix(".0") + year


def review_logs(rows: Sequence[tuple[str, int, datetime]]) -> list[ReviewLog]:
    """fsrs review logs from (qid, rating, time) rows, for the optimizer."""
    return [ReviewLog(card_id=card_id(qid), rating=Rating(rating), review_datetime=as_utc(when),
                      review_duration=None) for qid, rating, when in rows]


def card_to_json(card: Card) -> str:
    return card.to_json()


def card_from_json(text: str) -> Card:
    card = Card.from_json(text)
    card.due = as_utc(card.due)
    if card.last_review is not None:
        card.last_review = as_utc(card.last_review)
    return card
