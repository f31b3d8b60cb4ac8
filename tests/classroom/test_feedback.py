"""Feedback: what students see (never a hidden case's inputs), and the instructor's summary."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
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
    assert "2 day(s) late, −20 % = −4 points" in md
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


# ---------------------------------------------------------------- one page: order, language, time, totals

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_failures_come_first_and_passing_cases_are_folded() -> None:
    page = student_html("kim", [buggy()])
    assert page.index("mse_small") < page.index("<details>") < page.index("softmax_rows")
    assert "<summary>1 passed case(s)</summary>" in page
    md = student_markdown("kim", [buggy()])
    assert md.index("| mse_small |") < md.index("| softmax_rows |")


def test_one_language_per_page() -> None:
    english = student_html("kim", [buggy()], lang="en")
    assert not HANGUL.search(english) and '<html lang="en">' in english
    korean = student_html("kim", [buggy()], lang="ko")
    assert '<html lang="ko">' in korean and "실패한 케이스" in korean and "살펴볼 부분" in korean
    assert lesson_for("losses", "softmax", "ko") in korean and "Lecture 1" not in korean
    assert "Noto Sans KR" in korean and "Malgun Gothic" in korean  # fonts that render Hangul
    assert not HANGUL.search(student_markdown("kim", [buggy()]))


def test_every_time_is_in_the_course_timezone() -> None:
    from grader.course import Course

    course = Course(timezone="Asia/Seoul", due={"losses": "2025-03-14T23:59:00+09:00"})
    late = replace(buggy(), due="2025-03-14T14:59:00Z", late_days=2)
    page = student_html("kim", [late], course)
    assert "submitted 2025-03-16 20:30 +09:00 (Asia/Seoul), due 2025-03-14 23:59 +09:00 (Asia/Seoul)" in page
    assert "Z," not in page and "UTC" not in page


def test_totals_on_the_student_page_match_the_summary() -> None:
    from grader.classroom.standing import missing_record

    records = [buggy("kim"), missing_record("kim", "backprop", 100.0), buggy("lee", assignment="backprop"),
               buggy("lee")]
    page = student_html("kim", [r for r in records if r.student == "kim"])
    assert "Total: <b>20 / 200</b>" in page and "not handed in" in page
    summary = summary_html(records)
    assert re.search(r'kim</a></td>.*<td class="num">20 / 200</td>', summary)


def test_the_summary_puts_flagged_and_missing_students_first() -> None:
    from grader.classroom.standing import missing_record

    flagged = replace(buggy("zed"), flags=[{"kind": "timeout", "case": "mse_small", "cases": 1,
                                            "detail": "timed out after 2 s"}])
    records = [buggy("ann"), flagged, missing_record("bob", "losses", 100.0)]
    page = summary_html(records)
    assert page.index("Needs attention") < page.index("Per assignment") < page.index("Which concepts")
    attention = page[page.index("Needs attention"):page.index("Per assignment")]
    assert "⚑ timeout" in attention and "mse_small: timed out after 2 s" in attention
    assert 'bob.html">bob</a></td><td>losses</td><td class="missing">missing' in attention
    students = page[page.index("<h2>Students"):]
    assert students.index("zed") < students.index("bob") < students.index("ann")
    assert "<details><summary>Per case (worst first)</summary>" in page
    assert "img{max-width:100%;height:auto}" in page  # the picture fits its column


def test_pages_render_in_a_browser(tmp_path: Path) -> None:
    """With chromium at hand: both pages render, the picture within the page's width."""
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium here: the HTML structure is checked by the tests above")
    from grader.classroom.standing import missing_record

    records = [buggy("ann"), buggy("zed", assignment="backprop"), missing_record("ann", "backprop", 100.0),
               buggy("zed")]
    files = write_feedback(records, tmp_path / "fb", lang="ko")
    for page in (files.summary, tmp_path / "fb" / "students" / "ann.html"):
        shot = tmp_path / f"{page.stem}.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                        "--window-size=1000,1400", page.as_uri()], capture_output=True, timeout=120)
        assert shot.read_bytes().startswith(b"\x89PNG")


def test_every_phrase_and_lesson_is_written_in_both_languages() -> None:
    """The English and Korean tables are parallel on purpose (a page speaks one language):
    a key missing from one would end a student's page in a KeyError."""
    from grader.classroom import feedback

    assert feedback.TEXT["ko"].keys() == feedback.TEXT["en"].keys()
    assert feedback.LESSONS_KO.keys() == feedback.LESSONS.keys()
    for assignment, lessons in feedback.LESSONS.items():
        assert feedback.LESSONS_KO[assignment].keys() == lessons.keys(), assignment
    assert feedback._DEFAULT_LESSON_KO.keys() == feedback._DEFAULT_LESSON.keys()
