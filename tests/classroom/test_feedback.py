"""Feedback: what students see (never a hidden case's inputs), and the instructor's summary."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from grader.classroom.feedback import (
    case_failure_rates,
    lesson_for,
    score_distribution_png,
    student_html,
    student_markdown,
    summary_html,
    target_failure_rates,
    targets_to_review,
    write_feedback,
)
from grader.classroom.gradebook import GradeRecord
from grader.errors import UserError
from grader.grading.results import Report, TestResult

SECRET = "SECRET-INPUT-7f3a"


def case(name: str, target: str, points: float, passed: bool, visibility: str, message: str = "") -> TestResult:
    return TestResult(name=name, target=target, points=points if passed else 0.0, max_points=points,
                      status="passed" if passed else "failed", message=message, seconds=0.01,
                      visibility=visibility)


def rec(student: str, tests: list[TestResult], late_days: int = 0, percent: float = 0.0,
        assignment: str = "losses", notes: list[str] | None = None) -> GradeRecord:
    raw = sum(t.points for t in tests)
    penalty = raw * percent / 100
    report = Report(assignment=assignment, student=student, sha256="f" * 64, source="x.py",
                    tests=tests, notes=notes or [])
    return GradeRecord(id=1, student=student, assignment=assignment, sha256="f" * 64, path="x.py",
                       submitted_at="2025-03-16T11:30:00Z", submitted_at_source="manifest",
                       graded_at="2025-03-20T00:00:00Z", late_days=late_days, penalty_percent=percent,
                       penalty=penalty, raw_score=raw, score=raw - penalty,
                       max_score=sum(t.max_points for t in tests), report=report)


def buggy(student: str = "kim", **kw) -> GradeRecord:
    return rec(student, [
        case("mse_small", "mse", 10, False, "visible", "expected 0.25, got 0.5: a factor 2 (did you forget 1/N?)"),
        case("mse_hidden", "mse", 30, False, "hidden", f"expected 1.5 for pred={SECRET}, got 3.0"),
        case("softmax_rows", "softmax", 20, True, "visible"),
        case("softmax_large", "softmax", 40, False, "hidden", f"nan at index (3, 1) for logits {SECRET}"),
    ], **kw)


def test_hidden_cases_never_show_their_message() -> None:
    records = [buggy(), rec("lee", [case("mse_hidden", "mse", 30, True, "hidden", f"passed on {SECRET}")])]
    for text in (student_markdown("kim", records[:1]), student_html("kim", records[:1]),
                 student_markdown("lee", records[1:]), student_html("lee", records[1:])):
        assert SECRET not in text
        assert "mse_hidden" in text  # the name, target and points are shown
    md = student_markdown("kim", records[:1])
    assert "| mse_hidden | `mse` | 0 / 30 | failed | hidden |" in md
    assert "did you forget 1/N?" in md  # a visible case's message is shown


def test_what_to_look_at_lists_lost_targets_biggest_first_with_the_lesson() -> None:
    review = targets_to_review(buggy().report.tests)
    assert [(x.target, x.lost, x.failed, x.cases) for x in review] == [("mse", 40, 2, 2), ("softmax", 40, 1, 2)]
    md = student_markdown("kim", [buggy()])
    section = md.split("### What to look at")[1]
    assert section.index("`mse`") < section.index("`softmax`")
    assert lesson_for("losses", "softmax") in section
    assert "subtract the row max" in lesson_for("losses", "softmax")
    assert "Nothing: every case passed." in student_markdown("ada", [rec("ada", [case("a", "mse", 10, True, "visible")])])


def test_lessons_follow_the_target_stem() -> None:
    assert lesson_for("losses", "mse_grad") == lesson_for("losses", "mse")
    assert lesson_for("backprop", "affine_backward") == lesson_for("backprop", "affine_forward")
    assert "accumulate" in lesson_for("autodiff", "Value.mul")
    assert lesson_for("losses", "something_new")  # a default, never empty


def test_late_penalty_is_shown() -> None:
    late = buggy(late_days=2, percent=20.0)  # raw 20 → −4
    md = student_markdown("kim", [late])
    assert "2 days late, −20 % = −4 points" in md
    assert "16 / 100 (20 before the late penalty)" in md
    assert "on time" in student_markdown("kim", [buggy()])


def test_html_escapes_what_student_code_said() -> None:
    evil = rec("kim", [case("c", "mse", 10, False, "visible", "<script>alert('x')</script>")],
               notes=["<img src=x onerror=alert(1)>"])
    page = student_html("kim", [evil])
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    md = student_markdown("kim", [rec("kim", [case("c", "mse", 10, False, "visible", "a ``` fence")])])
    assert "````text\na ``` fence\n````" in md  # a longer fence keeps the message inside


def test_failure_rates_sort_the_missed_concept_first() -> None:
    records = [buggy("a"), buggy("b"),
               rec("c", [case("mse_small", "mse", 10, True, "visible"), case("mse_hidden", "mse", 30, True, "hidden"),
                         case("softmax_rows", "softmax", 20, False, "visible"),
                         case("softmax_large", "softmax", 40, True, "hidden")])]
    cases = {(r.name): (r.failed, r.total) for r in case_failure_rates(records)}
    assert cases == {"mse_small": (2, 3), "mse_hidden": (2, 3), "softmax_rows": (1, 3), "softmax_large": (2, 3)}
    rates = case_failure_rates(records)
    assert [r.rate for r in rates] == sorted((r.rate for r in rates), reverse=True)
    assert rates[0].name == "softmax_large"  # ties broken by points lost (80 > 60 > 20)
    targets = target_failure_rates(records)
    # every student failed some softmax case; two of three failed mse
    assert [(t.target, t.failed, t.total) for t in targets] == [("softmax", 3, 3), ("mse", 2, 3)]


def test_summary_embeds_a_real_png_and_the_rates() -> None:
    records = [buggy("a"), buggy("b", late_days=1, percent=10.0),
               rec("c", [case("mse_small", "mse", 10, True, "visible")])]
    png = score_distribution_png(records)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    page = summary_html(records)
    embedded = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert embedded and base64.b64decode(embedded.group(1)).startswith(b"\x89PNG")
    assert "Which concepts the class missed" in page
    assert page.index("softmax_large") < page.index("softmax_rows")
    assert '<a href="students/a.html">a</a>' in page
    assert "losses: 1 d" in page  # b's late submission
    assert "http" not in page.replace("http-equiv", "")  # self-contained: nothing fetched


def test_write_feedback(tmp_path: Path) -> None:
    files = write_feedback([buggy("kim"), buggy("lee")], tmp_path / "fb")
    assert sorted(p.name for p in files.students) == ["kim.html", "kim.md", "lee.html", "lee.md"]
    assert all(SECRET not in p.read_text() for p in files.students)
    assert files.summary == tmp_path / "fb" / "summary.html"
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is a file, not a folder"):
        write_feedback([buggy()], tmp_path / "file")
