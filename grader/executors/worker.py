"""The worker side of a cluster executor: a warm Grader per worker, and the task it runs.

Plain Python with no Dask import, so it can be tested and reused by any cluster engine:
grader.executors.dask_executor's WorkerPlugin calls `start` once per worker and `stop` on
its teardown; every task is one `grade_task` call. A task carries the submission's bytes
and the bundle's hash only, and returns plain data (Report.to_dict), never a pickle of
anything student code touched. What the student's code does (wrong answers, timeouts,
crashes) is in the report; a deterministic failure of the grader on this submission (the
reference failing, an unreadable file) comes back as an `error`; only a failure of this
worker's machinery raises (InfrastructureError, SandboxError, OSError), so the cluster
retries it elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import socket
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import __version__
from grader.errors import UserError
from grader.executors.base import InfrastructureError
from grader.executors.bundle import EXPECTED, REFERENCE, Bundle, local_code_digest, materialise

SUFFIXES = (".py", ".ipynb")


@dataclass
class WorkerGrading:
    """One worker's grading state: its bundle, its warm Grader, or why it must not grade."""

    address: str
    bundle_hash: str
    scratch: Path
    bwrap: bool
    bwrap_detail: str
    allow_weak: bool
    refused: str | None = None
    grader: Any = None  # grader.grading.Grader
    # The zygotes are started from this one thread, alive as long as the grading: a zygote
    # dies with the thread that started it (PR_SET_PDEATHSIG is per thread), and a task
    # thread or a one-off warming thread may end before the worker does.
    keeper: ThreadPoolExecutor | None = None
    warming: Future[None] | None = None
    graded: int = 0
    busy_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


_WORKERS: dict[str, WorkerGrading] = {}
_LOCK = threading.Lock()


def start(address: str, bundle: Bundle, frameworks: tuple[str, ...], allow_weak: bool,
          scratch: Path) -> WorkerGrading:
    """Install the bundle and start the warm sandbox (in the background: the worker stays
    responsive to its scheduler while torch imports)."""
    from grader.sandbox import bwrap

    stop(address)
    state = bwrap.status()
    work = Path(tempfile.mkdtemp(prefix="dlgrade-worker-", dir=_scratch_root(scratch)))
    grading = WorkerGrading(address=address, bundle_hash=bundle.hash, scratch=work,
                            bwrap=state.working, bwrap_detail=state.detail, allow_weak=allow_weak)
    if local_code_digest() != bundle.code_hash:
        grading.refused = (f"worker {address} on {socket.gethostname()} has other grading specs "
                           f"than the driver (or dlgrade {__version__}, not {bundle.version}): "
                           "install the same dlgrade and course tree on every worker")
    elif not state.working and not allow_weak:
        grading.refused = (f"worker {address} on {socket.gethostname()} has no working bwrap "
                           f"({state.detail}): student code there would run without the "
                           "file-system and network walls; fix it (dlgrade doctor --scheduler) "
                           "or pass --allow-weak-sandbox")
    if grading.refused is None:
        from grader.expected import ExpectedStore
        from grader.grading import Grader

        data = materialise(bundle, work)
        store = ExpectedStore(reference_dir=data / REFERENCE, shipped_dir=data / EXPECTED)
        grading.grader = Grader(visibility="all", protect=[data, work], _store=store,
                                use_bwrap=None if allow_weak else True)
        grading.keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlgrade-sandbox")
        grading.warming = grading.keeper.submit(_warm, grading, frameworks)
    with _LOCK:
        _WORKERS[address] = grading
    return grading


def _scratch_root(scratch: Path) -> Path:
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def _warm(grading: WorkerGrading, frameworks: tuple[str, ...]) -> None:
    for framework in frameworks:
        grading.grader.sandbox.zygote(framework)  # started, or restarted when it died


def stop(address: str) -> None:
    """Close the warm sandbox (its zygotes and children) and remove the private scratch."""
    with _LOCK:
        grading = _WORKERS.pop(address, None)
    if grading is None:
        return
    if grading.grader is not None:
        grading.grader.close()
    if grading.keeper is not None:
        grading.keeper.shutdown(wait=False, cancel_futures=True)
    shutil.rmtree(grading.scratch, ignore_errors=True)


def current(address: str) -> WorkerGrading:
    with _LOCK:
        grading = _WORKERS.get(address)
    if grading is None:
        raise InfrastructureError(f"worker {address} has no grading set up (its plugin did not run)")
    return grading


