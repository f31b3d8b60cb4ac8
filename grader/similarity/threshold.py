"""Where "similar" starts: from the class's own distribution of pair scores.

A stub that fixes every signature and a reference that fixes every formula make honest
solutions alike, and how alike depends on the assignment. A pair is flagged when its
score reaches both

* the 99th percentile of the class's honest pairs, estimated robustly: the median plus
  2.33 standard deviations, the deviation taken as 1.4826 × the median absolute
  deviation. The empirical percentile would do for a class without copies, but copies
  are exactly what fills the top percent: in a class of 16 with four copied pairs (3 % of
  120 pairs) it is a copy's score and hides the copies below it. Median and MAD move
  only when half the pairs do. On the labelled class of benchmarks/similarity_quality.py
  the estimate lands within 0.03 of the empirical percentile of the honest pairs.
  In an assignment where honest solutions are much alike, this bar rises with them.
* an absolute floor (0.8): in a class without a single copy the 99th percentile is
  still some honest pair, so alone it flags about one honest pair in a hundred (0.81 per
  100 on the labelled classes, 1.35 for the robust estimate). There honest pairs reach
  0.78–0.86 at most while copies with two or more disguises score 0.96 at the median
  and 0.82–0.89 at the least: the floor 0.8 flags every one of them with 0.010 false
  flags per 100 honest pairs; 0.7 would give 0.22 per 100, 0.9 a recall of 0.88.
  On those classes the percentile stays below the floor; it takes over in an assignment
  whose honest solutions are more alike than these.

The reference-leak check has a fixed floor only: if the reference leaked to much of the
class, the class's own distribution would hide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

MIN_PAIRS = 20  # fewer pairs: median and MAD say little; the floor alone decides
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution × this = its standard deviation


@dataclass(frozen=True)
class Threshold:
    value: float
    rule: str  # how value was chosen, for the report


def robust_quantile(values: np.ndarray, quantile: float) -> float:
    """The quantile of a normal fitted by median and MAD (copies in the tail do not move it)."""
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return median + NormalDist().inv_cdf(quantile) * MAD_TO_SIGMA * mad


def class_threshold(scores: Sequence[float], *, floor: float, quantile: float = 0.99,
                    fixed: float | None = None) -> Threshold:
    """The cut-off for one assignment's pair scores (`fixed` overrides the class's)."""
    if fixed is not None:
        return Threshold(fixed, f"fixed at {fixed:.2f} (--threshold)")
    values = np.asarray(scores, dtype=np.float64)
    if values.size < MIN_PAIRS:
        return Threshold(floor, f"the floor {floor:.2f} ({values.size} pairs: too few to estimate "
                                f"the class's {quantile:.0%} percentile)")
    q = robust_quantile(values, quantile)
    if q > floor:
        return Threshold(q, f"the class's {quantile:.0%} percentile {q:.2f} (robust estimate), "
                            f"above the floor {floor:.2f}")
    return Threshold(floor, f"the floor {floor:.2f} (the class's {quantile:.0%} percentile is {q:.2f})")


def fixed_threshold(floor: float, what: str) -> Threshold:
    return Threshold(floor, f"fixed at {floor:.2f} ({what})")
