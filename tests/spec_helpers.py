"""What the spec tests (tests/test_specs_*.py) share: an assignment's spec with its reference
and stub, judged the way the grading engine judges, and the tests every spec must pass,
written once and bound by each test module under its own name (so a test id still says
which assignment failed: tests/test_specs_losses.py::test_reference_passes[mse_matrix-bob]).

pytest rewrites the asserts of test modules only, so the asserts here carry their own messages.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pytest

from grader.grading.case import (
    AssignmentSpec,
    Case,
    Data,
    Verdict,
    case_rng,
    child_inputs,
    evaluate_trusted,
    no_inputs,
    withheld_inputs,
)
from grader.sandbox import codec
from grader.specs._common import one_thread

STUDENTS = ("alice", "bob")


def is_plain(x) -> bool:
    if x is None or isinstance(x, (bool, int, float, str)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    if isinstance(x, (list, tuple)):
        return all(is_plain(v) for v in x)
    if isinstance(x, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in x.items())
    return False


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return a == b


def public_functions(module: types.ModuleType) -> set[str]:
    return {name for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(obj)
            and obj.__module__ == module.__name__}


def through_codec(value: Data) -> Data:
    """What crosses the sandbox boundary: plain data only, JSON with .npy arrays."""
    return codec.decode(codec.encode(value))


@dataclass(frozen=True)
class SpecBench:
    """An assignment's spec (public and hidden cases) with its reference solution and stub."""

    spec: AssignmentSpec
    reference: types.ModuleType
    stub: types.ModuleType

    @property
    def cases(self) -> dict[str, Case]:
        return {case.name: case for case in self.spec.cases}

    @property
    def runnable(self) -> list[Case]:
        """The cases this machine can run: the CUDA ones only where a GPU is."""
        import torch  # here: the numpy specs' tests never need it

        return [c for c in self.spec.cases if not c.needs_cuda or torch.cuda.is_available()]

    def names(self, target: str) -> set[str]:
        """The runnable cases of `target`."""
        return {c.name for c in self.runnable if c.target == target}

    def inputs(self, case: Case, student: str) -> Data:
        return case.make_inputs(case_rng(student, self.spec.name, case.name))

    def verdict(self, name: str, module: types.ModuleType, student: str) -> Verdict:
        """evaluate_trusted of the case called `name`: an exception in run propagates."""
        return evaluate_trusted(self.spec.case(name), module, self.reference, student,
                                self.spec.name)

    def judge(self, case: Case, module: types.ModuleType, student: str = "alice") -> Verdict:
        """What the engine reports: an exception in run is a failed case."""
        try:
            return evaluate_trusted(case, module, self.reference, student, self.spec.name)
        except Exception as exc:
            return Verdict(False, f"{type(exc).__name__}: {exc}")

    def outcomes(self, module: types.ModuleType, student: str,
                 cases: Iterable[Case] | None = None) -> dict[str, bool]:
        """Passed or not, case by case (the runnable ones unless `cases` says otherwise)."""
        return {c.name: self.judge(c, module, student).passed
                for c in (self.runnable if cases is None else cases)}

    def failing(self, module: types.ModuleType, student: str,
                cases: Iterable[Case] | None = None) -> set[str]:
        return {name for name, ok in self.outcomes(module, student, cases).items() if not ok}

    def judge_through_codec(self, case: Case, module: types.ModuleType, student: str) -> Verdict:
        """evaluate_trusted as the engine grades (grader.grading.expected, grader.grading.grader): inputs and
        outputs cross the codec, `run` gets child_inputs, a property case's `check` gets the
        withheld inputs as expected, a reference case's the reference's run on child_inputs."""

        def inputs() -> Data:  # fresh each time: run may modify its inputs
            return through_codec(self.inputs(case, student))

        if case.uses_reference:
            expected = through_codec(case.run(self.reference, child_inputs(case, inputs())))
        else:
            expected = withheld_inputs(case, inputs())
        return case.judge(through_codec(case.run(module, child_inputs(case, inputs()))), expected)

    def copy_with(self, **replacements) -> types.ModuleType:
        """The reference with some names swapped for buggy versions (the others keep calling
        the reference)."""
        module = types.ModuleType(f"buggy_{self.spec.name}")
        module.__dict__.update({k: v for k, v in vars(self.reference).items()
                                if not k.startswith("__")})
        module.__dict__.update(replacements)
        return module


def assert_fails_exactly(bench: SpecBench, module: types.ModuleType, must_fail: set[str],
                         phrase: str | None = None) -> None:
    """Every case judged (student alice): exactly `must_fail` fail, each saying `phrase`."""
    verdicts = {name: bench.judge(case, module) for name, case in bench.cases.items()}
    failed = {name for name, v in verdicts.items() if not v.passed}
    assert failed == must_fail, {name: verdicts[name].message for name in failed ^ must_fail}
    if phrase is not None:
        for name in must_fail:
            assert phrase in verdicts[name].message, verdicts[name].message


# ------------------------------------------------------------------ tests for a module to bind


