"""`grade-batch --executor dask` on a real LocalCluster (2 worker processes, 1 thread each,
on 127.0.0.1), started and closed here: the same grades as the local executor, a worker
SIGKILLed mid-batch loses nothing, a driver SIGKILLed mid-batch resumes on rerun, a worker
that dies under a submission too often is a failure to grade (never a grade), and
`doctor --scheduler` shows each worker's layers.

One cluster serves the module (a worker's warm sandbox costs seconds); the tests that
slow the workers down wrap the Grader on the workers and unwrap it after.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from batch_helpers import graded_count, wait_until  # noqa: E402
from slow_batch import slow_down_graders  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from cli import app  # noqa: E402
from grader.catalog import ROOT  # noqa: E402
from grader.classroom.batch import discover, grade_class, run_batch  # noqa: E402
from grader.classroom.gradebook import Gradebook  # noqa: E402
from grader.executors import worker as worker_side  # noqa: E402
from grader.executors.dask_executor import DaskExecutor  # noqa: E402

REFERENCE = (ROOT / "reference" / "losses.py").read_text()
BUGS = (("    return float(np.sum((target - pred) ** 2) / pred.shape[0])",
         "    return float(np.sum((target - pred) ** 2))"),  # forgot 1/N
        ("    e = np.exp(logits - logits.max(axis=-1, keepdims=True))",
         "    e = np.exp(logits)"))  # unstable softmax


def losses_class(root: Path, n: int) -> Path:
    """n students: the reference, every third with one of two honest bugs, one that crashes."""
    for i in range(n):
        text = REFERENCE if i % 3 else REFERENCE.replace(*BUGS[(i // 3) % 2])
        if i == 1:
            text = "import os\nos._exit(3)\n"  # a crash is the student's result, not an error
        (root / f"s{i:02d}").mkdir(parents=True)
        (root / f"s{i:02d}" / "losses.py").write_text(text)
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.Client]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.ERROR) as local, \
            distributed.Client(local, set_as_default=False) as client:
        yield client
    # the folders of the workers these tests SIGKILLed (a live worker purges them too)
    worker_side.purge_stale(Path(tempfile.gettempdir()))


@contextlib.contextmanager
def slow_workers(client: distributed.Client, seconds: float) -> Iterator[None]:
    """Each task on the workers running now waits `seconds` first, so a test can kill
    something in the middle (a worker restarted meanwhile does not wait)."""
    # the workers import tests/slow_batch.py themselves: they start with this sys.path
    client.run(slow_down_graders, seconds)
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            client.run(slow_down_graders, 0)


def grades(db: Path) -> dict[str, tuple]:
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == []
        return {r.student: (r.score, [(t.name, t.status, t.points, t.message) for t in r.report.tests])
                for r in gb.current()}


def test_dask_grades_equal_the_local_executors(cluster, tmp_path: Path) -> None:
    import nbformat

    root = losses_class(tmp_path / "class", 6)
    (root / "nb").mkdir()  # a notebook: read (and converted) once, on the driver
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(REFERENCE)])
    (root / "nb" / "losses.ipynb").write_text(nbformat.writes(notebook))
    (root / "zz").mkdir()
    (root / "zz" / "losses.py").write_text("#" * 3_000_000)  # too large: refused at discovery
    local = grade_class(root, db=tmp_path / "local.db", jobs=2)
    dask = grade_class(root, db=tmp_path / "dask.db", executor=DaskExecutor(client=cluster))
    for run in (local, dask):
        assert run.batch.errors == [] and len(run.batch.graded) == 7
        assert "zz" not in {s.student for s in run.batch.submissions}
    assert grades(tmp_path / "dask.db") == grades(tmp_path / "local.db")
    scores = {r.student: r.score for r in dask.records}
    assert scores["s01"] == 0 and scores["s02"] == 100 and 0 < scores["s00"] < 100
    assert scores["nb"] == 100
    workers = set(cluster.scheduler_info()["workers"])
    with Gradebook(tmp_path / "dask.db", create=False) as gb:
        where = {r.worker for r in gb.current()}
    assert where <= workers and where, where  # each row says which worker graded it
    # a rerun finds everything graded: nothing is sent to the cluster
    again = grade_class(root, db=tmp_path / "dask.db", executor=DaskExecutor(client=cluster))
    assert len(again.batch.skipped) == 7 and again.batch.graded == []


def test_a_submission_that_could_not_be_read_is_not_sent(cluster, tmp_path: Path) -> None:
    """A hand-in that discovery could not read (a data folder's, over the size cap) comes
    back at once as a failure to grade with its reason; the others are graded."""
    root = losses_class(tmp_path / "class", 2)
    found = discover(root)
    unread = dataclasses.replace(found[0], file=None, problem="UserError: 3.0 MB: too large")
    with Gradebook(tmp_path / "g.db") as gb:
        batch = run_batch([unread, found[1]], lambda: None, gb,
                          executor=DaskExecutor(client=cluster))
        assert [(o.submission.student, o.error) for o in batch.errors] == [
            ("s00", "UserError: 3.0 MB: too large")]
        assert [f["student"] for f in gb.failures()] == ["s00"]
        assert [r.student for r in gb.current()] == ["s01"]


def test_doctor_lists_each_workers_layers(cluster) -> None:
    result = CliRunner().invoke(app, ["doctor", "--scheduler", cluster.scheduler.address])
    assert result.exit_code == 0, result.output
    for address in cluster.scheduler_info()["workers"]:
        assert f"worker {address}" in result.output
    assert result.output.count("bwrap: no network") == 2
    assert "audit hook" in result.output


def test_driver_sigkilled_mid_batch_resumes_on_rerun(cluster, tmp_path: Path) -> None:
    root, db = losses_class(tmp_path / "class", 12), tmp_path / "g.db"
    args = [sys.executable, "-m", "cli", "grade-batch", str(root), "--db", str(db),
            "--executor", "dask", "--scheduler", cluster.scheduler.address]
    env = os.environ | {"PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    with slow_workers(cluster, 0.4):
        driver = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            wait_until(lambda: graded_count(db) >= 3 or driver.poll() is not None)
            os.kill(driver.pid, signal.SIGKILL)
            driver.communicate(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == -signal.SIGKILL
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == []  # only whole submissions
        kept = gb.count_submissions()
    assert 3 <= kept < 12
    rerun = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"graded {12 - kept}, skipped {kept}" in rerun.stdout
    assert "per worker:" in rerun.stdout
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == [] and gb.count_submissions() == 12


def test_worker_sigkilled_mid_batch_loses_nothing(cluster, tmp_path: Path) -> None:
    root, db = losses_class(tmp_path / "class", 10), tmp_path / "g.db"
    pids = cluster.run(os.getpid)
    result: dict[str, object] = {}

    def batch() -> None:
        result["class"] = grade_class(root, db=db, executor=DaskExecutor(client=cluster))

    with slow_workers(cluster, 0.4):
        thread = threading.Thread(target=batch)
        thread.start()
        wait_until(lambda: graded_count(db) >= 2)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)  # it holds a task: the scheduler gives it to another
        thread.join(timeout=120)
    assert not thread.is_alive()
    done = result["class"]
    assert done.batch.errors == [], [o.error for o in done.batch.errors]
    assert len(done.batch.graded) == 10
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == [] and gb.count_submissions() == 10 and gb.failures() == []
    scores = {r.student: r.score for r in done.records}
    assert scores["s01"] == 0 and scores["s04"] == 100
    cluster.wait_for_workers(2, timeout=60)  # the Nanny restarted the killed worker


def test_a_worker_dying_under_a_submission_is_a_failure_to_grade_not_a_grade(tmp_path: Path) -> None:
    """With no deaths allowed, the submission in flight on a killed worker comes back as
    KilledWorker: recorded as an infrastructure failure, no score, graded on the next run."""
    import dask

    root, db = losses_class(tmp_path / "class", 3), tmp_path / "g.db"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                     silence_logs=logging.CRITICAL) as local, \
            distributed.Client(local, set_as_default=False) as client:
        pid = next(iter(client.run(os.getpid).values()))
        with Gradebook(db) as gb, slow_workers(client, 1.0):
            finished = []

            class Watch:
                def start(self, total: int, skipped: int) -> None: ...
                def advance(self, outcome) -> None: finished.append(outcome)
                def finish(self) -> None: ...

            killer = threading.Timer(1.5, os.kill, (pid, signal.SIGKILL))  # mid-task, setup done
            killer.start()
            first = run_batch(discover(root), lambda: None, gb, progress=Watch(),
                              executor=DaskExecutor(client=client))
            killer.join()
            failed = first.errors
            assert failed and all("KilledWorker" in o.error for o in failed)
            assert len(first.graded) == 3
            failures = gb.failures()
            assert {(f["student"], f["sha256"]) for f in failures} == {
                (o.submission.student, o.submission.sha256) for o in failed}
            assert gb.count_submissions() == 3 - len(failed)  # no row, no score for them
        client.wait_for_workers(1, timeout=60)
        with Gradebook(db) as gb:
            rerun = run_batch(discover(root), lambda: None, gb, executor=DaskExecutor(client=client))
            assert rerun.errors == [] and len(rerun.graded) == len(failed)
            assert gb.count_submissions() == 3 and gb.failures() == []
