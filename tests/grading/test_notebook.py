"""A notebook submission becomes one module: code cells in order, IPython syntax dropped with a note."""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell
from typer.testing import CliRunner

from cli import app
from grader.classroom.batch import discover
from grader.classroom.handin import submit
from grader.errors import UserError
from grader.grading.grader import grade_path
from grader.grading.notebook import NotebookError, notebook_to_source
from grader.grading.submission import read_submission
from grader.interop.nbgrader_export import build_notebook, without_markers
from grader.specs import load_spec


def _text(*cells: nbformat.NotebookNode) -> str:
    return nbformat.writes(new_notebook(cells=list(cells)))


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("submission")
    exec(compile(source, "submission", "exec"), module.__dict__)
    return module


def test_code_cells_become_one_module_in_order() -> None:
    source, notes = notebook_to_source(_text(
        new_markdown_cell("# Losses\n%not code: markdown is ignored\n!neither"),
        new_code_cell("import numpy as np"),
        new_raw_cell("raw cells are ignored ("),
        new_code_cell("def mse(p, t):\n    return float(np.mean((t - p) ** 2))"),
        new_code_cell("SCALE = mse(np.zeros(2), np.ones(2))"),
    ))
    module = _module(source)
    assert module.SCALE == 1.0
    assert source.index("import numpy") < source.index("def mse") < source.index("SCALE =")
    assert notes == []


def test_magics_and_shell_escapes_are_dropped_with_a_note_each() -> None:
    source, notes = notebook_to_source(_text(new_code_cell(
        "%matplotlib inline\n"
        "import numpy as np\n"
        "!pip install --quiet \\\n    something\n"
        "files = !ls\n"
        "np.sum?\n"
        "def f(x):\n"
        "    %time y = 1\n"
        "    return 2 * x\n"
    )))
    assert _module(source).f(3) == 6
    assert "pip" not in source and "matplotlib" not in source and "ls" not in source
    assert len(notes) == 5
    assert "IPython magic dropped: %matplotlib inline" in notes[0]
    assert "shell escape" in notes[1] and "pip install" in notes[1]
    assert "shell escape" in notes[2] and "files = !ls" in notes[2]
    assert "help" in notes[3]
    assert "%time y = 1" in notes[4]
    assert all(n.startswith("notebook cell 1:") for n in notes)


def test_percent_and_bang_inside_python_stay() -> None:
    """A docstring line or a continued expression that starts with % or ! is Python."""
    code = (
        'def f(x):\n'
        '    """Percentages:\n'
        '    % of the points\n'
        '    !important\n'
        '    """\n'
        '    return (x\n'
        '            % 3)\n'
    )
    source, notes = notebook_to_source(_text(new_code_cell(code)))
    assert notes == [] and code.strip() in source
    # the same lines next to a real magic: only the magic goes
    source, notes = notebook_to_source(_text(new_code_cell("%load_ext autoreload\n" + code)))
    module = _module(source)
    assert module.f(7) == 1 and "% of the points" in module.f.__doc__
    assert len(notes) == 1 and "%load_ext autoreload" in notes[0]


def test_cell_magics() -> None:
    source, notes = notebook_to_source(_text(
        new_code_cell("%%bash\necho hi > /tmp/x"),
        new_code_cell("%%time\nX = 41 + 1"),
        new_code_cell("%%writefile helper.py\ndef g(): pass"),
    ))
    assert _module(source).X == 42
    assert "echo" not in source and "def g" not in source
    assert notes == [
        "notebook cell 1: cell magic %%bash dropped with its cell",
        "notebook cell 2: cell magic %%time dropped (its body kept)",
        "notebook cell 3: cell magic %%writefile helper.py dropped with its cell",
    ]


def test_nbgrader_test_cells_are_not_part_of_the_module() -> None:
    grade = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "t",
                          "points": 5, "schema_version": 3}}
    solution = {"nbgrader": {"grade": False, "solution": True, "locked": False, "grade_id": "s",
                             "schema_version": 3}}
    source, notes = notebook_to_source(_text(
        new_code_cell("def f():\n    return 1", metadata=solution),
        new_code_cell("from grader.interop.nbgrader_checks import check_target\nraise SystemExit", metadata=grade),
    ))
    assert _module(source).f() == 1
    assert "check_target" not in source
    assert notes == ["notebook: 1 nbgrader test cell(s) not run: dlgrade grades with its own cases"]


