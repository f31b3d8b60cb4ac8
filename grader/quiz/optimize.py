"""Fit FSRS parameters to the learner's own review log with fsrs' optimizer.

fsrs' optimizer (the `fsrs[optimizer]` extra: torch, pandas, tqdm) learns only from reviews
that come at least a day after the card's previous review, and returns the default
parameters unchanged when it has fewer than one mini-batch (512) of them. Rather than pass
that silence on, `fit` refuses below that size and says how many such reviews there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from grader.errors import UserError
from grader.quiz.scheduler import card_id, review_logs

MIN_REVIEWS = 512  # fsrs.optimizer's mini_batch_size: below it, it returns the defaults


@dataclass(frozen=True)
class Fit:
    parameters: tuple[float, ...]
    reviews: int  # the cross-day reviews it learned from
    cards: int


def cross_day_reviews(log: Sequence[tuple[str, int, datetime]]) -> int:
    """Reviews at least one whole day after the same card's previous one (what fsrs learns from)."""
    last: dict[str, datetime] = {}
    count = 0
    for qid, _rating, when in sorted(log, key=lambda row: row[2]):
        if qid in last and (when - last[qid]).days > 0:
            count += 1
        last[qid] = when
    return count


def fit(log: Sequence[tuple[str, int, datetime]]) -> Fit:
    """FSRS parameters fitted to `log` ((qid, rating, time) rows); UserError when too small."""
    reviews = cross_day_reviews(log)
    if reviews < MIN_REVIEWS:
        raise UserError(
            f"quiz optimize needs at least {MIN_REVIEWS} reviews made a day or more after the "
            f"card's previous review; your log has {reviews} (of {len(log)} answers). Keep "
            "reviewing and run it again later; until then the default parameters are used")
    from fsrs.optimizer import Optimizer

    try:
        optimizer = Optimizer(review_logs(log))
    except ImportError:  # fsrs' stand-in Optimizer when torch, pandas or tqdm is missing
        raise UserError("quiz optimize needs fsrs' optimizer extra (torch, pandas, tqdm): "
                        "pip install 'dlgrade[optimize]'") from None
    parameters = tuple(float(p) for p in optimizer.compute_optimal_parameters())
    return Fit(parameters, reviews, len({card_id(q) for q, _, _ in log}))
