"""The boundary is validated: whatever a child sends back fails only its own case (as a
"malformed answer" where it is malformed), every message is safe for a terminal, JSON and
SQLite, and `grade-batch` records the rest of the class whatever one submission sends.
"""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from test_threats import REFERENCE, hostile_submission, only_target_fails

from grader.classroom.batch import grade_class
from grader.classroom.gradebook import Gradebook
from grader.classroom.late import assess
from grader.course import NoLatePolicy
from grader.grading.grader import Grader
from grader.interop import gradescope
from grader.ui import report as report_view

VARIANTS = {  # variant -> what the failing mse cases may say
    # (a forged frame that names a case already decided is skipped; the process then exits)
    "int_for_float": ("malformed answer", "exited with code 0"),
    "array_header": ("malformed answer", "exited with code 0"),
    "surrogate": ("raised RuntimeError",),
    "metaclass": ("raised ",),
    "ansi": ("raised RuntimeError",),
}


@pytest.fixture(scope="module", params=[None, False], ids=["bwrap-if-working", "no-bwrap"])
def grader(request):
    with Grader(use_bwrap=request.param) as grader:
        yield grader


def _safe(text: str) -> None:
    text.encode("utf-8")  # no lone surrogate
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text, repr(text)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_crafted_data_fails_only_its_case_and_prints_safely(grader, tmp_path, variant):
    report = grader.grade_file(hostile_submission(tmp_path, "crash_data", VARIANT=variant), "losses")
    messages = only_target_fails(report, "mse", *VARIANTS[variant], "not run: mse")
    for message in messages:
        _safe(message)
    if variant == "ansi":
        assert "score 100/100" in messages[0]  # the words stay, their colours and the clear go
    # every sink takes the report: the terminal, JSON, the gradebook
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    report_view.render(report, console)
    json.loads(gradescope.to_json(report))
    with Gradebook(tmp_path / "gradebook.db") as gradebook:
        gradebook.record(report, student="mallory", assignment="losses", path="x.py",
                         submitted_at=None, submitted_at_source="mtime",
                         lateness=assess(report.score, None, None, NoLatePolicy()))


def test_grade_batch_records_the_rest_of_the_class(tmp_path):
    root = tmp_path / "class"
    for variant in VARIANTS:
        hostile_submission(root, "crash_data", student=f"m_{variant}", VARIANT=variant)
    for honest in ("ann", "bob"):
        (root / honest).mkdir(parents=True)
        (root / honest / "losses.py").write_text(REFERENCE.read_text())
    result = grade_class(root, db=tmp_path / "gradebook.db", jobs=2, allow_weak_sandbox=True)
    assert not result.batch.errors, [o.error for o in result.batch.errors]
    scores = {r.student: r.score for r in result.records}
    assert set(scores) == {"ann", "bob", *(f"m_{v}" for v in VARIANTS)}
    assert scores["ann"] == scores["bob"] == 100
    assert all(scores[f"m_{v}"] < 100 for v in VARIANTS)
