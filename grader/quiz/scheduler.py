"""Spaced repetition with FSRS: a wrong answer is rated Again, a right one Good.

Every time is a timezone-aware UTC datetime, read from an injectable clock so tests can
freeze or advance time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is a bug (its zone is unknown), not a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: quiz times must be timezone-aware")
    return moment.astimezone(timezone.utc)


class QuizScheduler:
    """FSRS cards for questions. `fuzz=False` makes intervals exact (tests)."""

    def __init__(self, clock: Clock = utc_now, *, fuzz: bool = True):
        self.clock = clock
        self._fsrs = Scheduler(enable_fuzzing=fuzz)

    def now(self) -> datetime:
        return as_utc(self.clock())

    def new_card(self, qid: str) -> Card:
        # a stable card id per question; fsrs would otherwise use the creation time
        return Card(card_id=zlib.crc32(qid.encode()), due=self.now())

    def review(self, card: Card, correct: bool) -> Card:
        """The card after one answer, rated Good when right and Again when wrong."""
        rating = Rating.Good if correct else Rating.Again
        updated, _log = self._fsrs.review_card(card, rating, review_datetime=self.now())
        return updated


def card_to_json(card: Card) -> str:
    return card.to_json()


def card_from_json(text: str) -> Card:
    card = Card.from_json(text)
    card.due = as_utc(card.due)
    if card.last_review is not None:
        card.last_review = as_utc(card.last_review)
    return card
