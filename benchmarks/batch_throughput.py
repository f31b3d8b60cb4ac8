"""Batch grading throughput, and the speed-up of parallel jobs.

    .venv/bin/python benchmarks/batch_throughput.py                   # 200 losses + 50 mlp
    .venv/bin/python benchmarks/batch_throughput.py --losses 40 --mlp 4 --jobs 1 2 4

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
    """A progress callback that notes when each submission finished."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def start(self, total: int, skipped: int) -> None: ...

    def advance(self, outcome: Outcome) -> None:
        self.times.append(time.perf_counter())

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


def run_once(root: Path, tmp: Path, assignment: str, jobs: int, run: int, one_core: bool = False):
    clock = Clock()
    db = tmp / f"{assignment}-jobs{jobs}{'-one-core' if one_core else ''}-{run}.db"
    everywhere = os.sched_getaffinity(0)
    if one_core:  # this thread; the zygote, the children and the worker threads inherit it
        os.sched_setaffinity(0, {min(everywhere)})
    try:
        busy = busy_cpu_seconds()
        started = time.perf_counter()
        # without bwrap the numbers are the weak mode's, and main() says so
        result = grade_class(root, db=db, assignments=[assignment], jobs=jobs, progress=clock,
                             allow_weak_sandbox=True)
        seconds = time.perf_counter() - started
        busy = (busy_cpu_seconds() - busy) / seconds
    finally:
        os.sched_setaffinity(0, everywhere)
    return seconds, clock.steady_per_minute(), result, busy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--losses", type=int, default=200, help="losses submissions (default 200)")
    parser.add_argument("--mlp", type=int, default=50, help="mlp submissions (default 50)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="jobs values (default 1 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the fastest counts")
    parser.add_argument("--one-core", action="store_true",
                        help="first run --jobs 1 pinned to one CPU: the base of the speed-ups")
    args = parser.parse_args()
    settings = [(1, True)] * args.one_core + [(jobs, False) for jobs in args.jobs]
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
                "steady speed-up", "cores busy"):
        table.add_column(col, justify="left" if col == "assignment" else "right")
    ok = True
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
                runs = [run_once(root, tmp, assignment, jobs, r, one_core) for r in range(args.repeat)]
                fastest = min(runs, key=lambda r: r[0])
                seconds, busy = fastest[0], fastest[3]
                steady = max(r[1] for r in runs)
                for _, _, result, _ in runs:
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
                if jobs == 1 and not one_core:
                    bounds.append(f"{assignment}: --jobs 1 keeps {busy:.2f} cores busy; if all of it is "
                                  f"grading work, more jobs on {cores} cores can beat it by at most "
                                  f"{cores / busy:.2f}x")
                label = f"{jobs} (one core)" if one_core else str(jobs)
                table.add_row(assignment, str(n), label, f"{seconds:.1f}", f"{60 * n / seconds:.0f}",
                              f"{base[0] / seconds:.2f}x", f"{steady:.0f}", f"{steady / base[1]:.2f}x",
                              f"{busy:.2f}")
                fully = sum(r.fully_correct for r in runs[0][2].records)
                console.print(f"{assignment} jobs {label}: {', '.join(f'{r[0]:.1f}' for r in runs)} s; "
                              f"{fully}/{n} fully correct")
    console.print(table)
    for line in bounds:
        console.print(f"bound — {line}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
