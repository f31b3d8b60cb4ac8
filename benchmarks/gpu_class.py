"""A hostile class on a GPU: can a neighbour's GPU memory or kernels cost a student a point?

    .venv/bin/python benchmarks/gpu_class.py                 # hog + spinner + 4 correct, --jobs 4
    .venv/bin/python benchmarks/gpu_class.py --correct 6 --hold 25 --jobs 4

Builds a class folder in a temporary directory: `hog` (the reference cuda_training, whose
first train call takes every free byte of GPU memory, sleeps --hold seconds and keeps the
memory as long as its process lives), `spinner` (whose first train call loops GPU kernels
for --hold seconds), and --correct copies of
reference/cuda_training.py. Grades it with grader.classroom.batch.grade_class (what `dlgrade
grade-batch --jobs N` does) and prints each student's score, the CUDA cases' results and the
message of every failed case. With the GPU lease (grader.sandbox.gpu_lease) every correct
copy scores full marks whatever its neighbours do; the hog and the spinner lose only what
their own code costs them.

--no-lease is a control run without the lease, to see what it prevents. Without CUDA
there is nothing to measure: it says so and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "cuda_training.py"

HOG = '''

_reference_train = train


_HOG = []


def train(*args, **kwargs):
    """On its first call fills the free GPU memory and sleeps; keeps the memory for the rest
    of its process's life; trains as the reference does."""
    import time as _time

    import torch as _torch

    if _torch.cuda.is_available() and not _HOG:
        for chunk in (1 << 30, 1 << 26, 1 << 22):  # every free byte: 1 GiB, 64 MiB, 4 MiB pieces
            while True:
                try:
                    _HOG.append(_torch.empty(chunk, dtype=_torch.uint8, device="cuda"))
                except _torch.OutOfMemoryError:
                    break
        _time.sleep({hold})
    return _reference_train(*args, **kwargs)
'''

SPINNER = '''

_reference_train = train


_SPUN = []


def train(*args, **kwargs):
    """On its first call loops GPU kernels for a while; trains as the reference does."""
    import time as _time

    import torch as _torch

    if _torch.cuda.is_available() and not _SPUN:
        _SPUN.append(True)
        x = _torch.randn(4096, 4096, device="cuda")
        end = _time.monotonic() + {hold}
        while _time.monotonic() < end:
            x = _torch.tanh(x @ x)
            _torch.cuda.synchronize()
    return _reference_train(*args, **kwargs)
'''


def make_class(root: Path, correct: int, hold: float) -> list[str]:
    source = REFERENCE.read_text(encoding="utf-8")
    students = {"hog": source + HOG.format(hold=hold), "spinner": source + SPINNER.format(hold=hold)}
    students |= {f"correct{i}": source for i in range(1, correct + 1)}
    for name, text in students.items():
        (root / name).mkdir(parents=True)
        (root / name / "cuda_training.py").write_text(text, encoding="utf-8")
    return list(students)


class Collect:
    """A grade_class progress that keeps every outcome."""

    def __init__(self) -> None:
        self.outcomes = []

    def start(self, total: int, skipped: int) -> None: ...

    def advance(self, outcome) -> None:
        self.outcomes.append(outcome)

    def finish(self) -> None: ...


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correct", type=int, default=4)
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the hog/spinner hold the GPU")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--allow-weak-sandbox", action="store_true",
                        help="grade without bwrap (where it does not work), as grade-batch allows")
    parser.add_argument("--no-lease", action="store_true",
                        help="a control run: children share the GPU (what the lease prevents)")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("CUDA is not available here: nothing to measure (run this on a machine with a GPU)")
        return 0
    from grader.classroom.batch import grade_class
    from grader.sandbox import gpu_lease
    from grader.sandbox.gpu_lease import visible_devices

    if args.no_lease:  # this process's Graders hold no lease: the children share the GPU
        gpu_lease.maybe_hold = lambda needed, leases: contextlib.nullcontext()
        print("control run: NO GPU lease")

    print(f"{torch.cuda.get_device_name(0)}; visible devices {visible_devices()}; "
          f"jobs {args.jobs}; hog/spinner hold {args.hold:g} s")
    with tempfile.TemporaryDirectory(prefix="dlgrade-gpu-class-") as tmp:
        root = Path(tmp) / "class"
        students = make_class(root, args.correct, args.hold)
        progress = Collect()
        started = time.perf_counter()
        grade_class(root, db=Path(tmp) / "gradebook.db", assignments=["cuda_training"],
                    jobs=args.jobs, progress=progress, allow_weak_sandbox=args.allow_weak_sandbox)
        seconds = time.perf_counter() - started
    by_student = {o.submission.student: o for o in progress.outcomes}
    unfair = 0
    for name in students:
        outcome = by_student.get(name)
        if outcome is None or outcome.report is None:
            print(f"{name:10s} not graded: {getattr(outcome, 'error', 'missing')}")
            unfair += name.startswith("correct")
            continue
        report = outcome.report
        cuda = [t for t in report.tests if t.name in _cuda_case_names()]
        cuda_line = ", ".join(f"{t.name} {t.status}" for t in cuda)
        print(f"{name:10s} {report.score:6.1f} / {report.max_score:g}   [{cuda_line}]")
        for t in report.tests:
            if t.status == "failed":
                print(f"    {t.name}: {t.message[:300]}")
        if name.startswith("correct") and report.score < report.max_score - 1e-9:
            unfair += 1
    print(f"\n{seconds:.1f} s for {len(students)} submissions; correct copies short of full "
          f"marks: {unfair} (target 0)")
    return 1 if unfair else 0


def _cuda_case_names() -> set[str]:
    from grader.specs import load_spec

    return {c.name for c in load_spec("cuda_training").cases if c.needs_cuda}


if __name__ == "__main__":
    sys.exit(main())
