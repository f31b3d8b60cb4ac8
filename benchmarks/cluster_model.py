"""How many Dask workers a class needs, and where the driver becomes the bottleneck.

    .venv/bin/python benchmarks/cluster_model.py          # this machine's figures (below)
    .venv/bin/python benchmarks/cluster_model.py --cpu-s 3.8 --students 20000 --deadline-min 60

Fed with what benchmarks/batch_throughput.py --executor dask measures on a real machine
(CPU seconds per submission, Dask's round-trip latency per task, the driver's cost per task
in the window grade-batch keeps, one gradebook write), it models a `grade-batch --executor
dask` run: W worker threads (one grading each, one per core), each taking the next task as
it finishes one (a task costs its CPU time, jittered, plus the round trip), and one driver
that handles the results one after another (Dask's per-task cost, then the gradebook's
transaction). Workers start after their warm start (--startup-s).

Two answers: the closed form (total work over the time left, and the W at which the
workers hand in results faster than the driver can write them), and an event simulation
of the same model (jitter, the driver's queue, the tail of the last tasks) that finds the
smallest W finishing within the deadline and shows the makespan flatten once the driver
saturates. What it leaves out: the network between machines (a submission is a few kB,
a result ~10 kB), workers lost mid-run (the Nanny restarts them: a task redone), and a
scheduler shared with other work.

The defaults are batch_throughput.py's figures on the 2-core machine this was written on,
shared with other work (noisy): mlp 6.4 s CPU per submission (8 graded, the warm start
included), Dask round trip 14.4 ms, 8.0 ms per task with 64 in flight (scheduler, driver
and both workers on the same two cores: an upper bound for a dedicated driver machine),
gradebook write 3.9 ms.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Inputs:
    students: int
    deadline_s: float
    cpu_s: float  # CPU seconds of one submission's grading (one core)
    latency_s: float  # Dask's round trip per task, on the worker's clock
    driver_s: float  # the driver's (client + scheduler) cost per task, in a window
    write_s: float  # one gradebook transaction
    startup_s: float  # a worker's warm start (sandbox, torch) before its first task
    jitter: float  # sigma of the lognormal factor on cpu_s (1.0 median)

    @property
    def per_task_s(self) -> float:
        return self.cpu_s + self.latency_s

    @property
    def per_result_s(self) -> float:
        return self.driver_s + self.write_s


def closed_form(x: Inputs) -> tuple[int, float]:
    """(workers needed, workers at which the driver saturates)."""
    time_left = x.deadline_s - x.startup_s
    if time_left <= 0:
        raise SystemExit("the deadline is shorter than a worker's warm start")
    workers = math.ceil(x.students * x.per_task_s / time_left)
    return workers, x.per_task_s / x.per_result_s


def simulate(x: Inputs, workers: int, seed: int = 0) -> tuple[float, float]:
    """(makespan in s, driver busy fraction) of one modelled run with `workers` threads."""
    rng = random.Random(seed)
    sigma = x.jitter
    mean_fix = math.exp(-sigma * sigma / 2)  # the factor's mean is 1: cpu_s stays the mean
    free = [x.startup_s] * workers  # when each worker thread is next free
    heapq.heapify(free)
    arrivals = []
    for _ in range(x.students):
        start = heapq.heappop(free)
        done = start + x.cpu_s * rng.lognormvariate(0.0, sigma) * mean_fix + x.latency_s
        arrivals.append(done)
        heapq.heappush(free, done)
    driver_free = 0.0
    busy = 0.0
    for t in sorted(arrivals):  # one driver: each result waits for the ones before it
        driver_free = max(driver_free, t) + x.per_result_s
        busy += x.per_result_s
    return driver_free, busy / driver_free


def smallest_workers(x: Inputs, start: int) -> int | None:
    """The smallest W whose simulated makespan meets the deadline (None: the driver cannot)."""
    if x.students * x.per_result_s > x.deadline_s:
        return None
    lo, hi = 1, max(1, start)
    while simulate(x, hi)[0] > x.deadline_s:
        lo, hi = hi, hi * 2
        if hi > 100 * max(1, start):
            return None
    while lo < hi:
        mid = (lo + hi) // 2
        if simulate(x, mid)[0] <= x.deadline_s:
            hi = mid
        else:
            lo = mid + 1
    return hi


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--deadline-min", type=float, default=30.0)
    parser.add_argument("--cpu-s", type=float, default=6.4,
                        help="CPU seconds per submission (batch_throughput: 'CPU per submission')")
    parser.add_argument("--latency-ms", type=float, default=14.4,
                        help="Dask round trip per task")
    parser.add_argument("--driver-ms", type=float, default=8.0,
                        help="Dask's cost per task at saturation (batch_throughput: 'with 64')")
    parser.add_argument("--write-ms", type=float, default=3.9, help="one gradebook write")
    parser.add_argument("--startup-s", type=float, default=20.0,
                        help="a worker's warm start (default 20 s: torch inside bwrap, busy)")
    parser.add_argument("--jitter", type=float, default=0.3,
                        help="lognormal sigma of the per-submission CPU time (default 0.3)")
    args = parser.parse_args()
    x = Inputs(students=args.students, deadline_s=60 * args.deadline_min, cpu_s=args.cpu_s,
               latency_s=args.latency_ms / 1000, driver_s=args.driver_ms / 1000,
               write_s=args.write_ms / 1000, startup_s=args.startup_s, jitter=args.jitter)
    workers, saturates = closed_form(x)
    print(f"{x.students} submissions, {x.cpu_s:g} s CPU each + {1000 * x.latency_s:.0f} ms round "
          f"trip; driver {1000 * x.per_result_s:.1f} ms per result; deadline "
          f"{args.deadline_min:g} min after a {x.startup_s:g} s warm start")
    print(f"closed form: {workers} worker threads (cores) needed; the driver saturates at "
          f"{saturates:.0f} threads ({1 / x.per_result_s:.0f} results/s, "
          f"{x.students * x.per_result_s / 60:.1f} min for the class at best)")
    found = smallest_workers(x, workers)
    if found is None:
        print("simulated: no number of workers meets the deadline: the driver alone needs "
              f"{x.students * x.per_result_s / 60:.1f} min")
    else:
        makespan, busy = simulate(x, found)
        print(f"simulated: {found} worker threads finish in {makespan / 60:.1f} min "
              f"(driver busy {100 * busy:.0f} %)")
    print(f"{'threads':>8} {'makespan min':>13} {'driver busy':>12} {'per min':>9}")
    grid = sorted({max(1, round(found or workers) // 2), found or workers, 2 * (found or workers),
                   round(saturates / 2), round(saturates), 2 * round(saturates), 4 * round(saturates)})
    for w in (g for g in grid if g >= 1):
        makespan, busy = simulate(x, w)
        print(f"{w:>8} {makespan / 60:>13.1f} {100 * busy:>11.0f}% {60 * x.students / makespan:>9.0f}")
    spread = [simulate(x, found or workers, seed)[0] / 60 for seed in range(5)]
    print(f"makespan over 5 seeds at {found or workers} threads: median {statistics.median(spread):.1f}"
          f" min (min {min(spread):.1f}, max {max(spread):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
