"""Where `grade-batch` runs the grading: this machine's threads, or a Dask cluster.

Every executor takes the submissions the driver decided to grade and yields a `Done` for
each as it finishes; the driver (grader.classroom.batch.run_batch) alone writes the
gradebook. `local` is the thread pool on this machine; `dask`
(grader.executors.dask_executor, imported only when chosen, from the optional extra
`dlgrade[dask]`) sends each submission's source to a worker of a Dask cluster that keeps
a warm sandbox of its own.
"""

from collections.abc import Callable

from grader.errors import UserError
from grader.executors.base import Done, Executor, GradesFiles, InfrastructureError
from grader.executors.local import LocalExecutor

__all__ = ["Done", "Executor", "GradesFiles", "InfrastructureError", "LocalExecutor",
           "make_executor"]


def make_executor(name: str, *, scheduler: str | None = None, cluster: str | None = None,
                  allow_weak: bool = False, warn: Callable[[str], None] | None = None,
                  ) -> Executor | None:
    """The executor `grade-batch --executor NAME` asks for; None for local (run_batch's default)."""
    if name == "local":
        if scheduler or cluster:
            raise UserError("--scheduler and --cluster need --executor dask")
        return None
    if name == "dask":
        try:
            from grader.executors.dask_executor import DaskExecutor
        except ImportError as exc:  # distributed or one of its dependencies is missing
            raise UserError(f"--executor dask needs Dask distributed ({exc.name or exc} is "
                            "missing): pip install 'dlgrade[dask]'") from None
        return DaskExecutor(scheduler=scheduler, cluster=cluster, allow_weak=allow_weak,
                            warn=warn)
    raise UserError(f"--executor {name!r}: expected local or dask")
