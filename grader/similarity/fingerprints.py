"""Winnowed fingerprints of normalised token streams, and the overlap of two of them.

The winnowing, the overlap of two fingerprint sets and the matched slices are
copydetect's (MOSS's robust winnowing). What is ours: fingerprints are k-grams of
*tokens* rather than characters (a token is one symbol whatever its length), hashed with
a fixed polynomial hash rather than Python's hash() — that one changes from run to run,
and the same class must give the same report every time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from copydetect.utils import find_fingerprint_overlap, get_copied_slices, get_token_coverage, winnow

from grader.similarity.tokens import Tokens

_BASE = np.uint64(1_000_003)
_MASK = np.uint64((1 << 52) - 1)  # exact in float64, which copydetect's winnow buffer uses


def kgram_hashes(tokens: Tokens, k: int) -> np.ndarray:
    """The hash of every run of k consecutive tokens (empty when there are fewer than k)."""
    codes = tokens.codes()
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + codes[j:j + n]
    return h & _MASK


@dataclass
class Fingerprint:
    """A document's winnowed fingerprints: hash -> token positions where its k-gram starts."""

    positions: dict[int, list[int]]
    k: int
    n_tokens: int

    @cached_property
    def hashes(self) -> set[int]:
        return set(self.positions)

    @cached_property
    def coverage(self) -> int:
        """How many tokens the fingerprints cover: the denominator of a coverage share."""
        return int(get_token_coverage(self.positions, self.k, self.n_tokens))

    def without(self, ignored: set[int]) -> Fingerprint:
        kept = {h: p for h, p in self.positions.items() if h not in ignored}
        return Fingerprint(kept, self.k, self.n_tokens)


def fingerprint(tokens: Tokens, k: int, window: int) -> Fingerprint:
    hashes = kgram_hashes(tokens, k)
    positions: dict[int, list[int]] = {}
    if len(hashes):
        selected, idx = winnow(hashes.astype(np.float64), window, remove_duplicates=False)
        for h, i in zip(selected.astype(np.int64).tolist(), idx.tolist(), strict=True):
            positions.setdefault(h, []).append(i)
    return Fingerprint(positions, k, len(tokens))


def all_kgrams(tokens: Tokens, k: int) -> set[int]:
    """Every k-gram hash (not only the winnowed ones): what boilerplate removal subtracts."""
    return set(kgram_hashes(tokens, k).astype(np.int64).tolist())


@dataclass(frozen=True)
class Overlap:
    """What two documents share: matched token slices in each, and their sizes."""

    slices_a: np.ndarray  # (2, m): token starts, token ends
    slices_b: np.ndarray
    matched_a: int  # tokens of a inside a shared fingerprint
    matched_b: int

    def coverage(self, a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
        ca, cb = a.coverage, b.coverage
        return (self.matched_a / ca if ca else 0.0, self.matched_b / cb if cb else 0.0)


def overlap(a: Fingerprint, b: Fingerprint) -> Overlap:
    idx_a, idx_b = find_fingerprint_overlap(a.hashes, b.hashes, a.positions, b.positions)
    slices_a = np.asarray(get_copied_slices(idx_a, a.k), dtype=np.int64).reshape(2, -1)
    slices_b = np.asarray(get_copied_slices(idx_b, b.k), dtype=np.int64).reshape(2, -1)
    return Overlap(slices_a, slices_b, _covered(slices_a), _covered(slices_b))


def _covered(slices: np.ndarray) -> int:
    return int(np.sum(slices[1] - slices[0])) if slices.size else 0


def document_frequency(fingerprints: Iterable[Fingerprint]) -> dict[int, int]:
    """In how many documents each hash occurs."""
    counts: dict[int, int] = {}
    for fp in fingerprints:
        for h in fp.positions:
            counts[h] = counts.get(h, 0) + 1
    return counts
