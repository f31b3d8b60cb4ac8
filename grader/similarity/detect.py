"""Compare a class's submissions pairwise, per assignment, with what is not evidence removed.

Not evidence: the stub's code (every k-gram of the committed stub is subtracted), and
code found in more than `common_share` of the class (the common idiom of the
assignment, as Dolos does). The reference is not subtracted: it is a detector of its
own — a submission whose own code is mostly the reference's is flagged "matches the
hidden reference", since the reference should never have reached a student.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from grader.similarity.fingerprints import (
    Fingerprint,
    all_kgrams,
    document_frequency,
    fingerprint,
    overlap,
)
from grader.similarity.sources import (
    DEFAULT_MAX_BYTES,
    SetAside,
    Source,
    collect,
    committed_stub,
    reference_source,
)
from grader.similarity.threshold import Threshold, class_threshold, fixed_threshold
from grader.similarity.tokens import Tokens, normalise


@dataclass(frozen=True)
class Settings:
    k: int = 12  # tokens per fingerprint: shorter matches are noise
    window: int = 6  # winnowing window: any match of k + window - 1 tokens is found
    common_share: float = 0.5  # code in more than this share of the class is not evidence
    min_class_for_common: int = 6  # below this, "a share of the class" is two or three students
    floor: float = 0.8  # a pair's score must reach this whatever the class looks like
    quantile: float = 0.99
    threshold: float | None = None  # a fixed cut-off instead of the class's
    min_matched_tokens: int = 40  # a flagged pair shares at least this much code
    reference_floor: float = 0.75  # share of a submission's own code found in the reference
    min_tokens: int = 25  # fewer tokens of code: too short to compare
    max_bytes: int = DEFAULT_MAX_BYTES


@dataclass
class Document:
    source: Source
    tokens: Tokens
    own: Fingerprint  # stub removed
    compared: Fingerprint  # stub and the class's common code removed


@dataclass
class PairScore:
    a: Document
    b: Document
    coverage_a: float  # share of a's own code found in b
    coverage_b: float
    matched_a: int  # tokens of a matched in b
    matched_b: int
    score: float = 0.0
    flagged: bool = False

    @property
    def students(self) -> tuple[str, str]:
        return self.a.source.student, self.b.source.student


@dataclass
class ReferenceMatch:
    doc: Document
    coverage: float  # share of the submission's own code found in the reference
    matched: int
    flagged: bool = False


@dataclass
class AssignmentResult:
    assignment: str
    documents: list[Document]
    set_aside: list[SetAside]
    pairs: list[PairScore]  # every compared pair, most similar first
    threshold: Threshold
    reference: list[ReferenceMatch]  # most similar first; empty without reference/
    reference_threshold: Threshold | None
    reference_doc: Document | None
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[PairScore]:
        return [p for p in self.pairs if p.flagged]

    @property
    def leaks(self) -> list[ReferenceMatch]:
        return [r for r in self.reference if r.flagged]


def pair_score(coverage_a: float, coverage_b: float) -> float:
    """One number per pair: the larger share, so a copy padded with dead code still scores high."""
    return max(coverage_a, coverage_b)


def compare_class(root: Path, assignments: Sequence[str] | None = None,
                  settings: Settings | None = None) -> list[AssignmentResult]:
    """What `dlgrade similarity` does: collect, then compare each assignment's submissions."""
    settings = settings or Settings()
    sources, aside = collect(root, assignments, settings.max_bytes)
    by_assignment: dict[str, list[Source]] = {}
    for s in sources:
        by_assignment.setdefault(s.assignment, []).append(s)
    names = sorted({s.assignment for s in sources} | {a.assignment for a in aside})
    results = []
    for name in names:
        stub, stub_origin = committed_stub(name)
        results.append(compare_assignment(
            name, by_assignment.get(name, []), settings, stub=stub, stub_origin=stub_origin,
            reference=reference_source(name),
            set_aside=[a for a in aside if a.assignment == name]))
    return results


