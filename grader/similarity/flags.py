"""Flags in the gradebook: a rerun of the similarity check replaces its flags for the
assignments it compared. A flag never touches a score."""

from __future__ import annotations

import json
from collections.abc import Sequence

from grader.classroom.gradebook import REFERENCE, SIMILAR, Gradebook, SimilarityFlag
from grader.classroom.handin import iso_utc, utc_now
from grader.similarity.detect import AssignmentResult

Flag = SimilarityFlag  # one flag as the gradebook reads it back
__all__ = ["REFERENCE", "SIMILAR", "Flag", "read_flags", "record_flags"]


def record_flags(gradebook: Gradebook, results: Sequence[AssignmentResult]) -> int:
    """Replace the similarity flags of each compared assignment; returns how many were written."""
    now = iso_utc(utc_now())
    written = 0
    with gradebook.write() as conn:
        for r in results:
            conn.execute("DELETE FROM similarity_flags WHERE assignment = ? AND kind IN (?, ?)",
                         (r.assignment, SIMILAR, REFERENCE))
            for p in r.flagged:
                detail = {"a_in_b": round(p.coverage_a, 4), "b_in_a": round(p.coverage_b, 4),
                          "matched_tokens": [p.matched_a, p.matched_b],
                          "threshold": round(r.threshold.value, 4), "rule": r.threshold.rule}
                conn.execute(
                    "INSERT INTO similarity_flags (kind, assignment, student, other, score, sha256, other_sha256,"
                    " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (SIMILAR, r.assignment, p.a.source.student, p.b.source.student, p.score,
                     p.a.source.sha256, p.b.source.sha256, json.dumps(detail), now))
                written += 1
            for m in r.leaks:
                detail = {"own_code_in_reference": round(m.coverage, 4), "matched_tokens": m.matched}
                conn.execute(
                    "INSERT INTO similarity_flags (kind, assignment, student, other, score, sha256, other_sha256,"
                    " detail, created_at) VALUES (?, ?, ?, NULL, ?, ?, NULL, ?, ?)",
                    (REFERENCE, r.assignment, m.doc.source.student, m.coverage, m.doc.source.sha256,
                     json.dumps(detail), now))
                written += 1
    return written


def read_flags(gradebook: Gradebook, student: str | None = None) -> list[Flag]:
    """Every flag (or one student's, on either side of a pair), by assignment then score."""
    return gradebook.similarity_flags(student)
