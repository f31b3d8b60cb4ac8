"""Exports of the gradebook's current grades: CSV, JSON, and Gradescope results.json files.

All scores are final (after late penalties); the JSON and Gradescope files also carry the
score before the penalty and the penalty itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from grader.catalog import in_catalog_order
from grader.classroom.gradebook import GradeRecord, by_student
from grader.errors import UserError
from grader.interop import gradescope

Format = Literal["csv", "json", "gradescope"]
FORMATS: tuple[str, ...] = ("csv", "json", "gradescope")


def _assignments(records: Sequence[GradeRecord]) -> list[str]:
    return in_catalog_order({r.assignment for r in records})


def write_csv(records: Sequence[GradeRecord], out: Path) -> Path:
    """One row per student, a column per assignment (empty when not handed in), then the total."""
    names = _assignments(records)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *names, "total"])
        for student, recs in by_student(records).items():
            writer.writerow([student, *(f"{recs[a].score:g}" if a in recs else "" for a in names),
                             f"{sum(r.score for r in recs.values()):g}"])
    return out


def _record_json(r: GradeRecord) -> dict[str, Any]:
    return {
        "score": r.score, "raw_score": r.raw_score, "max_score": r.max_score,
        "late_days": r.late_days, "penalty_percent": r.penalty_percent, "penalty": r.penalty,
        "sha256": r.sha256, "path": r.path, "submitted_at": r.submitted_at,
        "submitted_at_source": r.submitted_at_source, "graded_at": r.graded_at,
        "notes": r.report.notes,
        "tests": [gradescope.case_results(t) for t in r.report.tests],
    }


def write_json(records: Sequence[GradeRecord], out: Path) -> Path:
    names = _assignments(records)
    data = {
        "assignments": {a: {"max_score": max(r.max_score for r in records if r.assignment == a)}
                        for a in names},
        "students": {
            student: {"total": round(sum(r.score for r in recs.values()), 6),
                      "assignments": {a: _record_json(r) for a, r in recs.items()}}
            for student, recs in by_student(records).items()
        },
    }
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def gradescope_results(r: GradeRecord) -> dict[str, Any]:
    """Gradescope's results.json for one submission; `score` is after the late penalty."""
    data = gradescope.results(r.report)
    data["score"] = r.score
    if r.late_days > 0:
        line = (f"Late by {r.late_days} day(s): −{r.penalty_percent:g} % "
                f"(−{r.penalty:g} points; {r.raw_score:g} before the penalty).")
        data["output"] = "\n".join(x for x in (data.get("output", ""), line) if x)
    data |= {"raw_score": r.raw_score, "late_days": r.late_days, "penalty": r.penalty}
    return data


def write_gradescope(records: Sequence[GradeRecord], out: Path) -> list[Path]:
    """OUT/<student>/<assignment>/results.json for every current submission."""
    written = []
    for r in records:
        folder = out / r.student / r.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        path.write_text(json.dumps(gradescope_results(r), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written


def export(records: Sequence[GradeRecord], fmt: str, out: Path) -> list[Path]:
    """Write `records` as `fmt` to `out` (a file for csv/json, a folder for gradescope)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if fmt == "gradescope":
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file; the gradescope export needs a folder")
        return write_gradescope(records, out)
    if out.is_dir():
        raise UserError(f"{out} is a folder; the {fmt} export needs a file name")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    return [write_csv(records, out) if fmt == "csv" else write_json(records, out)]
