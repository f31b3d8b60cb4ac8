"""Gradescope's results.json for a Report, plus dlgrade's own fields.

Case visibility keeps dlgrade's words ("visible", "hidden"), which are also Gradescope's.
"""

from __future__ import annotations

import json
from typing import Any

from grader.grading.results import Report, TestResult


def case_results(test: TestResult) -> dict[str, Any]:
    return {
        "name": test.name,
        "score": test.points,
        "max_score": test.max_points,
        "status": test.status,
        "output": test.message,
        "visibility": test.visibility,
        "target": test.target,
    }


def results(report: Report) -> dict[str, Any]:
    """Gradescope's results.json schema, plus dlgrade's own fields."""
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.execution_time, 3),
        "output": "\n".join(report.notes),
        "tests": [case_results(t) for t in report.tests],
        "assignment": report.assignment,
        "student": report.student,
        "sha256": report.sha256,
    }


def to_json(reports: Report | list[Report]) -> str:
    """results.json of one report; a list for several."""
    if isinstance(reports, Report):
        return json.dumps(results(reports), indent=2, ensure_ascii=False)
    return json.dumps([results(r) for r in reports], indent=2, ensure_ascii=False)