def test_future_imports_of_any_cell_move_to_the_top() -> None:
    """IPython takes `from __future__ import ...` atop any cell; a module only atop the file."""
    source, _ = notebook_to_source(_text(
        new_code_cell("SCRATCH = 1"),
        new_code_cell("from __future__ import annotations\n\ndef f(x: Undefined) -> int:\n    return 3"),
    ))
    assert source.startswith("from __future__ import annotations\n")
    assert _module(source).f(0) == 3  # the annotation is never evaluated


def test_an_old_format_notebook_is_read() -> None:
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "ANSWER = 42", "outputs": [], "language": "python"}]}]}
    source, _ = notebook_to_source(json.dumps(v3))
    assert _module(source).ANSWER == 42


@pytest.mark.parametrize(("text", "says"), [
    ("{not json", "invalid JSON"),
    ("", "invalid JSON"),
    ("[1, 2]", "no 'nbformat' version"),
    ('{"cells": []}', "no 'nbformat' version"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid Jupyter notebook"),
    ('{"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []}', "not a valid Jupyter notebook"),
    ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 5}]}',
     "not a valid Jupyter notebook"),
])
def test_what_is_not_a_notebook_is_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(NotebookError, match=says) as info:
        notebook_to_source(text)
    assert "\n" not in str(info.value)


def test_a_binary_file_is_not_a_notebook(tmp_path) -> None:
    path = tmp_path / "losses.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    read = read_submission(path)
    source, notes = read.source, read.notes
    assert notes == (f"losses.ipynb: {_problem(source)}",) and "not UTF-8" in notes[0]
    with pytest.raises(ImportError, match="not a Jupyter notebook: the file is not UTF-8"):
        _module(source)


# ---------------------------------------------------------------- graded like a .py file


def _solution_notebook(path: Path, **replace: str) -> Path:
    """The exported losses notebook with the reference solution (nbgrader's markers removed)."""
    notebook, _ = build_notebook("losses")
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = replace.get(meta["grade_id"], without_markers(cell.source))
    notebook.cells.insert(3, new_code_cell("%matplotlib inline\n!pip list"))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def test_read_submission_reads_a_notebook_and_reports_a_broken_one_as_an_import_failure(tmp_path) -> None:
    good = _solution_notebook(tmp_path / "alice" / "losses.ipynb")
    source, notes = read_submission(good).source, read_submission(good).notes
    assert "def softmax" in source and "check_target" not in source
    assert any("%matplotlib inline" in n for n in notes)

    bad = tmp_path / "bob" / "losses.ipynb"
    bad.parent.mkdir()
    bad.write_text("{not json")
    read = read_submission(bad)
    source, notes = read.source, read.notes
    assert notes == (f"losses.ipynb: {_problem(source)}",)
    with pytest.raises(ImportError, match="not a Jupyter notebook: invalid JSON"):
        _module(source)


def _problem(source: str) -> str:
    return ast.literal_eval(source.removeprefix("raise ImportError(").rstrip().removesuffix(")"))


def test_a_notebook_is_graded_like_a_python_file(tmp_path) -> None:
    wrong_sign = "def mse_grad(pred, target):\n    return 2.0 / pred.shape[0] * (target - pred)\n"
    _solution_notebook(tmp_path / "class" / "alice" / "losses.ipynb")
    _solution_notebook(tmp_path / "class" / "carol" / "losses.ipynb", losses_mse_grad=wrong_sign)
    (tmp_path / "class" / "bob").mkdir()
    (tmp_path / "class" / "bob" / "losses.ipynb").write_text('{"cells": []}')
    found = discover(tmp_path / "class", ["losses"])  # grade-batch's discovery
    assert [(s.student, s.path.name) for s in found] == [
        ("alice", "losses.ipynb"), ("bob", "losses.ipynb"), ("carol", "losses.ipynb")]

    reports = {r.student: r for r in grade_path(tmp_path / "class", assignment="losses", allow_weak_sandbox=True)}
    assert reports["alice"].score == 100
    assert any("IPython magic dropped: %matplotlib inline" in n for n in reports["alice"].notes)
    spec = load_spec("losses")
    assert reports["carol"].score == 100 - sum(c.points for c in spec.cases if c.target == "mse_grad")
    bob = reports["bob"]
    assert bob.score == 0 and len(bob.tests) == len(spec.cases)
    assert all("not a Jupyter notebook: the JSON has no 'nbformat' version" in t.message for t in bob.tests)


