"""The executor interface without a cluster: the local executor, the grading bundle, the
worker's refusals, the gradebook's migration to schema 4 (where graded, failures to grade),
and the one line a missing `dlgrade[dask]` extra gives."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class

from grader import __version__
from grader.catalog import ROOT
from grader.classroom.batch import discover, run_batch
from grader.classroom.gradebook import APPLICATION_ID, SCHEMA, SCHEMA_VERSION, Gradebook
from grader.errors import UserError
from grader.executors import LocalExecutor, make_executor
from grader.executors import worker as worker_side
from grader.executors.bundle import build_bundle, local_code_digest, materialise
from grader.ui.batch import worker_rates


def test_local_executor_yields_each_submission_once_with_where(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"ada": {"losses": "ok"}, "ben": {"losses": "CRASH"}})
    executor = LocalExecutor(FakeGrader, jobs=2)
    done = {d.submission.student: d for d in executor.grade(discover(root))}
    executor.close()
    assert set(done) == {"ada", "ben"}
    assert done["ada"].report is not None and done["ada"].where.startswith("local://")
    assert done["ben"].report is None and "sandbox could not start" in done["ben"].error


def test_a_failure_to_grade_is_recorded_not_graded_and_retried(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"ada": {"losses": "ok"}, "ben": {"losses": "CRASH"}})
    with Gradebook(tmp_path / "g.db") as gb:
        first = run_batch(discover(root), FakeGrader, gb, jobs=2)
        assert [o.submission.student for o in first.errors] == ["ben"]
        (failure,) = gb.failures()
        assert failure["student"] == "ben" and "sandbox could not start" in failure["error"]
        assert {r.student for r in gb.current()} == {"ada"}  # no grade, not even a 0
        assert gb.current()[0].worker.startswith("local://")
        (root / "ben" / "losses.py").write_text("ok")  # the machinery works again
        second = run_batch(discover(root), FakeGrader, gb, jobs=2)
        assert [o.submission.student for o in second.graded] == ["ben"]
        assert gb.failures() == []  # cleared by the grade of that content


def test_a_new_dlgrade_version_regrades(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"ada": {"losses": "ok"}})
    with Gradebook(tmp_path / "g.db") as gb:
        run_batch(discover(root), FakeGrader, gb)
        sha = discover(root)[0].sha256
        assert gb.is_graded("ada", "losses", sha, version=__version__)
        gb.conn.execute("UPDATE submissions SET dlgrade_version = '0.0.1'")
        assert gb.is_graded("ada", "losses", sha) and not gb.is_graded("ada", "losses", sha, __version__)
        again = run_batch(discover(root), FakeGrader, gb)
        assert len(again.graded) == 1 and gb.count_submissions() == 1


def test_a_schema_1_gradebook_is_migrated_keeping_its_grades(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO students VALUES ('ada', '2026-01-01T00:00:00Z')")
    conn.execute("INSERT INTO assignments VALUES ('losses', 100, NULL)")
    conn.execute("INSERT INTO submissions(student, assignment, sha256, path, submitted_at, "
                 "submitted_at_source, graded_at, late_days, penalty_percent, penalty, raw_score, "
                 "score, max_score, n_results, execution_time, notes, dlgrade_version) VALUES "
                 "('ada', 'losses', 'abc', 'p', NULL, 'mtime', 'now', 0, 0, 0, 90, 90, 100, 0, 1, "
                 "'[]', '0.1.0')")
    conn.close()
    with Gradebook(db, create=False) as gb:
        assert gb.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (record,) = gb.current()
        assert record.score == 90 and record.worker is None and gb.failures() == []
    with Gradebook(db, create=False) as gb:  # a second open finds nothing to do
        assert gb.count_submissions() == 1


def test_the_bundle_hash_names_its_content(tmp_path: Path) -> None:
    bundle = build_bundle()
    assert bundle.hash == build_bundle().hash  # the same tree, the same hash
    assert "reference/losses.py" in bundle.files and "grader/specs/expected/losses.json" in bundle.files
    assert any(name.startswith("grader/specs/hidden/") for name in bundle.files)
    assert bundle.code_hash == local_code_digest()
    changed = type(bundle)(version=bundle.version,
                           files=bundle.files | {"reference/losses.py": b"# changed\n"})
    assert changed.hash != bundle.hash and changed.code_hash == bundle.code_hash
    tree = materialise(changed, tmp_path / "scratch")
    assert (tree / "reference" / "losses.py").read_bytes() == b"# changed\n"
    for name, content in bundle.files.items():  # the bundle's specs and expected outputs
        if not name.startswith("reference/"):
            assert (tree / name).read_bytes() == content, name
    engine = Path("grader", "grading", "grader.py")
    assert (tree / engine).read_bytes() == (ROOT / engine).read_bytes()
    assert not list(tree.rglob("__pycache__"))
    assert (tree / "reference").stat().st_mode & 0o077 == 0  # for the worker's user only
    assert tree.stat().st_mode & 0o005 == 0o005  # the sandbox's uids import the code
    assert materialise(changed, tmp_path / "scratch") == tree


def test_a_worker_refuses_another_dlgrade_and_a_weak_sandbox(tmp_path: Path, monkeypatch) -> None:
    bundle = build_bundle()
    other = type(bundle)(version="0.0.1", files=bundle.files)
    state = worker_side.start("tcp://w1", other, ("numpy",), False, tmp_path)
    try:
        assert state.grader is None and "the driver 0.0.1" in state.refused
        with pytest.raises(worker_side.InfrastructureError, match="the driver 0.0.1"):
            worker_side.grade_here("tcp://w1", "ada/losses.py", "x", [], "0" * 64, "ada",
                                   "losses", other.hash)
    finally:
        worker_side.stop("tcp://w1")

    from grader.sandbox import bwrap

    monkeypatch.setattr(bwrap, "status", lambda: bwrap.BwrapStatus(None, False, "not installed"))
    state = worker_side.start("tcp://w2", bundle, ("numpy",), False, tmp_path)
    try:
        assert state.grader is None and "--allow-weak-sandbox" in state.refused
        assert worker_side.describe("tcp://w2")["refused"] == state.refused
    finally:
        worker_side.stop("tcp://w2")
    assert worker_side.describe("tcp://w2")["ready"] is False
    with pytest.raises(worker_side.InfrastructureError, match="no grading set up"):
        worker_side.grade_here("tcp://w2", "ada/losses.py", "", [], "", "ada", "losses", bundle.hash)


def test_executor_options_are_checked_in_one_line() -> None:
    with pytest.raises(UserError, match="need --executor dask"):
        make_executor("local", cluster="local:2")
    with pytest.raises(UserError, match="expected local or dask"):
        make_executor("ray")
    pytest.importorskip("distributed")
    for kwargs, words in (({}, "needs --scheduler"), ({"cluster": "local:0"}, "local:N"),
                          ({"cluster": "lan:2"}, "local:N"),
                          ({"scheduler": "host:8786"}, "tcp://HOST:8786"),
                          ({"scheduler": "tcp://a:1", "cluster": "local:1"}, "not both")):
        with pytest.raises(UserError, match=words):
            make_executor("dask", **kwargs)


def test_the_driver_refuses_a_batch_with_refusing_workers_and_warns_of_weak_ones() -> None:
    pytest.importorskip("distributed")
    from grader.executors.dask_executor import check_workers

    strong = {"ready": True, "bwrap": True, "refused": None}
    weak = {"ready": True, "bwrap": False, "bwrap_detail": "not installed", "refused": None}
    assert check_workers({"tcp://a:1": strong, "tcp://b:1": strong}) == []
    with pytest.raises(UserError, match=r"no working bwrap \(and 1 more worker"):
        check_workers({"tcp://a:1": strong, "tcp://b:1": strong | {"refused": "no working bwrap"},
                       "tcp://c:1": strong | {"refused": "no working bwrap"}})
    with pytest.raises(UserError, match="tcp://b:1 did not set up grading"):
        check_workers({"tcp://a:1": strong, "tcp://b:1": strong | {"ready": False}})
    (warning,) = check_workers({"tcp://a:1": strong, "tcp://b:1": weak})
    assert "1 of 2 worker(s) grade without bwrap (tcp://b:1: not installed)" in warning


def test_worker_rates_line() -> None:
    assert worker_rates({}, 0) == "waiting for the first result"
    assert worker_rates({"tcp://10.0.0.1:1": 30, "tcp://10.0.0.2:1": 15}, 60) == (
        "10.0.0.1:1 30/min · 10.0.0.2:1 15/min")
    many = worker_rates({f"tcp://h{i}:1": i + 1 for i in range(9)}, 60)
    assert many == "9 workers: median 5/min, slowest h0:1 1/min"


def test_missing_dask_extra_is_one_line(tmp_path: Path) -> None:
    """Without distributed installed (its import blocked here), one line and exit code 2."""
    (tmp_path / "c" / "ada").mkdir(parents=True)
    (tmp_path / "c" / "ada" / "losses.py").write_text("x = 1\n")
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from cli import app; sys.argv[0] = 'dlgrade'; app()")
    done = subprocess.run([sys.executable, "-c", code, "grade-batch", str(tmp_path / "c"), "--db",
                           str(tmp_path / "g.db"), "--executor", "dask", "--cluster", "local:2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "200"})
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), lines
    assert "pip install 'dlgrade[dask]'" in lines[0]
    assert not (tmp_path / "g.db").exists()  # refused before anything was touched


def test_a_worker_keeps_its_warm_sandbox_between_tasks(tmp_path: Path) -> None:
    """The zygote outlives the threads that warmed it and graded with it (a zygote dies with
    the thread that started it), and grading here equals grading with a local Grader."""
    import hashlib
    import threading

    bundle = build_bundle()
    state = worker_side.start("tcp://w3", bundle, ("numpy",), False, tmp_path)
    try:
        state.warming.result(timeout=120)
        zygote = state.grader.sandbox.zygote("numpy")
        # importing the course's own code (as mlp imports assignments.datasets) is allowed
        source = (ROOT / "reference" / "losses.py").read_text() + "\nimport assignments.datasets\n"
        answers = []

        def task() -> None:  # as a cluster runs it: on a thread of its own
            answers.append(worker_side.grade_here("tcp://w3", "ada/losses.py", source, [],
                                                  hashlib.sha256(source.encode()).hexdigest(),
                                                  "ada", "losses", bundle.hash))

        for _ in range(2):
            thread = threading.Thread(target=task)
            thread.start()
            thread.join()
        assert [a["report"]["score"] for a in answers] == [100.0, 100.0]
        assert answers[0]["report"]["source"] == "ada/losses.py"
        assert state.grader.sandbox.zygote("numpy") is zygote and not zygote.dead
    finally:
        worker_side.stop("tcp://w3")


# Run in a process of its own: a worker whose specs differ from the bundle's points its
# grader.specs package at the bundle's (as a Dask worker process does).
OTHER_SPECS = """
import hashlib, json, sys, tempfile, threading
from pathlib import Path
from grader.executors import worker
from grader.executors.bundle import build_bundle
bundle = build_bundle()
hidden = "grader/specs/hidden/losses.py"
extra = (b"\\nimport dataclasses\\nHIDDEN_CASES = (*HIDDEN_CASES, dataclasses.replace("
         b"HIDDEN_CASES[0], name='only_in_the_bundle'))\\n")
