"""grader.grading.grader: the API batch grading and the CLI build on (Grader, grade_path, ...)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from grader.catalog import ROOT
from grader.errors import UserError
from grader.grading.case import PUBLIC_STUDENT
from grader.grading.cuda import cuda_available
from grader.grading.expected import ExpectedStore
from grader.grading.grader import Grader, grade_path
from grader.grading.submission import default_student, detect_assignment
from grader.interop import gradescope
from grader.specs import load_spec

DATA = Path(__file__).resolve().parents[1] / "data"
REFERENCE = ROOT / "reference" / "losses.py"
sys.path.insert(0, str(DATA))


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


def copy_to(folder: Path, student: str, text: str, name: str = "losses.py") -> Path:
    path = folder / student / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_detect_assignment():
    assert detect_assignment(Path("x/losses.py")) == "losses"
    assert detect_assignment(Path("cuda_training.ipynb")) == "cuda_training"
    with pytest.raises(UserError, match="pass --assignment"):
        detect_assignment(Path("homework3.py"))


def test_default_student(tmp_path):
    assert default_student(tmp_path / "alice" / "losses.py") == "alice"
    assert default_student(tmp_path / "alice" / "notes.py") == "anonymous"
    assert default_student(ROOT / "reference" / "losses.py") == "anonymous"
    assert default_student(ROOT / "assignments" / "losses.py") == "anonymous"
    assert default_student(tmp_path / ".hidden" / "losses.py") == "anonymous"


def test_report_fields_sha_and_student(grader, tmp_path):
    path = copy_to(tmp_path, "alice", REFERENCE.read_text())
    report = grader.grade_file(path)
    assert (report.assignment, report.student, report.source) == ("losses", "alice", str(path))
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.score == report.max_score == 100
    assert grader.grade_file(path, student="bob").student == "bob"
    again = grader.grade_source(REFERENCE.read_text(), "losses", None)
    assert again.student == "anonymous" and again.score == 100
    assert again.sha256 == report.sha256


def test_per_student_variants():
    store = ExpectedStore()
    case = load_spec("losses").case("mse_matrix")
    alice = store.inputs(case, "alice", "losses")
    assert alice == store.inputs(case, "alice", "losses")
    assert alice != store.inputs(case, "bob", "losses")


def test_public_visibility_runs_only_visible_cases_on_public_inputs(tmp_path):
    path = copy_to(tmp_path, "alice", REFERENCE.read_text())
    with Grader(cases="visible") as grader:
        report = grader.grade_file(path)
    spec = load_spec("losses")
    assert [t.name for t in report.tests] == [c.name for c in spec.visible_cases]
    assert all(t.visibility == "visible" for t in report.tests)
    assert report.score == report.max_score == sum(c.points for c in spec.visible_cases)


def test_a_submission_that_does_not_import_is_graded_not_refused(grader, tmp_path):
    path = copy_to(tmp_path, "dave", "def mse(pred, target)\n    return 0\n")
    report = grader.grade_file(path)
    assert report.score == 0 and len(report.tests) == len(load_spec("losses").cases)
    assert all(t.message.startswith("could not import the submission: raised SyntaxError")
               for t in report.tests)
    broken = copy_to(tmp_path, "erin", "")
    broken.write_bytes(REFERENCE.read_bytes().replace(b"import numpy", b"\xff\xfeimport numpy", 1))
    report = grader.grade_file(broken)
    assert report.score == 0 and any("not valid UTF-8" in n for n in report.notes)


def test_warnings_and_stderr_never_cost_points(grader):
    source = REFERENCE.read_text() + '''
import sys, warnings
_right_mse = mse
def mse(pred, target):
    warnings.warn("this function is deprecated", DeprecationWarning)
    warnings.warn("overflow somewhere", RuntimeWarning)
    print("debugging output", file=sys.stderr)
    return _right_mse(pred, target)
'''
    report = grader.grade_source(source, "losses", "frank")
    assert report.score == 100, [t.message for t in report.tests if t.message]


def test_wrong_structure_is_a_failed_case_not_a_crash(grader):
    # the spec's run gets a dict back from the student's code where it expects numbers
    source = REFERENCE.read_text() + "\ndef mse(pred, target):\n    return {'loss': 1.0}\n"
    report = grader.grade_source(source, "losses", "gina")
    failed = {t.target for t in report.tests if t.status == "failed"}
    assert failed == {"mse"}
    assert all("mse" in t.target for t in report.tests if t.status == "failed")


def test_grade_path_on_a_folder(tmp_path):
    copy_to(tmp_path, "alice", REFERENCE.read_text())
    copy_to(tmp_path, "bob", (ROOT / "assignments" / "losses.py").read_text())
    copy_to(tmp_path, "bob", "not a submission", name="notes.txt")
    reports = grade_path(tmp_path, allow_weak_sandbox=True)
    assert [(r.student, r.score) for r in reports] == [("alice", 100), ("bob", 0)]
    with pytest.raises(UserError, match="--student"):
        grade_path(tmp_path, student="zed")
    with pytest.raises(UserError, match="no submissions"):
        grade_path(tmp_path, assignment="mlp")
    with pytest.raises(UserError, match="unknown assignment"):
        grade_path(tmp_path, assignment="nope")
    with pytest.raises(UserError, match="no such file"):
        grade_path(tmp_path / "missing.py")


def test_bad_files_are_user_errors(grader, tmp_path):
    with pytest.raises(UserError, match="no such file"):
        grader.grade_file(tmp_path / "losses.py")
    (tmp_path / "losses.txt").write_text("x")
    with pytest.raises(UserError, match=r"a submission is a \.py"):
        grader.grade_file(tmp_path / "losses.txt")
    with pytest.raises(UserError, match="is a folder"):
        grader.grade_file(tmp_path)
    with pytest.raises(UserError, match="unknown assignment"):
        grader.grade_file(REFERENCE, assignment="nope")


def test_gradescope_json_and_redaction(grader):
    report = grader.grade_source((ROOT / "assignments" / "losses.py").read_text(), "losses", "hal")
    data = gradescope.results(report)
    assert {"score", "max_score", "execution_time", "tests", "assignment", "student",
            "sha256"} <= set(data)
    assert {"name", "score", "max_score", "status", "output", "visibility", "target"} <= set(data["tests"][0])
    assert {t["visibility"] for t in data["tests"]} == {"visible", "hidden"}
    assert gradescope.to_json([report]).startswith("[")
    student_view = report.for_students()
    for original, shown in zip(report.tests, student_view.tests, strict=True):
        assert (shown.status, shown.points) == (original.status, original.points)
        if original.visibility == "hidden":
            assert shown.message == "hidden case"
        else:
            assert shown.message == original.message


# ------------------------------------------------------------------ GPU cases (toy spec)


@pytest.fixture(scope="module")
def toy_grader():
    store = ExpectedStore(reference_dir=DATA / "toy_reference")
    with Grader(spec_loader="toy_specs:load_spec", store=store) as g:
        yield g


TOY = (DATA / "toy_reference" / "toy.py").read_text()


@pytest.mark.skipif(cuda_available(), reason="CUDA is available here: GPU cases run")
def test_gpu_cases_are_skipped_without_cuda(toy_grader):
    report = toy_grader.grade_source(TOY, "toy_gpu", "ivy")
    gpu = [t for t in report.tests if t.name == "add_gpu"]
    assert gpu[0].status == "skipped" and gpu[0].message == "skipped (no CUDA)"
    assert report.max_score == 100 and report.score == 100  # left out of the maximum
    assert any("CUDA case(s) skipped" in n for n in report.notes)
    store = ExpectedStore(reference_dir=DATA / "toy_reference")
    with Grader(spec_loader="toy_specs:load_spec", store=store, require_cuda=True) as strict, \
            pytest.raises(UserError, match="need CUDA"):
        strict.grade_source(TOY, "toy_gpu", "ivy")


@pytest.mark.cuda
def test_gpu_cases_run_with_cuda(toy_grader):
    if not cuda_available():
        pytest.skip("no CUDA here")
    report = toy_grader.grade_source(TOY, "toy_gpu", "ivy")
    assert report.score == report.max_score == 120


def test_the_torch_zygote_grades_too(toy_grader):
    report = toy_grader.grade_source(TOY, "toy_torch", "jo")
    assert report.score == report.max_score == 100
    info = toy_grader.sandbox.zygote("torch").info
    assert info["harness"] == ["common", "mlp", "cuda_training"]
    assert info["specs_loaded"] == []  # children never inherit a spec


def test_timeout_scale(tmp_path):
    store = ExpectedStore(reference_dir=DATA / "toy_reference")
    slow = TOY + "\ndef total(x):\n    import time\n    time.sleep(30)\n"
    with Grader(spec_loader="toy_specs:load_spec", store=store, timeout_scale=0.1) as grader:
        report = grader.grade_source(slow, "toy", "kim")
    total = [t for t in report.tests if t.target == "total"]
    assert total[0].message == "timed out after 0.5 s"
    with pytest.raises(UserError, match="positive"):
        Grader(timeout_scale=0)


def test_public_grading_without_a_reference_uses_the_shipped_outputs(tmp_path):
    """What a student release does: no reference/, grader/specs/expected/<a>.json instead."""
    from grader.classroom.release import write_public_expected

    shipped = tmp_path / "expected"
    write_public_expected(shipped, assignments=["losses"])
    store = ExpectedStore(reference_dir=tmp_path / "no-reference", shipped_dir=shipped)
    with Grader(cases="visible", store=store) as grader:
        right = grader.grade_source(REFERENCE.read_text(), "losses", None)
        wrong = grader.grade_source(REFERENCE.read_text() + "\ndef mse(p, t):\n    return 0.0\n",
                                    "losses", None)
    assert right.score == right.max_score == 42
    assert {t.target for t in wrong.tests if t.status == "failed"} == {"mse"}
    with Grader(store=store) as grader, pytest.raises(UserError, match="reference/ is absent"):
        grader.grade_source(REFERENCE.read_text(), "losses", "someone")
    assert PUBLIC_STUDENT == "public"
