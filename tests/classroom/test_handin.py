"""`dlgrade submit`: the copy, the manifest, the history, and every refusal as one line, exit 2."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from grader import __version__
from grader.catalog import ROOT
from grader.classroom.handin import check_student_id, read_manifest, submit
from grader.errors import UserError

runner = CliRunner()
GOOD = "import numpy as np\n\n\ndef mse(pred, target):\n    return float(np.sum((target - pred) ** 2) / pred.shape[0])\n"


def one_line_error(result, words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:") and words in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "losses.py").write_text(GOOD)
    return tmp_path


def test_submit_copies_the_file_and_writes_the_manifest(work: Path) -> None:
    result = runner.invoke(app, ["submit", "losses", "--student", "kim.minji_01", "--file", "losses.py"])
    assert result.exit_code == 0, result.output
    target = work / "submissions" / "kim.minji_01" / "losses.py"
    assert target.read_text() == GOOD
    entry = json.loads((target.parent / "manifest.json").read_text())["losses"]
    assert entry["student"] == "kim.minji_01" and entry["assignment"] == "losses"
    assert entry["sha256"] == hashlib.sha256(GOOD.encode()).hexdigest()
    assert entry["dlgrade_version"] == __version__
    assert entry["submitted_at"].endswith("Z")
    when = datetime.fromisoformat(entry["submitted_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60
    assert str(target.relative_to(work)) in result.output.replace("\n", "")


@pytest.mark.parametrize("args", [["losses", "mine/losses.py"], ["mine/losses.py"],
                                  ["losses", "-f", "mine/losses.py"]])
def test_the_file_can_be_given_as_a_student_types_it(work: Path, args: list[str]) -> None:
    """`submit losses my.py`, `submit my/losses.py` (the assignment from the name), `-f`."""
    (work / "mine").mkdir()
    (work / "mine" / "losses.py").write_text(GOOD + "# mine\n")
    result = runner.invoke(app, ["submit", *args, "--student", "park"])
    assert result.exit_code == 0, result.output
    assert (work / "submissions" / "park" / "losses.py").read_text().endswith("# mine\n")


def test_default_file_is_the_working_copy_in_assignments(work: Path) -> None:
    (work / "assignments").mkdir()
    (work / "assignments" / "losses.py").write_text(GOOD + "# from assignments/\n")
    result = runner.invoke(app, ["submit", "losses", "--student", "lee"])
    assert result.exit_code == 0, result.output
    assert (work / "submissions" / "lee" / "losses.py").read_text().endswith("# from assignments/\n")


def test_resubmitting_keeps_the_earlier_file_as_history(tmp_path: Path) -> None:
    src = tmp_path / "losses.py"
    src.write_text(GOOD)
    first = submit("losses", "park", src, tmp_path / "ex", now=datetime(2025, 3, 14, 1, 2, 3, tzinfo=timezone.utc))
    src.write_text(GOOD + "# second try\n")
    second = submit("losses", "park", src, tmp_path / "ex")
    assert first.previous is None
    assert second.previous == tmp_path / "ex" / "park" / "history" / "losses-20250314T010203Z.py"
    assert second.previous.read_text() == GOOD
    old_entry = json.loads(second.previous.with_suffix(".json").read_text())
    assert old_entry == first.entry
    assert (tmp_path / "ex" / "park" / "losses.py").read_text().endswith("# second try\n")
    assert read_manifest(tmp_path / "ex" / "park")["losses"] == second.entry
    assert second.entry["sha256"] != first.entry["sha256"]


def test_two_assignments_share_one_manifest(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text(GOOD)
    submit("losses", "choi", src, tmp_path / "ex")
    submit("backprop", "choi", src, tmp_path / "ex")
    assert set(read_manifest(tmp_path / "ex" / "choi")) == {"losses", "backprop"}


def test_the_file_is_compiled_never_run(work: Path) -> None:
    marker = work / "ran"
    (work / "losses.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nimport sys\nsys.exit(3)\n")
    result = runner.invoke(app, ["submit", "losses", "--student", "kim", "--file", "losses.py"])
    assert result.exit_code == 0, result.output
    assert not marker.exists()


@pytest.mark.parametrize("student", [
    "../evil", "a/b", "a\\b", ".hidden", "", "x" * 65, "with space", "é", "a:b", "..", "-",
])
def test_student_ids_with_path_characters_are_refused(work: Path, student: str) -> None:
    result = runner.invoke(app, ["submit", "losses", "--student", student, "--file", "losses.py"])
    if student == "-":  # a valid id
        assert result.exit_code == 0, result.output
        return
    one_line_error(result, "invalid student id")
    assert not (work / "submissions").exists() or not any((work / "submissions").rglob("*.py"))


def test_valid_ids() -> None:
    for student in ("kim", "A.B_c-9", "x" * 64, "2025_001"):
        assert check_student_id(student) == student


@pytest.mark.parametrize("args, words", [
    (["submit", "lossess", "--student", "kim", "--file", "losses.py"], "unknown assignment 'lossess'"),
    (["submit", "losses", "--student", "kim", "--file", "nowhere.py"], "no such file: nowhere.py"),
    (["submit", "backprop", "--student", "kim"], "no assignments/backprop.py or backprop.py here"),
    (["submit", "losses", "--student", "kim", "--file", "notes.txt"], "a submission is a .py or .ipynb file"),
    (["submit", "losses", "--student", "kim", "--file", "broken.py"], "is not valid Python (line 2)"),
    (["submit", "losses", "--student", "kim", "--file", "nul.py"], "is not valid Python"),
    (["submit", "losses", "--student", "kim", "--file", "bad.ipynb"], "is not a Jupyter notebook"),
    (["submit", "losses", "--student", "kim", "--file", "losses.py", "--exchange", "afile"], "is not a folder"),
    (["submit", "losses", "--student", "kim", "--file", "losses.py", "--course", "nope.toml"], "no course config at nope.toml"),
    (["submit", "losses", "broken.py", "--student", "kim", "--file", "losses.py"], "two files given"),
    (["submit", "notes.py", "--student", "kim"], "give it first, as in `losses notes.py`"),
])
def test_bad_submissions_get_one_line_and_exit_2(work: Path, args: list[str], words: str) -> None:
    (work / "notes.txt").write_text("hello")
    (work / "broken.py").write_text("def mse(pred, target):\nreturn 1\n")
    (work / "nul.py").write_bytes(b"x = 1\x00\n")
    (work / "bad.ipynb").write_text("{not json")
    (work / "afile").write_text("")
    one_line_error(runner.invoke(app, args), words)


def test_exchange_comes_from_the_course_config(work: Path) -> None:
    (work / "course.toml").write_text(
        'exchange = "handin"\n[due]\nlosses = 2000-01-01T00:00:00Z\n')
    result = runner.invoke(app, ["submit", "losses", "--student", "kim", "--file", "losses.py"])
    assert result.exit_code == 0, result.output
    assert (work / "handin" / "kim" / "losses.py").exists()
    assert "day(s) late" in result.output
    # --exchange wins over the config
    result = runner.invoke(app, ["submit", "losses", "--student", "kim", "--file", "losses.py",
                                 "--exchange", "other"])
    assert result.exit_code == 0 and (work / "other" / "kim" / "losses.py").exists()


def test_a_notebook_can_be_submitted(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(GOOD)])
    src = tmp_path / "losses.ipynb"
    src.write_text(nbformat.writes(nb))
    done = submit("losses", "kim", src, tmp_path / "ex")
    assert done.path == tmp_path / "ex" / "kim" / "losses.ipynb"


def test_submitting_the_exchange_copy_itself_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "losses.py"
    src.write_text(GOOD)
    done = submit("losses", "kim", src, tmp_path / "ex")
    with pytest.raises(UserError, match="already the submission"):
        submit("losses", "kim", done.path, tmp_path / "ex")
    assert done.path.read_text() == GOOD


def test_the_demo_class_manifests_match_their_files() -> None:
    """The bundled class was handed in with submit: every manifest entry describes its file."""
    root = ROOT / "examples" / "submissions"
    students = [p for p in root.iterdir() if p.is_dir()]
    assert len(students) >= 8
    for folder in students:
        manifest = read_manifest(folder)
        assert manifest, folder
        for assignment, entry in manifest.items():
            data = (folder / entry["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], (folder, assignment)
