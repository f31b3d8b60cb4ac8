"""`dlgrade similarity` as an instructor runs it: the table, the HTML report, the export
for Dolos/JPlag, flags in the gradebook (scores untouched), and one-line errors."""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("copydetect")

from bench_helpers import load_benchmark  # noqa: E402

from cli import app  # noqa: E402
from grader.catalog import ROOT  # noqa: E402
from grader.classroom.gradebook import APPLICATION_ID, SCHEMA, SCHEMA_VERSION, Gradebook  # noqa: E402
from grader.similarity.flags import read_flags  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory):
    corpus = load_benchmark("similarity_corpus").make_corpus(
        students_per_assignment=16, seed=11, copy_share=0.2, partial_share=0.0, leaks=1)
    root = tmp_path_factory.mktemp("exchange")
    corpus.write(root)
    return corpus, root


def one_line_error(result, words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], result.output


def test_similarity_end_to_end(klass, tmp_path: Path) -> None:
    corpus, root = klass
    db, report, export = tmp_path / "g.db", tmp_path / "report", tmp_path / "export"
    result = runner.invoke(app, ["similarity", str(root), "-a", "losses", "--db", str(db),
                                 "--report", str(report), "--export", str(export)],
                           env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    copies = {(s.source, s.student) for s in corpus.by_assignment("losses") if s.kind == "copy"}
    leakers = {s.student for s in corpus.by_assignment("losses") if s.kind == "leak"}
    assert "losses: the 10 most similar of 120 pairs (16 submissions)" in out
    assert "A in B" in out and "B in A" in out and "matched" in out
    assert "matches the hidden reference" in out
    # flags in the gradebook: every copy pair, every leak; nothing else from this class
    with Gradebook(db, create=False) as gb:
        flags = read_flags(gb)
        assert gb.count_submissions() == 0  # no score was written
    similar = {(f.student, f.other) for f in flags if f.kind == "similar"}
    assert copies <= similar
    assert {f.student for f in flags if f.kind == "matches the hidden reference"} == leakers
    # the report: one file, nothing fetched from anywhere, a histogram with its threshold
    page = (report / "similarity.html").read_text()
    assert "<svg" in page and "threshold 0.80" in page and page.count("<mark") > 20
    assert not re.search(r"<(script|link|img|iframe)\b|src=|https?://", page)
    # the export: a CSV row and a folder of two sources per flag
    rows = list(csv.DictReader((export / "flagged.csv").open()))
    assert len(rows) == len(flags)
    for row in rows:
        files = sorted(p.name for p in (export / row["folder"]).iterdir())
        assert files == sorted([f"{row['student_a']}.py", f"{row['student_b']}.py"])
    assert (export / "losses" / "info.csv").read_text().startswith("filename,full_name,labels")


def test_a_rerun_replaces_the_flags_and_never_touches_grades(klass, tmp_path: Path) -> None:
    _, root = klass
    db = tmp_path / "g.db"
    for _ in range(2):
        result = runner.invoke(app, ["similarity", str(root), "-a", "optimizers", "--db", str(db)])
        assert result.exit_code == 0, result.output
    with Gradebook(db, create=False) as gb:
        flags = read_flags(gb)
    assert flags and len(flags) == len({(f.kind, f.student, f.other) for f in flags})
    result = runner.invoke(app, ["similarity", str(root), "-a", "optimizers", "--db", str(db),
                                 "--threshold", "1.0"])
    with Gradebook(db, create=False) as gb:
        after = read_flags(gb)
    assert len(after) < len(flags)  # the stricter run's flags replaced the first run's


def test_an_old_gradebook_gains_the_similarity_flags_table_and_keeps_its_grades(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO students VALUES ('ada', '2026-01-01T00:00:00Z')")
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    with Gradebook(db) as gb:
        assert gb.students() == ["ada"]
        assert read_flags(gb) == []
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert conn.execute("SELECT COUNT(*) FROM similarity_flags").fetchone()[0] == 0


@pytest.mark.parametrize(("args", "words"), [
    (["--threshold", "1.5"], "--threshold must be in (0, 1]"),
    (["--common-share", "0"], "--common-share must be in (0, 1]"),
    (["-a", "nosuch"], "nosuch"),
])
def test_bad_options_are_one_line(klass, args: list[str], words: str) -> None:
    _, root = klass
    one_line_error(runner.invoke(app, ["similarity", str(root), "--no-db", *args]), words)


def test_bad_folders_are_one_line(klass, tmp_path: Path) -> None:
    _, root = klass
    one_line_error(runner.invoke(app, ["similarity", str(tmp_path / "missing"), "--no-db"]),
                   "no such folder")
    (tmp_path / "empty").mkdir()
    one_line_error(runner.invoke(app, ["similarity", str(tmp_path / "empty"), "--no-db"]),
                   "no submissions")
    (tmp_path / "file").write_text("x")
    one_line_error(runner.invoke(app, ["similarity", str(root), "--no-db", "--report",
                                       str(tmp_path / "file")]), "is a file, not a folder")
    one_line_error(runner.invoke(app, ["similarity", str(root), "--db", str(tmp_path / "file")]),
                   "not a dlgrade gradebook")


def test_a_mistyped_folder_or_assignment_leaves_no_new_gradebook(klass, tmp_path: Path) -> None:
    _, root = klass
    db = tmp_path / "g.db"
    one_line_error(runner.invoke(app, ["similarity", str(tmp_path / "missing"), "--db", str(db)]),
                   "no such folder")
    one_line_error(runner.invoke(app, ["similarity", str(root), "-a", "nosuch", "--db", str(db)]),
                   "unknown assignment 'nosuch'")
    assert not db.exists()


def test_without_copydetect_the_command_says_what_to_install(klass) -> None:
    _, root = klass
    code = ("import sys; sys.modules['copydetect'] = None\n"  # as if the extra were not installed
            "from cli import app; app(['similarity', sys.argv[1], '--no-db'])")
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("error: dlgrade similarity needs copydetect, the optional extra "
                                   "'similarity': pip install copydetect")
