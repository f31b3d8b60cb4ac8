"""`--executor dask`: grade on a Dask distributed cluster; this process stays the only
gradebook writer.

Imported only when chosen: Dask is the optional extra `dlgrade[dask]`. The driver
registers a WorkerPlugin (GradingPlugin) that gives each worker the grading bundle once
and starts its warm sandbox; refuses to use workers whose sandbox is weak (no bwrap)
unless told to; then keeps a window of tasks in flight, each carrying one submission's
source as discovery read it, and hands back each result as it arrives, releasing its future at once (a result
held only by a worker that dies would otherwise be recomputed). Faults: a task whose
worker's machinery fails is retried (`retries=2`); a submission whose worker died under
it too often (KilledWorker) comes back as a failure to grade, never as a grade, and is
graded again on the next run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.catalog import get_assignment
from grader.errors import UserError
from grader.grading.results import Report

try:
    from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin
    from distributed import as_completed as dask_as_completed
except ImportError:  # pragma: no cover - the message is the point
    raise UserError("--executor dask needs Dask distributed: pip install 'dlgrade[dask]'") from None

from grader.executors import worker as worker_side
from grader.executors.base import Done
from grader.executors.bundle import Bundle, build_bundle

if TYPE_CHECKING:
    from grader.classroom.batch import Submission

PLUGIN_NAME = "dlgrade-grading"
RETRIES = 2  # for infrastructure errors raised on a worker
CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler
WORKER_WAIT = 60.0  # seconds to wait for a first worker
IN_FLIGHT_PER_THREAD = 2  # tasks queued per worker thread: enough to keep it busy, little to lose
_CLUSTER = re.compile(r"local:(\d+)")


class GradingPlugin(WorkerPlugin):
    """Per worker, once: install the bundle, start the warm sandbox; close it on teardown."""

    def __init__(self, bundle: Bundle, frameworks: tuple[str, ...], allow_weak: bool) -> None:
        self.bundle = bundle
        self.frameworks = frameworks
        self.allow_weak = allow_weak

    def setup(self, worker: Any) -> None:
        worker_side.start(worker.address, self.bundle, self.frameworks, self.allow_weak,
                          Path(worker.local_directory))

    def teardown(self, worker: Any) -> None:
        worker_side.stop(worker.address)


def _describe(dask_worker: Any) -> dict[str, Any]:
    return worker_side.describe(dask_worker.address)


def _doctor(dask_worker: Any) -> dict[str, Any]:
    return worker_side.doctor(dask_worker.address)


def parse_cluster(spec: str) -> int:
    """`local:N` -> N (workers of a LocalCluster on this machine)."""
    match = _CLUSTER.fullmatch(spec.strip())
    if match is None or int(match.group(1)) < 1:
        raise UserError(f"--cluster {spec!r}: expected local:N with N >= 1 workers, e.g. local:2")
    return int(match.group(1))


def check_target(scheduler: str | None, cluster: str | None) -> None:
    """One clear line for a malformed --scheduler/--cluster, before anything starts."""
    if scheduler and cluster:
        raise UserError("give --scheduler or --cluster, not both")
    if not scheduler and not cluster:
        raise UserError("--executor dask needs --scheduler tcp://HOST:8786 or --cluster local:N")
    if cluster:
        parse_cluster(cluster)
    elif "://" not in str(scheduler):
        raise UserError(f"--scheduler {scheduler!r}: expected an address like tcp://HOST:8786")


def connect(scheduler: str | None, cluster: str | None) -> tuple[Client, LocalCluster | None]:
    """A client on the scheduler at `scheduler`, or on a LocalCluster started for `cluster`."""
    check_target(scheduler, cluster)
    if cluster:
        local = LocalCluster(n_workers=parse_cluster(cluster), threads_per_worker=1,
                             processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                             silence_logs=logging.ERROR)
        return Client(local, set_as_default=False), local
    assert scheduler is not None
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    return client, None


def check_workers(states: dict[str, dict[str, Any]]) -> list[str]:
    """Refuse the batch when any worker refused to grade (weak sandbox, other dlgrade);
    otherwise the warnings to show (workers grading without bwrap, as allowed)."""
    refused = [s["refused"] for s in states.values() if s.get("refused")]
    if refused:
        more = f" (and {len(refused) - 1} more worker(s))" if len(refused) > 1 else ""
        raise UserError(refused[0] + more)
    not_ready = [a for a, s in states.items() if not s.get("ready")]
    if not_ready:
        raise UserError(f"worker(s) {', '.join(sorted(not_ready))} did not set up grading")
    weak = sorted(a for a, s in states.items() if not s.get("bwrap"))
    if not weak:
        return []
    detail = states[weak[0]].get("bwrap_detail") or "not working"
    return [f"--allow-weak-sandbox: {len(weak)} of {len(states)} worker(s) grade without bwrap "
            f"({', '.join(weak[:4])}{', …' if len(weak) > 4 else ''}: {detail}); student code "
            "there runs without the file-system and network walls"]


class DaskExecutor:
    name = "dask"

    def __init__(self, *, scheduler: str | None = None, cluster: str | None = None,
                 allow_weak: bool = False, client: Client | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.allow_weak = allow_weak
        self.warn = warn or (lambda message: logging.getLogger("dlgrade").warning(message))
        self._local: LocalCluster | None = None
        self._target = (scheduler, cluster)
        self._client = client
        self._own_client = client is None
        if client is None:
            check_target(scheduler, cluster)
        self._plugin = False
        self.workers: dict[str, dict[str, Any]] = {}

    @property
    def client(self) -> Client:
        """Connected (a LocalCluster started) on first use: not at all when nothing is to grade."""
        if self._client is None:
            self._client, self._local = connect(*self._target)
        return self._client

    # ------------------------------------------------------------ setting up the workers

    def prepare(self, frameworks: tuple[str, ...]) -> Bundle:
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise UserError(f"no Dask workers joined the scheduler within {WORKER_WAIT:.0f} s "
                            "(start some: dask worker tcp://SCHEDULER:8786)") from None
        bundle = build_bundle()
        try:
            self.client.register_plugin(GradingPlugin(bundle, frameworks, self.allow_weak),
                                        name=PLUGIN_NAME)
        except Exception as exc:
            raise UserError(f"setting up grading on the Dask workers failed: "
                            f"{type(exc).__name__}: {exc}") from None
        self._plugin = True
        self.workers = self.client.run(_describe)
        for warning in check_workers(self.workers):
            self.warn(warning)
        return bundle

    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    # ------------------------------------------------------------ grading

    def grade(self, todo: Sequence[Submission]) -> Iterator[Done]:
        if not todo:
            return
        frameworks = tuple(sorted({get_assignment(s.assignment).framework for s in todo
                                   if s.file is not None}))
        bundle = self.prepare(frameworks)
        queue = list(reversed(todo))
        running: dict[Any, Submission] = {}
        pending = dask_as_completed(loop=self.client.loop)  # not the default client's
        window = IN_FLIGHT_PER_THREAD * self.threads()

        def refill() -> Iterator[Done]:
            while queue and len(running) < window:
                sub = queue.pop()
                if sub.file is None:  # not readable as a submission (e.g. too large): unsent
                    yield Done(sub, error=sub.problem or f"cannot read {sub.path}")
                    continue
                fut = self._submit(sub, bundle.hash)
                running[fut] = sub
                pending.add(fut)

        try:
            yield from refill()
            for count, fut in enumerate(pending, start=1):
                sub = running.pop(fut)
                yield self._collect(sub, fut)
                fut.release()  # once its row is written, a lost worker must not recompute it
                if count % 32 == 0:
                    window = IN_FLIGHT_PER_THREAD * self.threads()  # workers come and go
                yield from refill()
        finally:
            if running:  # interrupted: what is still queued or running is not wanted any more
                self.client.cancel(list(running), force=True)
                running.clear()

    def _submit(self, sub: Submission, bundle_hash: str) -> Any:
        # the source as discovery read it once: what is graded is what was hashed
        file = sub.file
        assert file is not None
        submission_id = f"{sub.student}/{sub.path.name}"
        key = f"dlgrade-{sub.assignment}-{sub.student}-{file.sha256[:16]}-{bundle_hash[:8]}"
        return self.client.submit(worker_side.grade_task, submission_id, file.source,
                                  list(file.notes), file.sha256, sub.student, sub.assignment,
                                  bundle_hash, key=key, retries=RETRIES, pure=False)

    @staticmethod
    def _collect(sub: Submission, fut: Any) -> Done:
        try:
            payload = fut.result()
        except KilledWorker as exc:
            last = getattr(getattr(exc, "last_worker", None), "address", None)
            return Done(sub, where=last, error=(
                "infrastructure failure: the workers grading it died "
                f"(KilledWorker{f', last on {last}' if last else ''}); not a grade: rerun to grade it"))
        except Exception as exc:  # retried RETRIES times already: the machinery, not the student
            return Done(sub, error=f"infrastructure failure: {type(exc).__name__}: {exc}")
        where = payload.get("worker")
        if "error" in payload:
            return Done(sub, error=str(payload["error"]), where=where)
        report = Report.from_dict(payload["report"])
        report.source = str(sub.path)  # as the local executor records it
        return Done(sub, report=report, where=where)

    # ------------------------------------------------------------ closing

    def close(self) -> None:
        if self._client is None:
            return
        try:
            if self._plugin and self._local is None:
                # an external cluster outlives this batch: close the warm sandboxes now
                self.client.unregister_worker_plugin(PLUGIN_NAME)
        except Exception:  # noqa: BLE001  the scheduler may be gone already
            pass
        finally:
            self._plugin = False
            if self._own_client:
                self._client.close()
                self._client = None
            if self._local is not None:
                self._local.close()
                self._local = None


def cluster_doctor(scheduler: str) -> list[dict[str, Any]]:
    """Each worker's versions and sandbox layers, probed on the worker itself."""
    client, _ = connect(scheduler, None)
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError:
            raise UserError(f"no Dask workers at {scheduler}") from None
        return [report for _, report in sorted(client.run(_doctor).items())]
    finally:
        client.close()
