"""Where "similar" starts: from the class's own distribution of pair scores.

A stub that fixes every signature and a reference that fixes every formula make honest
solutions alike, and how alike depends on the assignment. A pair is flagged when its
score reaches both

* the class's 99th percentile of pair scores: in an assignment where honest solutions
  are much alike, the bar rises with them (a class of 50 has 1225 pairs: at most a dozen
  are above it); it is used only from 100 pairs on, where the percentile is a score
  rather than the top pair; and
* an absolute floor: in a class without a single copy the 99th percentile is still some
  honest pair, and benchmarks/similarity_quality.py shows honest pairs of the labelled
  class reaching 0.86 while disguised copies start around 0.86–0.95: the floor (0.8)
  keeps false flags near 0.1 per 100 honest pairs, the percentile alone would flag one
  pair in a hundred by construction.

The reference-leak check has a fixed floor only: if the reference leaked to much of the
class, the class's own distribution would hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_PAIRS_FOR_PERCENTILE = 100


@dataclass(frozen=True)
class Threshold:
    value: float
    rule: str  # how value was chosen, for the report


def class_threshold(scores: Sequence[float], *, floor: float, quantile: float = 0.99,
                    fixed: float | None = None) -> Threshold:
    """The cut-off for one assignment's pair scores (`fixed` overrides the class's)."""
    if fixed is not None:
        return Threshold(fixed, f"fixed at {fixed:.2f} (--threshold)")
    values = np.asarray(scores, dtype=np.float64)
    if values.size < MIN_PAIRS_FOR_PERCENTILE:
        return Threshold(floor, f"the floor {floor:.2f} ({values.size} pairs: too few for a percentile)")
    q = float(np.quantile(values, quantile))
    if q > floor:
        return Threshold(q, f"the class's {quantile:.0%} percentile {q:.2f} (above the floor {floor:.2f})")
    return Threshold(floor, f"the floor {floor:.2f} (the class's {quantile:.0%} percentile is {q:.2f})")


def fixed_threshold(floor: float, what: str) -> Threshold:
    return Threshold(floor, f"fixed at {floor:.2f} ({what})")
