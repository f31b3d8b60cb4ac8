"""Flagged pairs for a second opinion from Dolos or JPlag.

    OUT/flagged.csv                       a row per flag (pairs and reference matches)
    OUT/<assignment>/<nn>-<a>-<b>/        one folder per flagged pair: the two sources,
        <a>.py  <b>.py                    as compared (a notebook's code cells as .py)
    OUT/<assignment>/info.csv             Dolos's metadata file for the files above

`jplag -l python3 OUT/<assignment>/<nn>-<a>-<b>` compares one pair (JPlag takes each file
of a folder as one submission); `dolos run -f terminal OUT/<assignment>/info.csv` takes
them all. A reference match's folder holds the reference beside the submission: the
export is for the instructor's eyes, like the reference itself.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from grader.errors import UserError
from grader.similarity.detect import AssignmentResult, Document

FIELDS = ["assignment", "kind", "student_a", "student_b", "score", "a_in_b", "b_in_a",
          "matched_tokens_a", "matched_tokens_b", "folder"]


def export_flagged(results: Sequence[AssignmentResult], out: Path) -> Path:
    """Write the flagged pairs under `out`; returns the CSV's path."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--export {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    for r in results:
        info: list[tuple[str, str]] = []
        number = 0
        for p in r.flagged:
            number += 1
            folder = _pair_folder(out, r.assignment, number, p.a, p.b, info)
            rows.append(dict(assignment=r.assignment, kind="similar", student_a=p.a.source.student,
                             student_b=p.b.source.student, score=f"{p.score:.4f}",
                             a_in_b=f"{p.coverage_a:.4f}", b_in_a=f"{p.coverage_b:.4f}",
                             matched_tokens_a=p.matched_a, matched_tokens_b=p.matched_b,
                             folder=folder.relative_to(out).as_posix()))
        for m in r.leaks:
            number += 1
            assert r.reference_doc is not None
            folder = _pair_folder(out, r.assignment, number, m.doc, r.reference_doc, info)
            rows.append(dict(assignment=r.assignment, kind="matches the hidden reference",
                             student_a=m.doc.source.student, student_b="reference",
                             score=f"{m.coverage:.4f}", a_in_b=f"{m.coverage:.4f}", b_in_a="",
                             matched_tokens_a=m.matched, matched_tokens_b="",
                             folder=folder.relative_to(out).as_posix()))
        if info:
            with (out / r.assignment / "info.csv").open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["filename", "full_name", "labels"])
                writer.writerows((name, full, r.assignment) for name, full in info)
    csv_path = out / "flagged.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return csv_path


def _pair_folder(out: Path, assignment: str, number: int, a: Document, b: Document,
                 info: list[tuple[str, str]]) -> Path:
    sa, sb = a.source.student, b.source.student
    folder = out / assignment / f"{number:02d}-{sa}-{sb}"
    folder.mkdir(parents=True, exist_ok=True)
    for doc, student in ((a, sa), (b, sb)):
        (folder / f"{student}.py").write_text(doc.source.text, encoding="utf-8")
        info.append(((folder / f"{student}.py").relative_to(out / assignment).as_posix(), student))
    return folder