def describe(address: str) -> dict[str, Any]:
    """What the driver checks before it sends work: plain data."""
    with _LOCK:
        grading = _WORKERS.get(address)
    return {"address": address, "host": socket.gethostname(), "dlgrade": __version__,
            "ready": grading is not None, "bundle": grading.bundle_hash if grading else None,
            "bwrap": bool(grading and grading.bwrap),
            "bwrap_detail": grading.bwrap_detail if grading else "",
            "refused": grading.refused if grading else None}


def grade_task(submission_id: str, source: bytes, sha256: str, student: str, assignment: str,
               bundle_hash: str) -> dict[str, Any]:
    """Grade one submission on this worker; plain data back."""
    from distributed import get_worker

    address = get_worker().address
    return grade_here(address, submission_id, source, sha256, student, assignment, bundle_hash)


def grade_here(address: str, submission_id: str, source: bytes, sha256: str, student: str,
               assignment: str, bundle_hash: str) -> dict[str, Any]:
    from grader.batch import DELAY_ENV
    from grader.expected import GradingError

    grading = current(address)
    if grading.bundle_hash != bundle_hash:
        raise InfrastructureError(f"worker {address} holds bundle {grading.bundle_hash[:12]}, "
                                  f"the task wants {bundle_hash[:12]}")
    if grading.refused is not None:
        raise InfrastructureError(grading.refused)
    if hashlib.sha256(source).hexdigest() != sha256:
        raise InfrastructureError(f"{submission_id}: the source arrived damaged (sha256 differs)")
    name = submission_id.rpartition("/")[2]
    if Path(name).suffix not in SUFFIXES or Path(name).stem != assignment:
        raise InfrastructureError(f"{submission_id}: not a submission file name for {assignment}")
    from grader.catalog import get_assignment

    assert grading.keeper is not None
    # the sandbox warm (or warmed again after a crash) by the keeper thread; its failure to
    # start raises here: this worker's machinery, retried elsewhere
    grading.keeper.submit(_warm, grading, (get_assignment(assignment).framework,)).result()
    delay = float(os.environ.get(DELAY_ENV, "0") or 0)
    if delay > 0:  # test hook: lets a test kill a worker in the middle of its work
        time.sleep(delay)
    started = time.perf_counter()
    # the file under a folder of its own, named as handed in: a notebook is read as one,
    # and the folder is hidden from every other submission's child
    folder = Path(tempfile.mkdtemp(prefix="sub-", dir=grading.scratch)) / student
    folder.mkdir()
    path = folder / name
    path.write_bytes(source)
    try:
        report = grading.grader.grade_file(path, assignment, student)
    except (UserError, GradingError) as exc:  # the same on any worker: no point retrying
        return {"error": f"{type(exc).__name__}: {exc}", "worker": address}
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    report.source = submission_id
    seconds = time.perf_counter() - started
    with grading.lock:
        grading.graded += 1
        grading.busy_seconds += seconds
    return {"report": report.to_dict(), "worker": address, "seconds": seconds}


def doctor(address: str) -> dict[str, Any]:
    """This worker's versions and sandbox layers, probed by a child as `dlgrade doctor` does."""
    from grader.doctor import Diagnosis, _layers, _versions, sandbox_layers
    from grader.sandbox import bwrap
    from grader.sandbox.pool import Sandbox, SandboxConfig, SandboxError

    state = bwrap.status()
    diagnosis = Diagnosis(versions=[("host", socket.gethostname()), ("dlgrade", __version__),
                                    ("platform", platform.platform()), *_versions()])
    diagnosis.versions.append(("bwrap", f"{state.path}: {'working' if state.working else ''} "
                                        f"{state.detail}" if state.path else state.detail))
    sandbox = Sandbox(SandboxConfig(use_bwrap=None))
    try:
        diagnosis.layers = sandbox_layers(sandbox)
    except SandboxError as exc:
        diagnosis.problems.append(str(exc))
        diagnosis.layers = _layers({}, sandbox.bwrap_active, f"off: bwrap {state.detail}")
    finally:
        sandbox.close()
    return {"address": address, "versions": diagnosis.versions,
            "layers": [(layer.name, layer.active, layer.detail) for layer in diagnosis.layers],
            "problems": diagnosis.problems}
