"""The similarity check's flags in the instructor summary: a reason to look, never a score."""

from __future__ import annotations

import json
import re
from pathlib import Path

from batch_fakes import FakeGrader, make_class
from typer.testing import CliRunner

from cli import app
from grader.classroom.batch import grade_class
from grader.classroom.feedback import similarity_for, summary_html
from grader.classroom.gradebook import REFERENCE, SIMILAR, Gradebook, SimilarityFlag
from grader.classroom.standing import final_grades

PAIR = SimilarityFlag(SIMILAR, "losses", "kim", "lee", 0.9137,
                      {"a_in_b": 0.93, "b_in_a": 0.88, "threshold": 0.6})
LEAK = SimilarityFlag(REFERENCE, "losses", "park", None, 0.97, {"own_code_in_reference": 0.97})
ELSEWHERE = SimilarityFlag(SIMILAR, "backprop", "kim", "lee", 0.99, {})  # not graded here


def add_flag(db: Path, f: SimilarityFlag) -> None:
    with Gradebook(db) as gb, gb.write() as c:
        c.execute("INSERT INTO similarity_flags (kind, assignment, student, other, score, sha256, "
                  "other_sha256, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  (f.kind, f.assignment, f.student, f.other, f.score, "a" * 64,
                   "b" * 64 if f.other else None, json.dumps(f.detail), "2025-03-20T00:00:00Z"))


def graded_class(tmp_path: Path) -> Path:
    make_class(tmp_path / "ex", {"kim": {"losses": "x = 1\n"}, "lee": {"losses": "BUG:mse\n"},
                                 "park": {"losses": "x = 2\n"}, "choi": {"losses": "BUG:softmax\n"}})
    grade_class(tmp_path / "ex", db=tmp_path / "g.db", make_grader=FakeGrader)
    return tmp_path / "g.db"


def attention(page: str) -> str:
    """The 'Needs attention' table of a summary page."""
    start = page.index("<h2>Needs attention")
    return page[start:page.index("<h2>Per assignment")]


def scores(page: str) -> list[str]:
    """The students table's rows with the markup taken out (what the scores read)."""
    start = page.index("<h2>Students</h2>")
    table = page[start:page.index("</table>", start)]
    return [re.sub(r"<[^>]+>", " ", row) for row in table.split("<tr>")[2:]]


def test_both_students_of_a_pair_and_a_reference_match_need_attention(tmp_path: Path) -> None:
    db = graded_class(tmp_path)
    records = final_grades(db)
    page = summary_html(records, similarity=[PAIR, LEAK, ELSEWHERE])
    part = attention(page)
    assert "similar to lee (0.91)" in part and "similar to kim (0.91)" in part
    assert "matches the hidden reference (0.97)" in part
    assert "backprop" not in part  # a flag on an assignment this summary does not cover
    assert "choi" not in part
    assert "flag only: the score is unchanged" in part
    # the flagged students are listed first among the students, with their scores as graded
    plain = summary_html(records)
    assert "similar to" not in plain
    assert sorted(scores(page)) == sorted(scores(plain))
    assert [row.split()[0] for row in scores(page)][:3] == ["kim", "lee", "park"]


def test_similarity_for_reads_a_pair_from_both_sides(tmp_path: Path) -> None:
    records = final_grades(graded_class(tmp_path), students=["lee"])
    assert similarity_for(records, [PAIR, LEAK]) == [("lee", PAIR)]
    assert PAIR.describe("lee") == "similar to kim (0.91)"
    assert PAIR.describe("kim") == "similar to lee (0.91)"


def test_grade_batch_feedback_dir_shows_the_gradebooks_flags_and_keeps_the_scores(tmp_path: Path) -> None:
    db = graded_class(tmp_path)
    before = {(r.student, r.assignment): r.score for r in final_grades(db)}
    add_flag(db, PAIR)
    add_flag(db, LEAK)
    with Gradebook(db, create=False) as gb:
        assert gb.similarity_flags("lee") == [PAIR]
        assert gb.similarity_flags() == [PAIR, LEAK] or gb.similarity_flags() == [LEAK, PAIR]
    result = grade_class(tmp_path / "ex", db=db, make_grader=FakeGrader, feedback_dir=tmp_path / "fb")
    page = result.feedback.summary.read_text(encoding="utf-8")
    assert "similar to lee (0.91)" in attention(page) and "matches the hidden reference" in attention(page)
    assert {(r.student, r.assignment): r.score for r in final_grades(db)} == before
    for student in ("kim", "lee", "park"):  # students never see the flag
        assert "similar" not in (tmp_path / "fb" / "students" / f"{student}.html").read_text()


def test_gradebook_feedback_command_shows_them_too(tmp_path: Path) -> None:
    db = graded_class(tmp_path)
    add_flag(db, LEAK)
    done = CliRunner().invoke(app, ["gradebook", "feedback", str(tmp_path / "fb"), "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert "park" in attention((tmp_path / "fb" / "summary.html").read_text(encoding="utf-8"))
