"""Batch grading throughput, and the speed-up of parallel jobs.

    .venv/bin/python benchmarks/batch_throughput.py                   # 200 losses + 50 mlp
    .venv/bin/python benchmarks/batch_throughput.py --losses 40 --mlp 4 --jobs 1 2 4
    .venv/bin/python benchmarks/batch_throughput.py --executor dask --cluster local:2 --jobs 2

Generates a class in a temporary folder: copies of the reference losses (every fourth
with one honest bug: a forgotten 1/N, an unstable softmax, a flipped sign, …) and of
the reference mlp (some counting frozen parameters), one folder per student. Each
assignment is then graded with every --jobs value into a fresh gradebook through
grader.classroom.batch.grade_class, the very function `dlgrade grade-batch` calls, timing the
whole call (the warm start of the grader, grading, one gradebook transaction per
submission) and the steady state (from the first graded submission to the last, which
leaves out the start-up that no number of jobs shortens). Prints submissions per minute
and the speed-up over the first run (--one-core's, else the first --jobs value's; the
target: >= 1.7x for jobs 2 over jobs 1 on 2 cores for losses), and checks that every run
gave every student the same scores. --repeat N keeps the fastest of N runs (other load on
the machine only slows). "cores busy" is the whole machine's busy CPU time over the run's wall time. One grading
already overlaps work (the reference's expected outputs are computed while the sandboxed
child runs; the gradebook write, the child's exit and its uid sweep while the next
submission starts), so with --jobs 1 it keeps more than one core busy, and on C cores no
number of jobs can beat it by more than C / (cores busy with --jobs 1): the "bound" line.
(The machine's busy time also counts other load and threads that spin while idle, which
contention removes: a run can beat the bound by that much, as mlp does by a few percent.)
--one-core adds a run of --jobs 1 pinned to one CPU (everything it starts inherits the
pinning): the speed-up over grading on a single core.
--executor dask (needs dlgrade[dask]) adds, after the local runs it is compared with, a
run on a Dask LocalCluster (--cluster local:N: N worker processes, one thread each, each
with its own warm sandbox) through the same grade_class, and checks it gave every student
the same scores; then it measures what Dask adds per task (empty tasks carrying a
submission-sized payload: one at a time, the latency; in a window as grade-batch keeps
them, the driver's cost per task) and what one gradebook write costs the driver: the
inputs of benchmarks/cluster_model.py, with the CPU seconds per submission. "own CPU
s/sub" is the CPU time of this process tree (itself and every descendant, with what each
has reaped: the sandbox's children, the LocalCluster's workers) from the start to the
last result, over n: the work of grading without the other load of a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from grader.catalog import ROOT  # noqa: E402
from grader.classroom.batch import Outcome, grade_class  # noqa: E402

# (old, new): one honest mistake each, applied to a copy of the reference
BUGS = {
    "losses": [
        ("    return float(np.sum((target - pred) ** 2) / pred.shape[0])",
         "    return float(np.sum((target - pred) ** 2))"),  # forgot 1/N
        ("    e = np.exp(logits - logits.max(axis=-1, keepdims=True))",
         "    e = np.exp(logits)"),  # unstable softmax
        ("    return np.sign(pred - target) / pred.shape[0]",
         "    return np.sign(target - pred) / pred.shape[0]"),  # wrong sign
        ("    dmean = (mean - target) / (var * n)",
         "    dmean = (target - mean) / (var * n)"),  # wrong sign
        ("    grad[np.arange(n), labels] -= 1.0\n    grad /= n\n",
         "    grad[np.arange(n), labels] -= 1.0\n"),  # forgot 1/N in the gradient
    ],
    "mlp": [
        ("    return sum(p.numel() for p in model.parameters() if p.requires_grad)",
         "    return sum(p.numel() for p in model.parameters())"),  # counts frozen parameters
        ("    finally:\n        model.train(was_training)\n",
         "    finally:\n        pass\n"),  # leaves the model in eval mode
    ],
}


def make_class(root: Path, assignment: str, n: int) -> None:
    reference = (ROOT / "reference" / f"{assignment}.py").read_text()
    bugs = BUGS[assignment]
    for i in range(n):
        text = reference
        if i % 4 == 3:
            old, new = bugs[(i // 4) % len(bugs)]
            assert old in text, f"the {assignment} reference changed: update BUGS"
            text = text.replace(old, new)
        folder = root / f"{assignment[:2]}{i:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{assignment}.py").write_text(text)


class Clock:
    """A progress callback that notes when each submission finished, and the CPU time of
    this process tree then (before the executor closes its sandboxes)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.cpu_at_start = tree_cpu_seconds()
        self.cpu_at_last = self.cpu_at_start

    def start(self, total: int, skipped: int) -> None: ...

    def advance(self, outcome: Outcome) -> None:
        self.times.append(time.perf_counter())
        self.cpu_at_last = tree_cpu_seconds()

    def finish(self) -> None: ...

    def steady_per_minute(self) -> float:
        span = self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0
        return 60 * (len(self.times) - 1) / span if span > 0 else float("nan")


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy so far (Linux /proc/stat; nan elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU time of this process and every live descendant, each with the children it has
    waited for (a zygote reaps each submission's child: their CPU is in its cutime): the
    work of grading alone, without the other load on a shared machine (Linux /proc)."""
    root = os.getpid() if root is None else root
    stats: dict[int, list[str]] = {}
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        stats[pid] = fields
        children.setdefault(int(fields[1]), []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:  # utime, stime, cutime, cstime
            total += sum(int(x) for x in stats[pid][11:15])
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def run_once(root: Path, tmp: Path, assignment: str, jobs: int, run: int, one_core: bool = False,
             client=None):
    clock = Clock()
    label = "dask" if client is not None else f"jobs{jobs}{'-one-core' if one_core else ''}"
    db = tmp / f"{assignment}-{label}-{run}.db"
    executor = None
    if client is not None:
        from grader.executors.dask_executor import DaskExecutor

        executor = DaskExecutor(client=client)
    everywhere = os.sched_getaffinity(0)
    if one_core:  # this thread; the zygote, the children and the worker threads inherit it
        os.sched_setaffinity(0, {min(everywhere)})
    try:
        busy = busy_cpu_seconds()
        clock.cpu_at_start = tree_cpu_seconds()
        started = time.perf_counter()
        # without bwrap the numbers are the weak mode's, and main() says so
        result = grade_class(root, db=db, assignments=[assignment], jobs=jobs, progress=clock,
                             executor=executor, allow_weak_sandbox=True)
        seconds = time.perf_counter() - started
        busy = (busy_cpu_seconds() - busy) / seconds
        own_cpu = clock.cpu_at_last - clock.cpu_at_start  # dask: the LocalCluster's too
    finally:
        os.sched_setaffinity(0, everywhere)
    return seconds, clock.steady_per_minute(), result, busy, own_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", type=int, default=200, help="losses submissions (default 200)")
    parser.add_argument("--mlp", type=int, default=50, help="mlp submissions (default 50)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="jobs values (default 1 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the fastest counts")
    parser.add_argument("--one-core", action="store_true",
                        help="first run --jobs 1 pinned to one CPU: the base of the speed-ups")
    parser.add_argument("--executor", nargs="+", choices=("local", "dask"), default=["local"],
                        help="local (the --jobs runs) and/or dask (one more run on --cluster, "
                             "after the local runs it is compared with)")
    parser.add_argument("--cluster", default="local:2", help="--executor dask: local:N workers")
    args = parser.parse_args()
    settings = [(1, True)] * args.one_core + [(jobs, False) for jobs in args.jobs]
    client = local_cluster = None
    if "dask" in args.executor:
        import logging

        from distributed import Client, LocalCluster

        from grader.executors.dask_executor import parse_cluster

        workers = parse_cluster(args.cluster)
        local_cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                     silence_logs=logging.ERROR)
        client = Client(local_cluster, set_as_default=False)
        settings.append((workers, "dask"))
    cores = len(os.sched_getaffinity(0))
    bounds: list[str] = []
    console = Console(width=max(Console().width, 110))  # the table unwrapped in a log
    console.print(f"{os.cpu_count()} CPU cores; Python {sys.version.split()[0]}; "
                  f"load average {os.getloadavg()[0]:.2f} before the start")
    from grader.sandbox import bwrap

    if not bwrap.status().working:
        console.print(f"[yellow]bwrap {bwrap.status().detail}: measured in the weak mode[/]")
    table = Table(title=f"batch grading throughput (fastest of {args.repeat}; seconds: the whole "
                        "grade_class call)")
    for col in ("assignment", "n", "jobs", "seconds", "per min", "speed-up", "steady per min",
                "steady speed-up", "cores busy", "own CPU s/sub"):
        table.add_column(col, justify="left" if col == "assignment" else "right")
    ok = True
    cpu_per_sub: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "class"
        plan = [(a, n) for a, n in (("losses", args.losses), ("mlp", args.mlp)) if n > 0]
        for assignment, n in plan:
            make_class(root, assignment, n)
        for assignment, n in plan:
            base: tuple[float, float] | None = None
            scores_seen = None
            for jobs, one_core in settings:
                on_dask = one_core == "dask"
                runs = [run_once(root, tmp, assignment, jobs, r, one_core is True,
                                 client if on_dask else None) for r in range(args.repeat)]
                fastest = min(runs, key=lambda r: r[0])
                seconds, busy, own_cpu = fastest[0], fastest[3], fastest[4]
                steady = max(r[1] for r in runs)
                for _, _, result, _, _ in runs:
                    if result.batch.errors:
                        console.print(f"[red]{len(result.batch.errors)} grader errors[/] ({assignment}, jobs {jobs})")
                        ok = False
                    scores = {r.student: r.score for r in result.records}
                    if len(scores) != n:
                        console.print(f"[red]{n - len(scores)} submissions not graded[/] ({assignment})")
                        ok = False
                    elif scores_seen is not None and scores != scores_seen:
                        ok = False
                        for r in result.records:
                            if r.score != scores_seen[r.student]:
                                lost = "; ".join(f"{t.name}: {t.message}" for t in r.report.tests
                                                 if t.status == "failed")
                                console.print(f"[red]{assignment} {r.student}: {scores_seen[r.student]:g} "
                                              f"before, {r.score:g} with jobs {jobs}[/] ({lost})",
                                              highlight=False)
                    scores_seen = scores_seen or scores
                base = base or (seconds, steady)
                cpu_per_sub.setdefault(assignment, {})["dask" if on_dask else "local"] = own_cpu / n
                if jobs == 1 and not one_core:
                    bounds.append(f"{assignment}: --jobs 1 keeps {busy:.2f} cores busy; if all of it is "
                                  f"grading work, more jobs on {cores} cores can beat it by at most "
                                  f"{cores / busy:.2f}x")
                label = (f"dask {args.cluster}" if on_dask else
                         f"{jobs} (one core)" if one_core else str(jobs))
                table.add_row(assignment, str(n), label, f"{seconds:.1f}", f"{60 * n / seconds:.0f}",
                              f"{base[0] / seconds:.2f}x", f"{steady:.0f}", f"{steady / base[1]:.2f}x",
                              f"{busy:.2f}", f"{own_cpu / n:.3f}")
                fully = sum(r.fully_correct for r in runs[0][2].records)
                console.print(f"{assignment} jobs {label}: {', '.join(f'{r[0]:.1f}' for r in runs)} s; "
                              f"{fully}/{n} fully correct")
        if client is not None:
            overhead = dask_overhead(client)
            write_ms = gradebook_write_ms(tmp)
            client.close()
            local_cluster.close()
    console.print(table)
    for line in bounds:
        console.print(f"bound — {line}")
    for assignment, cpu in cpu_per_sub.items():
        extra = (f"; dask {cpu['dask']:.3f} s, {1000 * (cpu['dask'] - cpu['local']):+.0f} ms CPU "
                 "per task (scheduler, workers, transfers)" if "dask" in cpu and "local" in cpu else "")
        console.print(f"CPU per submission — {assignment}: local {cpu.get('local', float('nan')):.3f} s"
                      f"{extra} (this process tree's own CPU, to the last result, over n)")
    if client is not None:
        console.print(f"dask per task — latency {overhead['latency_ms']:.1f} ms (median of one "
                      f"at a time, round trip); {overhead['pipelined_ms']:.2f} ms each with "
                      f"{overhead['window']} in flight as grade-batch keeps them, "
                      f"{overhead['saturated_ms']:.2f} ms with 64 (the driver and scheduler's "
                      f"cost at saturation; {overhead['n']} empty tasks of {overhead['bytes']} B); "
                      f"gradebook write {write_ms:.2f} ms per submission (median, one "
                      "transaction, synchronous=FULL)")
    return 0 if ok else 1


def _echo(payload: bytes) -> int:
    return len(payload)


def dask_overhead(client, n: int = 400, size: int = 6000) -> dict:
    """What Dask adds per task, measured with empty tasks carrying a submission's bytes."""
    import statistics as stats

    payload = os.urandom(size)
    client.submit(_echo, payload, pure=False).result()  # the function reaches every path once
    latencies = []
    for _ in range(40):
        t = time.perf_counter()
        fut = client.submit(_echo, payload, pure=False)
        fut.result()
        fut.release()
        latencies.append(time.perf_counter() - t)
    window = 2 * sum(client.nthreads().values())
    return {"latency_ms": 1000 * stats.median(latencies), "window": window, "n": n,
            "bytes": size, "pipelined_ms": 1000 * _windowed(client, payload, n, window) / n,
            "saturated_ms": 1000 * _windowed(client, payload, n, 64) / n}


def _windowed(client, payload: bytes, n: int, window: int) -> float:
    """Seconds to push n empty tasks through, `window` in flight, each released when done."""
    from distributed import as_completed

    started = time.perf_counter()
    sent = 0
    pending = as_completed(loop=client.loop)
    while sent < min(window, n):
        pending.add(client.submit(_echo, payload, pure=False))
        sent += 1
    for fut in pending:
        fut.result()
        fut.release()
        if sent < n:
            pending.add(client.submit(_echo, payload, pure=False))
            sent += 1
    return time.perf_counter() - started


def gradebook_write_ms(tmp: Path, n: int = 100) -> float:
    """The driver's cost of recording one mlp-sized submission (its own transaction)."""
    import statistics as stats
    from datetime import datetime, timezone

    from grader.classroom.gradebook import Gradebook
    from grader.classroom.late import assess
    from grader.course import NoLatePolicy
    from grader.grading.results import Report, TestResult

    tests = [TestResult(f"case_{i}", "target", 5.0, 5.0, "passed", "", 0.1, "hidden") for i in range(20)]
    when = datetime.now(timezone.utc)
    times = []
    with Gradebook(tmp / "writes.db") as gb:
        for i in range(n):
            report = Report("mlp", f"w{i:04d}", f"{i:064x}", "p", tests, 1.0)
            lateness = assess(report.score, when, None, NoLatePolicy())
            t = time.perf_counter()
            gb.record(report, student=f"w{i:04d}", assignment="mlp", path="p", submitted_at=when,
                      submitted_at_source="mtime", lateness=lateness)
            times.append(time.perf_counter() - t)
    return 1000 * stats.median(times)


if __name__ == "__main__":
    raise SystemExit(main())