def per_case_tests(bench: SpecBench) -> tuple[Callable, Callable, Callable]:
    """test_inputs_are_plain_deterministic_and_per_student, test_reference_passes and
    test_stub_fails, each parametrised by the spec's cases."""
    names = list(bench.cases)

    @pytest.mark.parametrize("name", names)
    def test_inputs_are_plain_deterministic_and_per_student(name):
        case = bench.cases[name]
        alice = bench.inputs(case, "alice")
        assert is_plain(alice), "the inputs are not plain data"
        assert same(alice, bench.inputs(case, "alice")), "two draws for alice differ"
        if case.make_inputs is not no_inputs:
            assert not same(alice, bench.inputs(case, "bob")), "alice and bob get the same inputs"
        if case.uses_reference:
            output = case.run(bench.reference, child_inputs(case, alice))
            assert is_plain(output), "the reference's output is not plain data"

    @pytest.mark.parametrize("student", STUDENTS)
    @pytest.mark.parametrize("name", names)
    def test_reference_passes(name, student):
        verdict = bench.judge(bench.cases[name], bench.reference, student)
        assert verdict.passed, verdict.message

    @pytest.mark.parametrize("name", names)
    def test_stub_fails(name):
        with pytest.raises(NotImplementedError):
            bench.verdict(name, bench.stub, "alice")

    return (test_inputs_are_plain_deterministic_and_per_student, test_reference_passes,
            test_stub_fails)


def function_spec_tests(bench: SpecBench, bugs: dict[str, tuple[dict, set[str], str]]
                        ) -> tuple[Callable, Callable, Callable, Callable]:
    """The tests of a spec of plain functions (backprop, losses): test_points_and_visibility,
    test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases,
    test_a_buggy_copy_fails_exactly_the_cases_of_its_target (one per entry of `bugs`:
    name -> (replacements, the cases that must fail, a phrase of their message)) and
    test_parameters_are_passed_by_position."""
    spec = bench.spec

    def test_points_and_visibility():
        assert spec.max_points == 100, spec.max_points
        visible = sum(c.points for c in spec.visible_cases)
        assert 35 <= visible <= 45, visible
        assert all(c.description for c in spec.cases), [
            c.name for c in spec.cases if not c.description]
        assert all(c.timeout <= 5 for c in spec.cases), [c.name for c in spec.cases if c.timeout > 5]

    def test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases():
        targets = {c.target for c in spec.cases}
        api = public_functions(bench.reference)
        assert targets == api, targets ^ api
        for target in targets:
            kinds = {c.visibility for c in spec.cases if c.target == target}
            assert kinds == {"visible", "hidden"}, target

    @pytest.mark.parametrize("bug", list(bugs))
    def test_a_buggy_copy_fails_exactly_the_cases_of_its_target(bug):
        replacements, must_fail, phrase = bugs[bug]
        assert_fails_exactly(bench, bench.copy_with(**replacements), must_fail, phrase)

    def test_parameters_are_passed_by_position():
        """A right answer whose parameters carry other names (z, y instead of logits, labels)
        passes."""

        def positional(fn):
            return lambda *args: fn(*args)

        module = bench.copy_with(**{name: positional(getattr(bench.reference, name))
                                    for name in public_functions(bench.reference)})
        failed = {name: v.message for name, case in bench.cases.items()
                  if not (v := bench.judge(case, module)).passed}
        assert not failed, failed

    return (test_points_and_visibility,
            test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases,
            test_a_buggy_copy_fails_exactly_the_cases_of_its_target,
            test_parameters_are_passed_by_position)


def whole_spec_tests(bench: SpecBench, *, slow: bool) -> tuple[Callable, Callable, Callable]:
    """test_reference_passes_every_case (alice and bob), test_reference_passes_through_the_codec
    and test_stub_fails_every_case, over the runnable cases; the reference's runs marked slow
    where they train models."""
    maybe_slow = pytest.mark.slow if slow else (lambda test: test)

    @maybe_slow
    @pytest.mark.parametrize("student", list(STUDENTS))
    def test_reference_passes_every_case(student):
        outcomes = bench.outcomes(bench.reference, student)
        assert all(outcomes.values()), [n for n, ok in outcomes.items() if not ok]

    @maybe_slow
    def test_reference_passes_through_the_codec():
        """Inputs and outputs are plain data the sandbox can send, and still judge as passing."""
        verdicts = {c.name: bench.judge_through_codec(c, bench.reference, "zoe")
                    for c in bench.runnable}
        failed = {n: v.message for n, v in verdicts.items() if not v.passed}
        assert not failed, failed

    def test_stub_fails_every_case():
        outcomes = bench.outcomes(bench.stub, "alice")
        assert not any(outcomes.values()), [n for n, ok in outcomes.items() if ok]

    return (test_reference_passes_every_case, test_reference_passes_through_the_codec,
            test_stub_fails_every_case)


def one_thread_fixture() -> Callable:
    """An autouse fixture for a module: tiny models train faster on one torch thread, and much
    faster on a busy machine."""

    @pytest.fixture(autouse=True, scope="module", name="one_thread")
    def one_thread_for_the_module():
        with one_thread():
            yield

    return one_thread_for_the_module
