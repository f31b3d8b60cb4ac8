"""One test per threat of DESIGN.md's threat model, each a hostile `losses` submission
(and one `mlp` submission: forged numbers in a training case).

A submission is the reference solution plus ONE hostile part from tests/data/hostile/
(usually a hostile `mse`), so every other target must still pass, the hostile target
must fail with a clear reason, and the grader must be unharmed: the same Grader grades
the next submission correctly, its numpy is untouched, and nothing was written where
the submission had no business writing.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from proc_helpers import descendants

from grader.catalog import ROOT
from grader.grading.grader import IMPORT_TIMEOUT, Grader
from grader.grading.results import Report
from grader.sandbox.limits import Limits

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
REFERENCE = ROOT / "reference" / "losses.py"
SCALE = 1.0  # the grader's own timeouts: 2 s per losses case, 5 s to import
CASE_TIMEOUT = 2.0 * SCALE
ORIGINAL_ALLCLOSE = np.allclose


def hostile_submission(folder: Path, threat: str, student: str = "mallory",
                       assignment: str = "losses", **fill: str) -> Path:
    reference = ROOT / "reference" / f"{assignment}.py"
    text = reference.read_text() + f"\n\n# ---- hostile part: {threat}\n" + (HOSTILE / f"{threat}.py").read_text()
    for placeholder, value in fill.items():
        text = text.replace(f"__{placeholder}__", value)
    path = folder / student / f"{assignment}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def only_target_fails(report: Report, target: str, *phrases: str) -> list[str]:
    """Every case of `target` failed with one of `phrases`; every other case passed."""
    messages = []
    for t in report.tests:
        if t.target == target:
            assert t.status == "failed", (t.name, t.message)
            assert any(p in t.message for p in phrases), (t.name, t.message)
            messages.append(t.message)
        else:
            assert t.status == "passed", (t.name, t.message)
    assert messages, f"no case targets {target}"
    return messages


@pytest.fixture(scope="module", params=[None, False], ids=["bwrap-if-working", "no-bwrap"])
def setting(request, tmp_path_factory):
    """A Grader (bwrap where it works, then without it: the other layers alone), a gradebook."""
    gradebook = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    gradebook.write_text("the real grades")
    grader = Grader(timeout_scale=SCALE, use_bwrap=request.param, protect=[gradebook.parent])
    yield grader, gradebook
    grader.close()


@pytest.fixture
def grader(setting) -> Grader:
    return setting[0]


def grade(grader: Grader, path: Path) -> Report:
    return grader.grade_file(path, "losses")


# ------------------------------------------------------------------ time and processes


@pytest.mark.parametrize("threat", ["loop", "sleep"])
def test_infinite_loop_and_sleep_cost_one_timeout_not_one_per_case(grader, tmp_path, threat):
    start = time.monotonic()
    report = grade(grader, hostile_submission(tmp_path, threat))
    elapsed = time.monotonic() - start
    messages = only_target_fails(report, "mse", "timed out after 2 s", "not run: mse timed out")
    assert messages[0] == "timed out after 2 s"
    assert elapsed < 2 * CASE_TIMEOUT + 3, f"graded in {elapsed:.1f} s"


def test_memory_bomb(setting, tmp_path):
    # a smaller budget than the default 2 GB and the real 5 s timeout: touching fresh pages
    # is slow on a small VM, and this test is about the limit, not about timeouts
    with Grader(use_bwrap=setting[0].sandbox.config.use_bwrap,
                limits=Limits(memory_mb=256)) as grader:
        report = grade(grader, hostile_submission(tmp_path, "memory_bomb"))
    only_target_fails(report, "mse", "ran out of memory")


def test_fork_bomb_is_contained_and_cleaned_up(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "fork_bomb"))
    only_target_fails(report, "mse", "Resource temporarily unavailable",
                      "creating processes is not allowed")
    zygote = grader.sandbox.zygote("numpy")
    # left: bwrap's two processes, the zygote and its reaper; the submission's children were
    # sent SIGKILL before grade_file returned, and die as soon as they are scheduled
    deadline = time.monotonic() + 10
    while len(left := descendants(zygote.proc.pid)) > 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(left) <= 3, f"{len(left)} processes left behind"


# ------------------------------------------------------------------ exits and crashes


@pytest.mark.parametrize(("threat", "phrase"), [
    ("sys_exit", "called sys.exit(3)"),
    ("os_exit", "exited with code 3"),
    ("keyboard_interrupt", "raised KeyboardInterrupt"),
    ("base_exception", "raised BaseException: escaping every except Exception"),
    ("segfault", "crashed with SIGSEGV"),
])
def test_exits_and_crashes_fail_only_their_target(grader, tmp_path, threat, phrase):
    report = grade(grader, hostile_submission(tmp_path, threat))
    only_target_fails(report, "mse", phrase, f"not run: mse {phrase}")


# ------------------------------------------------------------------ fooling the grader


def test_fake_score_on_stdout_changes_nothing(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "fake_score"))
    only_target_fails(report, "mse", "differ")
    mse_points = sum(t.max_points for t in report.tests if t.target == "mse")
    assert report.score == report.max_score - mse_points


def test_monkeypatched_numpy_comparisons(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "monkeypatch_numpy"))
    only_target_fails(report, "mse", "differ")
    assert np.allclose is ORIGINAL_ALLCLOSE and not np.allclose(0.0, 1.0)


@pytest.mark.slow
def test_monkeypatched_numpy_cannot_forge_a_training_verdict(grader, tmp_path):
    # the training cases judge the returned weights here, on points the child never saw
    report = grader.grade_file(hostile_submission(tmp_path, "monkeypatch_training", assignment="mlp"),
                               "mlp")
    failed = {t.name: t.message for t in report.tests if t.status == "failed"}
    for name in ("fit_function_sin", "fit_function_other"):
        assert "mean squared error on [-π, π] is" in failed.pop(name)
    for name in ("train_classifier_spirals", "train_classifier_digits"):
        assert "held-out accuracy of the trained model is" in failed.pop(name)
    failed.pop("train_classifier_history_seed", None)  # its forged history: judged as it is
    assert not failed, failed
    assert np.mean([1.0, 3.0]) == 2.0


@pytest.mark.parametrize(("threat", "target"), [("lying_array", "mse_grad"), ("lying_object", "mse")])
def test_lying_objects_only_send_their_data(grader, tmp_path, threat, target):
    report = grade(grader, hostile_submission(tmp_path, threat))
    only_target_fails(report, target, "differ", "expected shape", "it must return a float")


def test_nan(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "nan"))
    only_target_fails(report, "mse", "non-finite")


def test_huge_answer_is_refused(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "huge_output"))
    only_target_fails(report, "mse_grad", "output too large")


def test_huge_printout_costs_nothing(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "huge_print"))
    assert report.score == report.max_score == 100, [t.message for t in report.tests if t.message]


# ------------------------------------------------------------------ files and network


def test_reading_the_reference(grader, tmp_path):
    report = grade(grader, hostile_submission(tmp_path, "read_reference"))
    only_target_fails(report, "mse", "not allowed", "No such file")


def test_reading_another_students_submission(grader, tmp_path):
    other = tmp_path / "bob" / "losses.py"
    other.parent.mkdir()
    other.write_text(REFERENCE.read_text())
    report = grade(grader, hostile_submission(tmp_path, "other_students", OTHER=str(other)))
    only_target_fails(report, "mse", "not allowed", "No such file")


def test_network(grader, tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        report = grade(grader, hostile_submission(tmp_path, "network", PORT=str(port)))
        only_target_fails(report, "mse", "network access is not allowed", "Network is unreachable",
                          "Connection refused")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody ever connected


def test_writing_outside_its_folder(setting, tmp_path):
    grader, gradebook = setting
    repo_marker = ROOT / f"hostile-marker-{uuid.uuid4().hex}.txt"
    tmp_marker = Path("/tmp") / f"dlgrade-hostile-{uuid.uuid4().hex}"
    try:
        report = grade(grader, hostile_submission(
            tmp_path, "write_outside", REPO_MARKER=str(repo_marker), GRADEBOOK=str(gradebook),
            TMP_MARKER=str(tmp_marker)))
        only_target_fails(report, "mse", "not allowed", "Read-only file system")
        assert not repo_marker.exists()
        assert not tmp_marker.exists()
        assert gradebook.read_text() == "the real grades"
        assert os.listdir(gradebook.parent) == ["gradebook.db"]
    finally:
        repo_marker.unlink(missing_ok=True)
        tmp_marker.unlink(missing_ok=True)


@pytest.mark.parametrize(("threat", "phrases"), [
    ("disk_fill", ("more than 16 files", "No space left on device")),  # the hook, or the tmpfs cap
    ("big_file", ("File too large",))])
def test_filling_the_disk(grader, tmp_path, threat, phrases):
    report = grade(grader, hostile_submission(tmp_path, threat))
    only_target_fails(report, "mse", *phrases)


# ------------------------------------------------------------------ import time


@pytest.mark.parametrize(("threat", "phrase"), [
    ("import_loop", "importing the submission timed out after 5 s"),
    ("import_exit", "could not import the submission: called sys.exit(2)"),
    ("import_os_exit", "the submission died while being imported: exited with code 5"),
])
def test_import_time_threats_fail_every_case_once(grader, tmp_path, threat, phrase):
    start = time.monotonic()
    report = grade(grader, hostile_submission(tmp_path, threat))
    assert time.monotonic() - start < IMPORT_TIMEOUT * SCALE + 3
    assert report.score == 0
    assert all(t.status == "failed" and t.message == phrase for t in report.tests), report.tests[0]


# ------------------------------------------------------------------ and afterwards


def test_the_grader_is_unharmed(grader, tmp_path):
    """After every threat above, on the same warm sandbox: a correct submission gets 100."""
    path = tmp_path / "carol" / "losses.py"
    path.parent.mkdir()
    path.write_text(REFERENCE.read_text())
    report = grader.grade_file(path)
    assert report.student == "carol"
    assert report.score == report.max_score == 100
    assert np.allclose is ORIGINAL_ALLCLOSE
    assert "losses" not in __import__("sys").modules
