"""How safely a property case's bar passes the reference, over many student seeds.

    .venv/bin/python benchmarks/spec_robustness.py            # the digits case, 50 seeds
    .venv/bin/python benchmarks/spec_robustness.py mlp train_classifier_digits --seeds 300
    .venv/bin/python benchmarks/spec_robustness.py mlp fit_function_sin --seeds 15

Runs the case on the reference for each seed (its inputs, the run, the trusted judge), in
this process, on one torch thread, and prints how many passed, the worst and the mean of
the held-out accuracy (classifier cases), and the seconds per run. A bar should leave
room: a correct student must never fail because of the seed of their inputs.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.grading.case import case_rng, child_inputs, withheld_inputs  # noqa: E402
from grader.specs import load_spec  # noqa: E402
from grader.specs._common import network_accuracy  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="mlp")
    parser.add_argument("case", nargs="?", default="train_classifier_digits")
    parser.add_argument("--seeds", type=int, default=50, help="student seeds (default 50)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    case = load_spec(args.assignment).case(args.case)
    reference = importlib.import_module(f"reference.{args.assignment}")
    failures, accuracies = [], []
    started = time.perf_counter()
    for i in range(args.seeds):
        inputs = case.make_inputs(case_rng(f"student{i}", args.assignment, case.name))
        actual = case.run(reference, child_inputs(case, inputs))
        expected = withheld_inputs(case, inputs)
        held = (expected or {}).get("held_out")
        if held is not None:
            accuracy = network_accuracy(actual["network"], held)
            if not isinstance(accuracy, str):
                accuracies.append(accuracy)
        verdict = case.judge(actual, expected)
        if not verdict.passed:
            failures.append(f"student{i}: {verdict.message}")
    seconds = (time.perf_counter() - started) / args.seeds
    print(f"{args.assignment}/{case.name}: {args.seeds - len(failures)}/{args.seeds} seeds pass; "
          f"{seconds:.2f} s a run")
    if accuracies:
        print(f"held-out accuracy: worst {min(accuracies):.1%}, mean {statistics.fmean(accuracies):.1%}")
    for line in failures:
        print("FAILED", line)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