def compare_assignment(assignment: str, sources: Sequence[Source], settings: Settings, *,
                       stub: str, stub_origin: str = "the stub", reference: str | None = None,
                       set_aside: Sequence[SetAside] = ()) -> AssignmentResult:
    k, w = settings.k, settings.window
    notes = [f"stub subtracted: {stub_origin}"]
    stub_kgrams = all_kgrams(normalise(stub), k) if stub else set()
    aside = list(set_aside)
    docs: list[Document] = []
    for src in sources:
        tokens = normalise(src.text)
        own = fingerprint(tokens, k, w).without(stub_kgrams)
        if len(tokens) < settings.min_tokens:
            aside.append(SetAside(src.student, assignment, src.path,
                                  f"too short to compare ({len(tokens)} tokens)"))
        elif not own.positions:
            aside.append(SetAside(src.student, assignment, src.path,
                                  "nothing beyond the stub to compare"))
        else:
            docs.append(Document(src, tokens, own, own))
    common = _common_hashes(docs, settings, notes)
    for d in docs:
        d.compared = d.own.without(common)
    pairs = [_score(a, b) for a, b in combinations(docs, 2)]
    pairs.sort(key=lambda p: (-p.score, p.students))
    threshold = class_threshold([p.score for p in pairs], floor=settings.floor,
                                quantile=settings.quantile, fixed=settings.threshold)
    for p in pairs:
        p.flagged = p.score >= threshold.value and max(p.matched_a, p.matched_b) >= settings.min_matched_tokens
    ref_doc, matches, ref_threshold = _reference_matches(reference, docs, stub_kgrams, settings, notes)
    return AssignmentResult(assignment, docs, aside, pairs, threshold, matches, ref_threshold,
                            ref_doc, notes)


def _common_hashes(docs: Sequence[Document], settings: Settings, notes: list[str]) -> set[int]:
    if len(docs) < settings.min_class_for_common:
        notes.append(f"common-code filter off: {len(docs)} submissions compared, "
                     f"it needs at least {settings.min_class_for_common}")
        return set()
    limit = settings.common_share * len(docs)
    counts = document_frequency(d.own for d in docs)
    common = {h for h, n in counts.items() if n > limit}
    notes.append(f"{len(common)} fingerprints in more than {settings.common_share:.0%} of the class "
                 "left out as common code")
    return common


def _score(a: Document, b: Document) -> PairScore:
    if a.compared.positions.keys().isdisjoint(b.compared.positions.keys()):
        return PairScore(a, b, 0.0, 0.0, 0, 0)
    o = overlap(a.compared, b.compared)
    cov_a, cov_b = o.coverage(a.compared, b.compared)
    return PairScore(a, b, cov_a, cov_b, o.matched_a, o.matched_b, pair_score(cov_a, cov_b))


def _reference_matches(reference: str | None, docs: Sequence[Document], stub_kgrams: set[int],
                       settings: Settings, notes: list[str]
                       ) -> tuple[Document | None, list[ReferenceMatch], Threshold | None]:
    """Each submission against the reference, with only the stub removed (a leak shared by
    most of the class must not vanish as "common code")."""
    if reference is None:
        notes.append("no reference/ solution here: the reference-leak check is off")
        return None, [], None
    tokens = normalise(reference)
    ref_src = Source("reference", "", Path("reference"), "", reference)
    ref_fp = fingerprint(tokens, settings.k, settings.window).without(stub_kgrams)
    ref_doc = Document(ref_src, tokens, ref_fp, ref_fp)
    matches = []
    for d in docs:
        if d.own.positions.keys().isdisjoint(ref_fp.positions.keys()):
            matches.append(ReferenceMatch(d, 0.0, 0))
            continue
        o = overlap(d.own, ref_fp)
        matches.append(ReferenceMatch(d, o.coverage(d.own, ref_fp)[0], o.matched_a))
    matches.sort(key=lambda m: (-m.coverage, m.doc.source.student))
    threshold = fixed_threshold(settings.reference_floor, "a leak is judged against the reference alone")
    for m in matches:
        m.flagged = m.coverage >= threshold.value and m.matched >= settings.min_matched_tokens
    return ref_doc, matches, threshold
