"""What the grade cells of an exported nbgrader notebook call, inside the notebook's kernel.

A grade cell holds one target's cases (the public ones, and the hidden ones between
nbgrader's HIDDEN TESTS markers):

    result = check_target("losses", "mse", globals())
    result += check_target("losses", "mse", globals(), hidden=True)
    award(result)

`check_target` runs the cases on the notebook's namespace, wrapped as a module, and
compares with the reference's outputs; `award` turns the tally into nbgrader's grade:
no output when every case passed (full points), an AssertionError with the failure
messages when none did (zero), and otherwise the points earned as the cell's value
(nbgrader's partial credit), so the cell scores what dlgrade scores case by case.

This runs in-process, next to the student's code, as every nbgrader test does: code
that patches the comparison can fool it. dlgrade's own grading runs the student in a
sandboxed child and compares in the trusted process (see benchmarks/vs_nbgrader.py).
Inputs and expected outputs are those of `dlgrade check` (grader.grading.expected, seed owner
grader.grading.case.PUBLIC_STUDENT): nbgrader does not tell the kernel who the student is.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
import types
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.grading.case import PUBLIC_STUDENT, Case, Verdict, child_inputs
from grader.grading.cuda import cuda_available
from grader.grading.expected import ExpectedStore
from grader.sandbox import codec
from grader.specs import load_spec

SEED_OWNER = PUBLIC_STUDENT


class CaseTimeout(BaseException):  # BaseException: a student's `except Exception` cannot swallow it
    pass


@dataclass
class TargetResult:
    """The tally of one target's cases: points earned and possible, and what failed."""

    target: str
    earned: float = 0.0
    possible: float = 0.0
    passed: int = 0
    failures: list[str] = field(default_factory=list)

    def __add__(self, other: TargetResult) -> TargetResult:
        return TargetResult(self.target, self.earned + other.earned, self.possible + other.possible,
                            self.passed + other.passed, self.failures + other.failures)


def target_cases(assignment: str, target: str, hidden: bool) -> list[Case]:
    spec = load_spec(assignment)
    if not any(c.target == target for c in spec.cases):
        raise ValueError(f"{assignment} has no cases for target {target!r}")
    return [c for c in spec.cases if c.target == target and c.visible != hidden]


def check_target(assignment: str, target: str, namespace: Mapping[str, Any],
                 hidden: bool = False) -> TargetResult:
    """Run the target's public (or hidden) cases on the notebook's namespace."""
    module = types.ModuleType(f"{assignment}_notebook")
    module.__dict__.update(namespace)
    module.__name__ = f"{assignment}_notebook"
    result = TargetResult(target)
    for case in target_cases(assignment, target, hidden):
        result.possible += case.points
        if case.needs_cuda and not cuda_available():
            result.failures.append(f"{case.name}: skipped (no CUDA), 0 of {case.points:g} points")
            continue
        stop_reason = _TIMED_OUT.get((assignment, target))
        verdict = Verdict(False, stop_reason) if stop_reason else _run_case(case, assignment, module)
        if verdict.passed:
            result.earned += case.points
            result.passed += 1
        else:
            result.failures.append(f"{case.name} ({case.points:g} points): {verdict.message}")
            if verdict.message.startswith("timed out"):
                _TIMED_OUT[(assignment, target)] = f"not run: an earlier case of {target} {verdict.message}"
    return result


# Fail fast per target, as dlgrade does: after a timeout, the target's remaining cases (in
# this kernel, public or hidden) fail with that reason instead of each waiting out a timeout.
_TIMED_OUT: dict[tuple[str, str], str] = {}


def award(result: TargetResult) -> float | None:
    """nbgrader's grade for the cell: None = full points, a number = partial, raise = zero."""
    if not result.failures:
        print(f"{result.target}: all {result.passed} case(s) passed")
        return None
    report = f"{result.target}: {len(result.failures)} case(s) failed\n" + "\n".join(result.failures)
    if result.earned <= 0:
        raise AssertionError(report)
    print(report)
    return round(result.earned, 6)


def _run_case(case: Case, assignment: str, module: types.ModuleType) -> Verdict:
    """One case as dlgrade's engine runs it: the same inputs, expected output and encoding."""
    inputs_json = _STORE.inputs(case, SEED_OWNER, assignment)
    with _quiet():  # a reference or spec failure propagates: it is not the student's
        expected = _STORE.expected(case, SEED_OWNER, assignment, inputs_json)
    try:
        with _quiet(), _time_limit(case.timeout):
            value = case.run(module, codec.from_jsonable(child_inputs(case, inputs_json)))
            actual = codec.from_jsonable(codec.to_jsonable(value))  # plain data, as from a child
            return case.judge(actual, expected)
    except CaseTimeout:
        return Verdict(False, f"timed out after {case.timeout:g} s")
    except Exception as exc:  # the student's error is the case's failure message
        return Verdict(False, f"{type(exc).__name__}: {exc}")


# The reference where reference/ exists (the instructor's autograder), else the public
# expected outputs shipped in the student release (a student running the public cells).
_STORE = ExpectedStore()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Warnings and stderr never cost points (nbgrader zeroes a grade cell that writes stderr)."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """The case's own time limit, where a signal can deliver it (the main thread on Unix)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: Any) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

