"""The student release: what it leaves out, what it adds, and `dlgrade check` inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.catalog import ASSIGNMENTS, ROOT
from grader.classroom.release import find_leaks, make_release, write_public_expected
from grader.errors import UserError
from grader.grading.expected import EXPECTED_DIR
from grader.sandbox.codec import from_jsonable
from grader.specs import load_spec


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "course"
    summary = make_release(out, allow_dirty=True)  # the committed kit, whatever is being edited
    assert summary.out == out.resolve()
    return out


def dlgrade(release: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, str(release / "cli.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_release_leaves_out_solutions_and_hidden_cases(release):
    assert not (release / "reference").exists()
    assert not (release / "grader" / "specs" / "hidden").exists()
    assert not (release / "tests").exists()  # hostile copies of the solutions live there
    assert not (release / ".git").exists() and not (release / ".venv").exists()
    assert not list(release.rglob("__pycache__"))
    assert find_leaks(release) == []
    for name in ("cli.py", "grader/grading/grader.py", "assignments/losses.py", "assignments/datasets.py"):
        assert (release / name).is_file()


def test_no_hidden_case_is_named_anywhere_in_the_release(release):
    hidden = {c.name for a in ASSIGNMENTS for c in load_spec(a.name).cases if not c.visible}
    assert hidden
    for path in release.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not [n for n in hidden if n in text], path


def test_the_release_ships_public_expected_outputs(release):
    for path in sorted((release / "grader" / "specs" / "expected").glob("*.json")):
        data = json.loads(path.read_text())
        assert data["student"] == "public"
        for name, entry in data["cases"].items():
            assert {"inputs", "expected", "inputs_sha256"} <= set(entry), name
    shipped = {p.stem for p in (release / "grader" / "specs" / "expected").glob("*.json")}
    assert {"losses", "backprop", "autodiff", "optimizers"} <= shipped


def test_check_works_inside_the_release(release, tmp_path):
    mine = tmp_path / "losses.py"
    mine.write_text((ROOT / "reference" / "losses.py").read_text())
    done = dlgrade(release, "check", "losses", "--file", str(mine), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert "public cases 42/42 — hidden cases (58 points) are graded when you submit" in said
    stub = dlgrade(release, "check", "losses", cwd=tmp_path)
    assert stub.returncode == 1
    assert "not implemented" in stub.stdout and "public cases 0/42" in stub.stdout
    # the instructor's grading needs the reference: one clear line, exit 2
    graded = dlgrade(release, "grade", str(mine), cwd=tmp_path)
    assert graded.returncode == 2
    assert "reference/ is absent" in graded.stderr and len(graded.stderr.strip().splitlines()) == 1


def test_a_leaking_release_is_refused(tmp_path):
    fake = tmp_path / "course"
    (fake / "assignments").mkdir(parents=True)
    (fake / "notes.py").write_text((ROOT / "reference" / "losses.py").read_text())
    assert find_leaks(fake) == ["notes.py"]


def test_release_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(UserError, match="not an empty folder"):
        make_release(tmp_path / "taken")
    with pytest.raises(UserError, match="contain the course tree"):
        make_release(ROOT.parent)


def test_shipped_expected_outputs_are_up_to_date(tmp_path):
    """grader/specs/expected/*.json still match the reference (else: dlgrade build-expected).

    Inputs must be identical: they come from seeded numpy generators, the same on every
    machine. Outputs are judged by each case's own check, as a student's answer would be:
    float32 training in torch is not bit-identical across CPUs, and need not be.
    """
    fresh = write_public_expected(tmp_path)
    assert fresh, "no assignment has a spec and a reference"
    for path in fresh:
        committed_path = EXPECTED_DIR / path.name
        assert committed_path.is_file(), f"{committed_path} is missing: run dlgrade build-expected"
        committed, now = json.loads(committed_path.read_text()), json.loads(path.read_text())
        assert committed["cases"].keys() == now["cases"].keys(), \
            f"{committed_path} lists other cases: run dlgrade build-expected"
        spec = load_spec(now["assignment"])
        for name, entry in now["cases"].items():
            old = committed["cases"][name]
            assert old["inputs"] == entry["inputs"], \
                f"{committed_path}: inputs of {name} changed: run dlgrade build-expected"
            verdict = spec.case(name).judge(from_jsonable(entry["expected"]),
                                            from_jsonable(old["expected"]))
            assert verdict.passed, (f"{committed_path}: the reference's {name} no longer passes "
                                    f"against the shipped output ({verdict.message}): "
                                    "run dlgrade build-expected")


def test_a_changed_expected_output_is_caught(tmp_path):
    """The check above can fail: a shipped output off by more than rounding is reported."""
    path = write_public_expected(tmp_path, assignments=["losses"])[0]
    data = json.loads(path.read_text())
    spec = load_spec("losses")
    expected = from_jsonable(data["cases"]["mse_matrix"]["expected"])
    off = {**expected, "out": expected["out"] * 1.001}
    assert spec.case("mse_matrix").judge(expected, expected).passed
    assert not spec.case("mse_matrix").judge(off, expected).passed
