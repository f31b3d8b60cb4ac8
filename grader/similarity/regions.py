"""The matching regions of a flagged pair, in source characters, linked across the two sides.

copydetect's overlap gives the matched token slices of each side; each slice of one side
is linked to the slice of the other side where most of its fingerprints are, so a report
can colour the two halves of one match alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.similarity.fingerprints import Fingerprint, overlap
from grader.similarity.tokens import Tokens


@dataclass(frozen=True)
class Region:
    start: int  # characters in the source
    end: int
    link: int  # regions of the two sides with the same link match each other


def matching_regions(tokens_a: Tokens, fp_a: Fingerprint, tokens_b: Tokens,
                     fp_b: Fingerprint) -> tuple[list[Region], list[Region]]:
    o = overlap(fp_a, fp_b)
    if not o.slices_a.size:
        return [], []
    shared = fp_a.positions.keys() & fp_b.positions.keys()
    slices_a, slices_b = o.slices_a.T, o.slices_b.T
    votes = np.zeros((len(slices_b), len(slices_a)), dtype=np.int64)
    for h in shared:
        for ia in _containing(slices_a, fp_a.positions[h]):
            for ib in _containing(slices_b, fp_b.positions[h]):
                votes[ib, ia] += 1
    links_b = [int(np.argmax(row)) if row.any() else -1 for row in votes]
    regions_a = [_region(tokens_a, s, e, i) for i, (s, e) in enumerate(slices_a)]
    regions_b = [_region(tokens_b, s, e, link) for (s, e), link in zip(slices_b, links_b, strict=True)]
    return regions_a, regions_b


def _region(tokens: Tokens, start: int, end: int, link: int) -> Region:
    end = min(int(end), len(tokens))
    return Region(int(tokens.spans[int(start), 0]), int(tokens.spans[end - 1, 1]), link)


def _containing(slices: np.ndarray, positions: list[int]) -> set[int]:
    """Indexes of the slices that hold any of the token positions."""
    found: set[int] = set()
    for p in positions:
        found.update(np.flatnonzero((slices[:, 0] <= p) & (p < slices[:, 1])).tolist())
    return found
