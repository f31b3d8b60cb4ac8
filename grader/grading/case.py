"""What a test case is: the inputs it makes, the code it runs, and how it is judged.

A case runs the same `run(module, inputs)` twice: on the hidden reference in the
trusted process (the expected output) and on the student's module in a sandboxed
child (the actual output). `run` is a public harness function with fixed parameters
(grader.sandbox.harness.Harness): a child is sent only its name, its parameters and the inputs,
never the case, so the judge, the thresholds and the withheld inputs stay here. Only
plain data crosses between them: None, bool, int, float, str, numpy arrays, and lists /
tuples / dicts (str keys) of those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

Data = Any  # plain data, see the module docstring
Visibility = Literal["visible", "hidden"]  # Gradescope's names: public / hidden


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""


Judge = Callable[[Data, Data], Verdict]  # (actual, expected) -> Verdict; expected is None without a reference


def no_inputs(rng: np.random.Generator) -> Data:
    return None


@dataclass(frozen=True)
class Case:
    """One graded case. `target` is the API.md name it exercises ("mse", "Value.add", "Adam")."""

    name: str
    target: str
    points: float
    run: Callable[[ModuleType, Data], Data]  # a grader.sandbox.harness.Harness to run in the sandbox
    judge: Judge
    make_inputs: Callable[[np.random.Generator], Data] = no_inputs
    visibility: Visibility = "hidden"
    timeout: float = 10.0
    uses_reference: bool = True  # False for property cases: `judge` gets expected=None
    needs_cuda: bool = False
    description: str = ""  # what the case checks, in a student's words; shown for visible cases
    # Input keys that never leave the trusted process (held-out labels, a precomputed answer):
    # `run` gets the inputs without them, and a property case's `judge` gets them as `expected`,
    # so a property cannot be forged by code that reports its own figures.
    withheld: tuple[str, ...] = ()

    @property
    def visible(self) -> bool:
        return self.visibility == "visible"


@dataclass(frozen=True)
class AssignmentSpec:
    name: str
    framework: Literal["numpy", "torch"]
    cases: tuple[Case, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.cases]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate case names")

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.cases)

    @property
    def visible_cases(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.visible)

    def case(self, name: str) -> Case:
        for c in self.cases:
            if c.name == name:
                return c
        raise KeyError(name)


PUBLIC_STUDENT = "public"  # the seed owner of `dlgrade check` and of the shipped expected outputs


def case_seed(student: str, assignment: str, case: str) -> int:
    """A per-student variant: same (student, assignment, case) -> same inputs, on any machine."""
    digest = hashlib.sha256(f"{student}\0{assignment}\0{case}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def case_rng(student: str, assignment: str, case: str) -> np.random.Generator:
    return np.random.default_rng(case_seed(student, assignment, case))


def child_inputs(case: Case, inputs: Data) -> Data:
    """What `run` gets: the inputs less the withheld keys (decoded or JSON-ready dicts alike)."""
    if not case.withheld:
        return inputs
    return {k: v for k, v in inputs.items() if k not in case.withheld}


def withheld_inputs(case: Case, inputs: Data) -> Data:
    """What a property case's `judge` gets as `expected`: the withheld inputs, else None."""
    if not case.withheld:
        return None
    return {k: inputs[k] for k in case.withheld}


def evaluate_trusted(case: Case, module: ModuleType, reference: ModuleType | None,
                     student: str, assignment: str) -> Verdict:
    """Run one case in this process on trusted code (the reference, tests' own modules).

    Never for student code: that runs only in the sandbox (grader.sandbox).
    """
    def fresh() -> Data:  # run may mutate its inputs
        return case.make_inputs(case_rng(student, assignment, case.name))

    if case.uses_reference and reference is not None:
        expected = case.run(reference, child_inputs(case, fresh()))
    else:
        expected = withheld_inputs(case, fresh())
    return case.judge(case.run(module, child_inputs(case, fresh())), expected)