bundle = type(bundle)(version=bundle.version, files=bundle.files | {hidden: bundle.files[hidden] + extra})
state = worker.start("tcp://w4", bundle, ("numpy",), False, Path(sys.argv[1]))
source = Path("reference/losses.py").read_text()
out = {}
def task():
    out.update(worker.grade_here("tcp://w4", "ada/losses.py", source, [],
                                 hashlib.sha256(source.encode()).hexdigest(), "ada", "losses",
                                 bundle.hash))
thread = threading.Thread(target=task); thread.start(); thread.join()
zygote = state.grader.sandbox.zygote("numpy")
worker.stop("tcp://w4")
from grader.specs import load_spec
print(json.dumps({"tests": {t["name"]: t["status"] for t in out["report"]["tests"]},
                  "score": out["report"]["score"], "uid_drop": zygote.info.get("uid_drop"),
                  "after_stop": len(load_spec("losses").cases)}))
"""


def test_a_worker_grades_with_the_bundles_specs_not_its_own(tmp_path: Path) -> None:
    import json

    from grader.specs import load_spec

    done = subprocess.run([sys.executable, "-c", OTHER_SPECS, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    installed = len(load_spec("losses").cases)
    # the extra case exists only in the bundle: the trusted side asked for it, and the
    # sandbox's zygote found it in the bundle's tree and ran it on the reference
    assert result["tests"]["only_in_the_bundle"] == "passed"
    assert len(result["tests"]) == installed + 1 and all(v == "passed" for v in result["tests"].values())
    assert result["after_stop"] == installed  # the installed specs again once it stops
    if os.geteuid() == 0:  # the sandbox's own uids can still read the bundle's tree
        assert result["uid_drop"] is True


def test_folders_of_dead_workers_are_purged(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    for name, pid in (("dlgrade-worker-dead", dead), ("dlgrade-worker-live", str(os.getpid()))):
        (tmp_path / name / "reference").mkdir(parents=True)
        (tmp_path / name / "pid").write_text(pid)
    (tmp_path / "dlgrade-worker-starting").mkdir()  # no pid yet: left alone
    assert worker_side.purge_stale(tmp_path) == [tmp_path / "dlgrade-worker-dead"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dlgrade-worker-live",
                                                          "dlgrade-worker-starting"]
