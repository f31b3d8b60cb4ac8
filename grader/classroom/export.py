"""Exports of the gradebook's final grades: CSV, JSON, a Canvas gradebook CSV, Gradescope files.

The records come from grader.classroom.standing, so every score is final as of now (late
penalty, override, excuse applied) and the roster's non-submitters are there as missing. CSV and
JSON also carry what the final score was made of: raw score, late days, penalty,
override, status and flags. The format follows OUT's extension; a --format that
contradicts it is refused, and nothing is overwritten without `force`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from grader.catalog import in_catalog_order
from grader.classroom.flags import flag_summary
from grader.classroom.gradebook import GradeRecord, by_student
from grader.classroom.roster import roster_students
from grader.errors import UserError
from grader.interop import gradescope

Format = Literal["csv", "json", "canvas", "gradescope"]
FORMATS: tuple[str, ...] = ("csv", "json", "canvas", "gradescope")
_EXTENSION_FORMATS = {".csv": ("csv", "canvas"), ".json": ("json",), "": ("gradescope",)}
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def infer_format(out: Path, fmt: str | None) -> str:
    """The format OUT's extension implies; `fmt`, when given, must agree with it."""
    if fmt is not None and fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (choose from: {', '.join(FORMATS)})")
    suffix = out.suffix.lower() if not out.is_dir() else ""
    implied = _EXTENSION_FORMATS.get(suffix)
    if implied is None:
        raise UserError(f"cannot tell the format from {out.name!r}: name it .csv or .json, "
                        "or give a folder for --format gradescope")
    if fmt is None:
        return implied[0]
    if fmt not in implied:
        want = {"csv": ".csv", "canvas": ".csv", "json": ".json", "gradescope": "a folder (no extension)"}[fmt]
        raise UserError(f"--format {fmt} does not match {out.name!r}: a {fmt} export goes to {want}")
    return fmt


def _assignments(records: Sequence[GradeRecord]) -> list[str]:
    return in_catalog_order({r.assignment for r in records})


def _total(recs: dict[str, GradeRecord]) -> float:
    return round(sum(r.score for r in recs.values() if r.status != "excused"), 6)


def _score(r: GradeRecord | None) -> str:
    if r is None:
        return ""
    return "EX" if r.status == "excused" else f"{r.score:g}"


CSV_DETAIL = ("raw", "late days", "penalty", "override", "status", "flags")


def _details(r: GradeRecord | None) -> list[str]:
    if r is None:
        return [""] * len(CSV_DETAIL)
    return [f"{r.raw_score:g}" if r.status == "graded" else "", str(r.late_days), f"{r.penalty:g}",
            "" if r.override is None else f"{r.override:g}", r.status, flag_summary(r.flags)]


def write_csv(records: Sequence[GradeRecord], out: Path) -> Path:
    """A row per student: per assignment its final score, then raw, late days, penalty,
    override, status and flags; the total last. EX marks an excused assignment."""
    names = _assignments(records)
    with _atomic(out, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", *(c for a in names for c in (a, *(f"{a} {d}" for d in CSV_DETAIL))),
                         "total"])
        for student, recs in by_student(records).items():
            row = [student]
            for a in names:
                row += [_score(recs.get(a)), *_details(recs.get(a))]
            writer.writerow([*row, f"{_total(recs):g}"])
    return out


def write_canvas(records: Sequence[GradeRecord], out: Path, roster: Sequence[dict[str, str]] | None) -> Path:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then a column
    per assignment (points; EX for excused), with the 'Points Possible' row first.

    Canvas matches rows by ID or SIS User ID: give the roster CSV `canvas_id` or
    `sis_user_id` columns. Without them the SIS Login ID is the dlgrade id.
    """
    names = _assignments(records)
    info = {row["student"]: row for row in roster or []}
    maxima = {a: max(r.max_score for r in records if r.assignment == a) for a in names}
    with _atomic(out, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*CANVAS_COLUMNS, *names])
        writer.writerow(["Points Possible", "", "", "", "", *(f"{maxima[a]:g}" for a in names)])
        for student, recs in by_student(records).items():
            row = info.get(student, {})
            writer.writerow([row.get("name", student), row.get("canvas_id", ""), row.get("sis_user_id", ""),
                             row.get("sis_login_id", student), row.get("section", ""),
                             *(_score(recs.get(a)) for a in names)])
    return out


def _record_json(r: GradeRecord) -> dict[str, Any]:
    return {
        "status": r.status, "score": r.score, "raw_score": r.raw_score, "max_score": r.max_score,
        "late_days": r.late_days, "penalty_percent": r.penalty_percent, "penalty": r.penalty,
        "override": r.override, "due": r.due, "flags": r.flags, "adjustments": list(r.adjustments),
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
            student: {"total": _total(recs),
                      "assignments": {a: _record_json(r) for a, r in recs.items()}}
            for student, recs in by_student(records).items()
        },
    }
    with _atomic(out) as fh:
        fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return out


def gradescope_results(r: GradeRecord) -> dict[str, Any]:
    """Gradescope's results.json for one submission; `score` is the final one."""
    data = gradescope.results(r.report)
    data["score"] = r.score
    lines = [data.get("output", "")]
    if r.late_days > 0:
        lines.append(f"Late by {r.late_days} day(s): −{r.penalty_percent:g} % "
                     f"(−{r.penalty:g} points; {r.raw_score:g} before the penalty).")
    if r.override is not None:
        lines.append(f"Score set by the instructor: {r.override:g}.")
    data["output"] = "\n".join(x for x in lines if x)
    data |= {"raw_score": r.raw_score, "late_days": r.late_days, "penalty": r.penalty,
             "override": r.override, "flags": r.flags}
    return data


def write_gradescope(records: Sequence[GradeRecord], out: Path) -> list[Path]:
    """OUT/<student>/<assignment>/results.json for every graded submission."""
    written = []
    for r in records:
        if r.status == "missing":
            continue
        folder = out / r.student / r.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        with _atomic(path) as fh:
            fh.write(json.dumps(gradescope_results(r), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    return written


class _atomic:
    """Write to a temporary file beside `path`, then rename: an export is whole or absent."""

    def __init__(self, path: Path, newline: str | None = None) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.newline = newline

    def __enter__(self) -> Any:
        self.fh = self.tmp.open("w", encoding="utf-8", newline=self.newline)
        return self.fh

    def __exit__(self, kind: object, *rest: object) -> None:
        self.fh.close()
        if kind is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def export(records: Sequence[GradeRecord], fmt: str, out: Path, *, force: bool = False,
           course: Any = None) -> list[Path]:
    """Write `records` as `fmt` to `out` (a file; a folder for gradescope); never overwrite
    without `force`."""
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if not records:
        raise UserError("the gradebook has no grades to export yet")
    if fmt == "gradescope":
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file; the gradescope export needs a folder")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise UserError(f"{out} is not empty; pass --force to write into it")
        return write_gradescope(records, out)
    if out.is_dir():
        raise UserError(f"{out} is a folder; the {fmt} export needs a file name")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    if out.exists() and not force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    if fmt == "canvas":
        roster = roster_students(course)
        return [write_canvas(records, out, roster)]
    return [write_csv(records, out) if fmt == "csv" else write_json(records, out)]
