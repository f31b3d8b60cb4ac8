"""The worker side of a cluster executor: a warm Grader per worker, and the task it runs.

Plain Python with no Dask import, so it can be tested and reused by any cluster engine:
grader.executors.dask_executor's WorkerPlugin calls `start` once per worker and `stop` on
its teardown; every task is one `grade_task` call. A task carries the submission's source
(as the driver read it once, with its sha256) and the bundle's hash only, and returns
plain data (Report.to_dict), never a pickle of anything student code touched. What the
student's code does (wrong answers, timeouts, crashes) is in the report; a deterministic
failure of the grader on this submission (the reference failing) comes back as an
`error`; only a failure of this worker's machinery raises (InfrastructureError,
SandboxError, OSError), so the cluster retries it elsewhere.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grader.specs as specs_package
from grader import __version__
from grader.catalog import REFERENCE_DIR, get_assignment
from grader.errors import UserError
from grader.executors.base import InfrastructureError
from grader.executors.bundle import (
    EXPECTED,
    REFERENCE,
    SPECS,
    Bundle,
    local_code_digest,
    materialise,
)
from grader.grading.expected import ExpectedStore, GradingError
from grader.grading.grader import Grader
from grader.grading.submission import SUFFIXES, SourceFile
from grader.sandbox import bwrap
from grader.tools.doctor import Diagnosis, _versions, probe_sandbox


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
    grader: Grader | None = None
    # The zygotes are started from this one thread, alive as long as the grading: a zygote
    # dies with the thread that started it (PR_SET_PDEATHSIG is per thread), and a task
    # thread or a one-off warming thread may end before the worker does.
    keeper: ThreadPoolExecutor | None = None
    warming: Future[None] | None = None
    graded: int = 0
    busy_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    own_specs: bool = True  # False: this process imports the bundle's specs (see _use_specs)


_WORKERS: dict[str, WorkerGrading] = {}
_LOCK = threading.Lock()
_INSTALLED_SPECS: list[str] = []  # grader.specs.__path__ as installed


def start(address: str, bundle: Bundle, frameworks: tuple[str, ...], allow_weak: bool,
          scratch: Path) -> WorkerGrading:
    """Install the bundle and start the warm sandbox (in the background: the worker stays
    responsive to its scheduler while torch imports)."""
    stop(address)
    state = bwrap.status()
    root = _scratch_root(scratch)
    purge_stale(root)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=root))
    os.chmod(work, 0o711)  # the sandbox's own uids import the course tree below it
    (work / "pid").write_text(str(os.getpid()))
    grading = WorkerGrading(address=address, bundle_hash=bundle.hash, scratch=work,
                            bwrap=state.working, bwrap_detail=state.detail, allow_weak=allow_weak)
    if bundle.version != __version__:
        grading.refused = (f"worker {address} on {socket.gethostname()} runs dlgrade "
                           f"{__version__}, the driver {bundle.version}: install the same "
                           "dlgrade on every worker")
    elif not state.working and not allow_weak:
        grading.refused = (f"worker {address} on {socket.gethostname()} has no working bwrap "
                           f"({state.detail}): student code there would run without the "
                           "file-system and network walls; fix it (dlgrade doctor --scheduler) "
                           "or pass --allow-weak-sandbox")
    if grading.refused is None:
        tree = materialise(bundle, work)
        if local_code_digest() != bundle.code_hash:  # the driver's specs differ from ours
            _use_specs(tree / SPECS)
            grading.own_specs = False
        store = ExpectedStore(reference_dir=tree / REFERENCE, shipped_dir=tree / EXPECTED)
        # hidden from student code: this machine's reference/ (the bundle's, under the tree,
        # is hidden as the sandbox's own); not the tree: its code (grader/, assignments/) is
        # what submissions import. A submission's source travels in the task and is never
        # written here, so no folder of other students' work lies on a worker.
        grading.grader = Grader(cases="all", protect=[REFERENCE_DIR], store=store,
                                use_bwrap=None if allow_weak else True)
        # the sandbox runs from the bundle's tree (its zygotes import the bundle's specs);
        # this machine's own reference/ stays hidden beside the bundle's
        config = grading.grader.sandbox.config
        config.root = tree
        config.hide = (*config.hide, REFERENCE_DIR)
        grading.keeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlgrade-sandbox")
        grading.warming = grading.keeper.submit(_warm, grading, frameworks)
    with _LOCK:
        _WORKERS[address] = grading
    return grading


WORK_PREFIX = "dlgrade-worker-"
SUBMISSIONS = "submissions"  # under a worker's folder: where a task's file is said to be


def purge_stale(root: Path) -> list[Path]:
    """Remove the folders of workers that died without their teardown (SIGKILL, a crash):
    they hold a copy of the reference solutions."""
    removed = []
    for folder in root.glob(WORK_PREFIX + "*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / "pid").read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except (OSError, ValueError):  # being set up by a live worker, or not ours to judge
            continue
    return removed


def _scratch_root(scratch: Path) -> Path:
    """The worker's scratch when the sandbox's own uids can reach into it (every folder on
    the way o+x); else the system's temporary folder. Out of their reach, the uid drop
    would be turned off for the whole worker."""
    scratch.mkdir(parents=True, exist_ok=True)
    current = scratch.resolve()
    while True:
        if not current.stat().st_mode & 0o001:
            return Path(tempfile.gettempdir())
        if current.parent == current:
            return scratch
        current = current.parent


def _warm(grading: WorkerGrading, frameworks: tuple[str, ...]) -> None:
    assert grading.grader is not None
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
    if not grading.own_specs:
        _use_specs(None)
    shutil.rmtree(grading.scratch, ignore_errors=True)


def _use_specs(folder: Path | None) -> None:
    """Make this process import grader.specs.* from `folder` (None: the installed ones again).

    The trusted side must judge with the same specs as the sandbox that runs them: a
    worker process grades for one driver at a time, so its spec package is pointed at the
    bundle's for as long as that bundle is set up.
    """
    if not _INSTALLED_SPECS:
        _INSTALLED_SPECS.extend(specs_package.__path__)
    specs_package.__path__[:] = [str(folder)] if folder is not None else list(_INSTALLED_SPECS)
    for name in [m for m in sys.modules if m.startswith("grader.specs.")]:
        del sys.modules[name]  # imported from the other folder: load again on next use
    importlib.invalidate_caches()


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


def grade_task(submission_id: str, source: str, notes: list[str], sha256: str, student: str,
               assignment: str, bundle_hash: str) -> dict[str, Any]:
    """Grade one submission on this worker; plain data back."""
    # here, not at the top: this module is plain Python, and only a Dask worker runs this
    from distributed import get_worker

    address = get_worker().address
    return grade_here(address, submission_id, source, notes, sha256, student, assignment,
                      bundle_hash)


def grade_here(address: str, submission_id: str, source: str, notes: list[str], sha256: str,
               student: str, assignment: str, bundle_hash: str) -> dict[str, Any]:
    """Grade one submission's `source` (with the `notes` and `sha256` of reading it on the
    driver) with this worker's warm Grader."""
    grading = current(address)
    if grading.bundle_hash != bundle_hash:
        raise InfrastructureError(f"worker {address} holds bundle {grading.bundle_hash[:12]}, "
                                  f"the task wants {bundle_hash[:12]}")
    if grading.refused is not None or grading.grader is None or grading.keeper is None:
        raise InfrastructureError(grading.refused or f"worker {address} cannot grade")
    name = submission_id.rpartition("/")[2]
    if Path(name).suffix not in SUFFIXES or Path(name).stem != assignment:
        raise InfrastructureError(f"{submission_id}: not a submission file name for {assignment}")
    # the sandbox warm (or warmed again after a crash) by the keeper thread; its failure to
    # start raises here: this worker's machinery, retried elsewhere
    grading.keeper.submit(_warm, grading, (get_assignment(assignment).framework,)).result()
    started = time.perf_counter()
    # named as handed in (messages name the student's file), under this worker's folder
    file = SourceFile(grading.scratch / SUBMISSIONS / student / name, source, tuple(notes), sha256)
    try:
        report = grading.grader.grade(file, assignment, student)
    except (UserError, GradingError) as exc:  # the same on any worker: no point retrying
        return {"error": f"{type(exc).__name__}: {exc}", "worker": address}
    report.source = submission_id
    seconds = time.perf_counter() - started
    with grading.lock:
        grading.graded += 1
        grading.busy_seconds += seconds
    return {"report": report.to_dict(), "worker": address, "seconds": seconds}


def doctor(address: str) -> dict[str, Any]:
    """This worker's versions and sandbox layers, probed by a child as `dlgrade doctor` does."""
    diagnosis = Diagnosis(versions=[("host", socket.gethostname()), ("dlgrade", __version__),
                                    ("platform", platform.platform()), *_versions()])
    probe_sandbox(diagnosis, warn_weak_mode=False)
    return {"address": address, "versions": diagnosis.versions,
            "layers": [(layer.name, layer.active, layer.detail) for layer in diagnosis.layers],
            "problems": diagnosis.problems}
