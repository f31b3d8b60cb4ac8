"""The nbgrader export: notebook structure, released stubs, and grade cells run as a kernel runs them.

Cells run in an in-process IPython shell (nbgrader's kernel is IPython too); a grade cell
scores as nbgrader scores it: an error is zero, a number as the cell's value is partial
credit, anything else full points. The real nbgrader commands run in
tests/test_nbgrader_roundtrip.py.
"""

from __future__ import annotations

import ast
import re
import sys
import time
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from typer.testing import CliRunner

from cli import app
from grader.catalog import assignment_names, get_assignment
from grader.classroom.release import write_public_expected
from grader.grading.case import AssignmentSpec, Case, evaluate_trusted
from grader.grading.compare import close
from grader.grading.expected import ExpectedStore
from grader.interop import nbgrader_checks
from grader.interop.nbgrader_export import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    build_notebook,
    execute_timeout,
    export_course,
    without_markers,
)
from grader.specs import load_spec

NUMPY_ASSIGNMENTS = ("backprop", "autodiff", "losses", "optimizers")


def _meta(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _release(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What `nbgrader generate_assignment` does to the code, with nbgrader's own preprocessors."""
    released = nbformat.from_dict(notebook)
    released, _ = ClearSolutions().preprocess(released, {})
    released, _ = ClearHiddenTests().preprocess(released, {})
    return released


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    return InteractiveShell.instance()


def _grades(shell: InteractiveShell, notebook: nbformat.NotebookNode,
            solutions: dict[str, str] | None = None) -> dict[str, float]:
    """Run the notebook's cells in a fresh namespace; the grade of every grade cell, by grade id."""
    shell.reset(new_session=False)
    grades: dict[str, float] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        source = (solutions or {}).get(meta.get("grade_id"), cell.source)
        result = shell.run_cell(source, silent=False, store_history=False)
        if meta.get("grade"):
            if result.error_in_exec is not None:
                grades[meta["grade_id"]] = 0.0
            elif result.result is not None:
                grades[meta["grade_id"]] = float(result.result)
            else:
                grades[meta["grade_id"]] = float(meta["points"])
    return grades


@pytest.fixture(scope="module")
def notebooks() -> dict[str, tuple[nbformat.NotebookNode, AssignmentSpec]]:
    return {name: build_notebook(name) for name in assignment_names()}


def test_every_assignment_exports_to_a_valid_nbgrader_notebook(notebooks) -> None:
    for name, (notebook, spec) in notebooks.items():
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.language == "python"
        ids = [_meta(c)["grade_id"] for c in notebook.cells if _meta(c)]
        assert len(ids) == len(set(ids)), name
        assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids), ids
        grade_cells = [c for c in notebook.cells if _meta(c).get("grade")]
        assert sum(_meta(c)["points"] for c in grade_cells) == pytest.approx(100) == spec.max_points
        # one grade cell per target, worth the target's cases, public and hidden inside it
        targets = {c.target for c in spec.cases}
        assert len(grade_cells) == len(targets), name
        for cell in grade_cells:
            meta = _meta(cell)
            target = re.search(r"check_target\('[a-z_]+', '([\w.]+)'", cell.source).group(1)
            cases = [c for c in spec.cases if c.target == target]
            assert meta["points"] == pytest.approx(sum(c.points for c in cases))
            assert meta["locked"] and not meta["solution"] and cell.metadata["editable"] is False
            assert (BEGIN_HIDDEN in cell.source) == any(not c.visible for c in cases)
            assert cell.source.count(BEGIN_HIDDEN) == cell.source.count(END_HIDDEN)
        for cell in notebook.cells:
            if _meta(cell).get("solution"):
                assert cell.source.count(BEGIN_SOLUTION) == cell.source.count(END_SOLUTION) >= 1
                assert not _meta(cell)["grade"] and not _meta(cell)["locked"]


def test_the_lesson_is_markdown(notebooks) -> None:
    notebook, _ = notebooks["optimizers"]
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# Assignment 4")
    lesson = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "## The lesson" in lesson and "## The contract" in lesson
    assert "``" not in lesson and "`step_decay`" in lesson


def test_the_release_is_the_stub(notebooks) -> None:
    """Released code = the stub's definitions with the same signatures and docstrings, no solution."""
    for name, (notebook, _) in notebooks.items():
        released = _release(notebook)
        code = "\n\n".join(c.source for c in released.cells
                           if c.cell_type == "code" and not _meta(c).get("grade"))
        tests = "\n".join(c.source for c in released.cells if _meta(c).get("grade"))
        assert "hidden=True" not in tests and "check_target" in tests
        stub = ast.parse(get_assignment(name).stub_path.read_text(encoding="utf-8"))
        release = ast.parse(code)
        assert _signatures(release) == _signatures(stub), name
        reference = ast.parse(get_assignment(name).reference_path.read_text(encoding="utf-8"))
        for node in ast.walk(release):  # every body the student writes is nbgrader's stub
            if isinstance(node, ast.FunctionDef) and _body_is(node, reference) and not _body_is(node, stub):
                pytest.fail(f"{name}.{node.name}: the release shows the reference's body")


def _signatures(tree: ast.Module) -> dict[str, tuple[str, str | None]]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = ("class", ast.get_docstring(node))
            for m in node.body:
                if isinstance(m, ast.FunctionDef):
                    out[f"{node.name}.{m.name}"] = (ast.dump(m.args), ast.get_docstring(m))
        elif isinstance(node, ast.FunctionDef):
            out[node.name] = (ast.dump(node.args), ast.get_docstring(node))
    return out


def _body_is(fn: ast.FunctionDef, module: ast.Module) -> bool:
    """Whether module has a function of fn's name with fn's body (docstring aside)."""
    def body(f: ast.FunctionDef) -> str:
        stmts = f.body[1:] if ast.get_docstring(f) is not None else f.body
        return ast.dump(ast.Module(body=stmts, type_ignores=[]))
    return any(isinstance(n, ast.FunctionDef) and n.name == fn.name and body(n) == body(fn)
               for n in ast.walk(module))


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_grade_cells_give_the_solution_full_marks_and_the_release_zero(shell, notebooks, name) -> None:
    notebook, spec = notebooks[name]
    solution = nbformat.from_dict(notebook)
    for cell in solution.cells:
        if _meta(cell).get("solution"):
            cell.source = without_markers(cell.source)
    grades = _grades(shell, solution)
    assert sum(grades.values()) == pytest.approx(100), {k: v for k, v in grades.items() if v == 0}
    released = _release(notebook)  # the stubs raise NotImplementedError
    hidden_restored = {_meta(c)["grade_id"]: c.source for c in notebook.cells if _meta(c).get("grade")}
    assert sum(_grades(shell, released, hidden_restored).values()) == 0


def test_a_student_without_the_reference_runs_the_public_cells(shell, notebooks, monkeypatch, tmp_path) -> None:
    """The student release has no reference/: the public cells use the shipped expected outputs."""
    shipped = tmp_path / "expected"
    write_public_expected(shipped, assignments=["losses"])
    store = ExpectedStore(reference_dir=tmp_path / "no-reference", shipped_dir=shipped)
    monkeypatch.setattr(nbgrader_checks, "_STORE", store)
    notebook, _ = notebooks["losses"]
    released = _release(notebook)
    grades = _grades(shell, released, _losses_solution(notebook))
    assert sum(grades.values()) == pytest.approx(100)  # every public case passed: no partial value
    assert not store.has_reference("losses")
    assert sum(_grades(shell, released).values()) == 0


def _losses_solution(notebook: nbformat.NotebookNode, **replace: str) -> dict[str, str]:
    return {_meta(c)["grade_id"]: replace.get(_meta(c)["grade_id"], without_markers(c.source))
            for c in notebook.cells if _meta(c).get("solution")}


def test_a_wrong_function_loses_its_points_and_only_those(shell, notebooks) -> None:
    notebook, spec = notebooks["losses"]
    wrong_sign = ("def mse_grad(pred, target):\n"
                  "    return 2.0 / pred.shape[0] * (target - pred)\n")
    grades = _grades(shell, notebook, _losses_solution(notebook, losses_mse_grad=wrong_sign))
    assert grades.pop("losses_test_mse_grad") == 0
    full = {_meta(c)["grade_id"]: _meta(c)["points"] for c in notebook.cells if _meta(c).get("grade")}
    assert grades == {k: v for k, v in full.items() if k != "losses_test_mse_grad"}


def test_partial_credit_is_the_points_of_the_cases_that_pass(shell, notebooks) -> None:
    """A softmax that overflows for large logits passes the ordinary cases only."""
    import numpy as np

    import reference.losses as reference

    naive = "def softmax(logits):\n    e = np.exp(logits)\n    return e / e.sum(axis=-1, keepdims=True)\n"
    notebook, spec = notebooks["losses"]
    grades = _grades(shell, notebook, _losses_solution(notebook, losses_softmax=naive))
    module = types.ModuleType("naive")
    module.np = np
    exec(naive, module.__dict__)
    with np.errstate(all="ignore"):
        expected = sum(c.points for c in spec.cases if c.target == "softmax"
                       and evaluate_trusted(c, module, reference, "public", "losses").passed)
    points = sum(c.points for c in spec.cases if c.target == "softmax")
    assert 0 < expected < points  # the case mix this test is about
    assert grades["losses_test_softmax"] == pytest.approx(expected)


# ---------------------------------------------------------------- check_target itself


def _tiny_spec(monkeypatch, tmp_path: Path, timeout: float = 5.0) -> None:
    """A spec of three cases of `double` (10, 20, 30 points), graded against a tiny reference."""
    def run(module, inputs):
        return float(module.double(inputs))

    cases = tuple(Case(name=f"double_{i}", target="double", points=10.0 * (i + 1), run=run,
                       judge=close(), make_inputs=lambda rng: float(rng.normal()),
                       visibility="visible" if i == 0 else "hidden", timeout=timeout)
                  for i in range(3))
    spec = AssignmentSpec(name="losses", framework="numpy", cases=cases)
    monkeypatch.setattr(nbgrader_checks, "load_spec", lambda name: spec)
    (tmp_path / "losses.py").write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.setattr(nbgrader_checks, "_STORE", ExpectedStore(reference_dir=tmp_path))
    monkeypatch.setattr(nbgrader_checks, "_TIMED_OUT", {})


def test_warnings_and_stderr_cost_nothing(monkeypatch, tmp_path, capfd) -> None:
    """nbgrader zeroes a grade cell that writes to stderr; the checks keep it quiet."""
    _tiny_spec(monkeypatch, tmp_path)

    def double(x):
        import warnings
        warnings.warn("deprecated", DeprecationWarning, stacklevel=1)
        print("debug", file=sys.stderr)
        return 2 * x

    result = nbgrader_checks.check_target("losses", "double", {"double": double})
    result += nbgrader_checks.check_target("losses", "double", {"double": double}, hidden=True)
    assert nbgrader_checks.award(result) is None
    assert (result.earned, result.possible, result.passed) == (60.0, 60.0, 3)
    assert capfd.readouterr().err == ""


def test_award_raises_with_the_messages_when_nothing_passes(monkeypatch, tmp_path) -> None:
    _tiny_spec(monkeypatch, tmp_path)
    result = nbgrader_checks.check_target("losses", "double", {"double": lambda x: 3 * x}, hidden=True)
    with pytest.raises(AssertionError, match=r"double_1 \(20 points\).*value differs"):
        nbgrader_checks.award(result)


def test_a_case_that_runs_forever_times_out_and_the_target_fails_fast(monkeypatch, tmp_path) -> None:
    _tiny_spec(monkeypatch, tmp_path, timeout=0.3)

    def double(x):
        while True:
            try:
                sum(range(1000))
            except Exception:  # a student's blanket except cannot swallow the timeout
                continue

    started = time.perf_counter()
    result = nbgrader_checks.check_target("losses", "double", {"double": double})
    result += nbgrader_checks.check_target("losses", "double", {"double": double}, hidden=True)
    assert time.perf_counter() - started < 2.0  # one timeout, not three
    assert result.earned == 0 and result.possible == 60
    assert "timed out after 0.3 s" in result.failures[0]
    assert all("not run: an earlier case of double timed out" in f for f in result.failures[1:])


def test_an_unknown_target_is_an_error() -> None:
    with pytest.raises(ValueError, match="no cases for target 'nope'"):
        nbgrader_checks.check_target("losses", "nope", {})


# ---------------------------------------------------------------- the command


def _dlgrade(*args: str):
    return CliRunner().invoke(app, list(args))


def test_export_command_writes_the_course(tmp_path) -> None:
    done = _dlgrade("nbgrader", "export", str(tmp_path / "course"), "-a", "losses", "-a", "optimizers")
    assert done.exit_code == 0, done.output
    for name in ("losses", "optimizers"):
        nbformat.validate(nbformat.read(tmp_path / "course" / "source" / name / f"{name}.ipynb", 4))
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'dlgrade'" in config
    assert "DLGRADE_ASSIGNMENTS = ['losses', 'optimizers']" in config
    assert re.search(r"^c\.Execute\.timeout = \d+$", config, re.M)
    compile(config, "nbgrader_config.py", "exec")


def test_a_second_export_adds_to_the_config(tmp_path) -> None:
    course = tmp_path / "course"
    export_course(course, ["losses"])
    losses_only = (course / "nbgrader_config.py").read_text()
    export_course(course, ["mlp"])
    both = (course / "nbgrader_config.py").read_text()
    assert "DLGRADE_ASSIGNMENTS = ['losses', 'mlp']" in both
    timeout = re.compile(r"^c\.Execute\.timeout = (\d+)$", re.M)
    assert int(timeout.search(both).group(1)) == execute_timeout([load_spec("losses"), load_spec("mlp")])
    assert int(timeout.search(both).group(1)) >= int(timeout.search(losses_only).group(1))


def test_export_defaults_to_all_six_and_keeps_a_config_it_did_not_write(tmp_path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'mine'\n")
    exported = export_course(course)
    assert [e.assignment for e in exported] == assignment_names()
    assert all(e.path.is_file() and e.points == 100 for e in exported)
    assert "'mine'" in (course / "nbgrader_config.py").read_text()


@pytest.mark.parametrize(("args", "says"), [
    (["-a", "nope"], "unknown assignment 'nope'"),
    ([], "exists and is not a folder"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, says) -> None:
    target = tmp_path / "course"
    if not args:
        target.write_text("a file")
    done = _dlgrade("nbgrader", "export", str(target), *args)
    assert done.exit_code == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == "" and done.exception is None or isinstance(done.exception, SystemExit)