def test_dlgrade_grade_prints_the_report_of_a_broken_notebook(tmp_path) -> None:
    bad = tmp_path / "losses.ipynb"
    bad.write_text("{not json")
    done = CliRunner().invoke(app, ["grade", str(bad), "--json"])
    report = json.loads(done.stdout)
    assert report["score"] == 0 and report["max_score"] == 100
    assert all("invalid JSON" in t["output"] for t in report["tests"])


def test_a_student_submits_a_notebook_and_grade_batch_finds_it(tmp_path) -> None:
    work = _solution_notebook(tmp_path / "work" / "my losses.ipynb")
    done = submit("losses", "dana", work, tmp_path / "exchange")
    assert done.path == tmp_path / "exchange" / "dana" / "losses.ipynb"
    assert [s.path for s in discover(tmp_path / "exchange", ["losses"])] == [done.path]
    broken = tmp_path / "work" / "broken.ipynb"
    broken.write_text("print('a .py file with the wrong name')\n")
    with pytest.raises(UserError, match="broken.ipynb is not a Jupyter notebook: invalid JSON"):
        submit("losses", "dana", broken, tmp_path / "exchange")


# ------------------------------------------------------------------ hostile notebooks


def test_a_hundred_thousand_magic_lines_convert_in_linear_time() -> None:
    import time

    code = "x = 1\n" + "%time x = x + 1\n" * 100_000 + "def f(y):\n    return y + x\n"
    start = time.monotonic()
    source, notes = notebook_to_source(_text(new_code_cell(code)))
    elapsed = time.monotonic() - start
    assert _module(source).f(1) == 2
    assert len(notes) == 11 and "and 99990 more IPython lines dropped" in notes[-1]
    assert elapsed < 30, f"{elapsed:.1f} s"  # quadratic: hours; linear: about a second


def test_magic_lines_inside_brackets_and_strings_are_python() -> None:
    code = ('values = [\n    1,\n    7\n    % 5,\n]\n' + 'text = """\n%not a magic\n"""\n'
            "total = (1 +\n         2) \\\n    + 3\n%matplotlib inline\n")
    source, notes = notebook_to_source(_text(new_code_cell(code)))
    module = _module(source)
    assert module.values == [1, 2] and module.text == "\n%not a magic\n" and module.total == 6
    assert len(notes) == 1 and "%matplotlib inline" in notes[0]


def test_odd_but_schema_valid_metadata() -> None:
    notebook = new_notebook(cells=[new_code_cell("X = 1", metadata={"nbgrader": "not a dict"}),
                                   new_code_cell("Y = 2", metadata={"nbgrader": {"grade": "yes"}})])
    notebook.metadata = {"kernelspec": {"name": "k", "display_name": "K", "language": 5},
                         "language_info": {"name": "python"}, "anything": [1, {"a": None}]}
    source, notes = notebook_to_source(nbformat.writes(notebook))
    module = _module(source)
    assert module.X == 1 and module.Y == 2  # "grade": "yes" is not nbgrader's True
    assert notes == ["notebook: kernel language is 5; its code cells are read as Python"]


def test_conversion_is_a_bounded_step_of_its_own(tmp_path) -> None:
    from grader.grading.submission import read_submission

    good = tmp_path / "losses.ipynb"
    good.write_text(_text(new_code_cell("%matplotlib inline\nX = 3")))
    read = read_submission(good)
    source, notes = read.source, read.notes
    assert _module(source).X == 3 and len(notes) == 1
    deep = tmp_path / "deep.ipynb"
    deep.write_text('{"nbformat": 4, "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    read = read_submission(deep)  # the converter fails in its own process: one line
    source, notes = read.source, read.notes
    assert source.startswith("raise ImportError(") and len(notes) == 1
