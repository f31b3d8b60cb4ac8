"""A toy assignment for the sandbox's own tests: `toy` (numpy) and `toy_torch` (torch).

A submission defines `add(a, b)`, `scale(x, k)` and `total(x)`; each case targets one.
The toy reference is tests/data/toy_reference/<name>.py.
"""

from __future__ import annotations

import numpy as np

from grader.grading.case import AssignmentSpec, Case
from grader.grading.compare import close
from grader.sandbox.harness import Harness


def _pair(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(3, 4))}


def _vector(rng: np.random.Generator) -> dict[str, object]:
    return {"x": rng.normal(size=5), "k": float(rng.integers(2, 5))}


ADD = Harness("common.call", function="add", args=["a", "b"])
SCALE = Harness("common.call", function="scale", args=["x", "k"])
TOTAL = Harness("common.call", function="total", args=["x"], result="float")

CASES = (
    Case("add_1", "add", 20, ADD, close(),
         _pair, visibility="visible", timeout=5),
    Case("add_2", "add", 20, ADD, close(),
         _pair, timeout=5),
    Case("scale_1", "scale", 20, SCALE,
         close(), _vector, visibility="visible", timeout=5),
    Case("scale_2", "scale", 20, SCALE,
         close(), _vector, timeout=5),
    Case("total_1", "total", 20, TOTAL, close(), _vector, timeout=5),
)


GPU_CASE = Case("add_gpu", "add", 20, ADD,
                close(), _pair, timeout=5, needs_cuda=True)


def load_spec(name: str) -> AssignmentSpec:
    """`toy`; `toy_torch` (the same cases, graded by the torch zygote); `toy_gpu` (+ a CUDA case)."""
    if name not in ("toy", "toy_torch", "toy_gpu"):
        raise ModuleNotFoundError(f"no toy spec {name!r}", name=name)
    framework = "torch" if name == "toy_torch" else "numpy"
    cases = CASES + (GPU_CASE,) if name == "toy_gpu" else CASES
    return AssignmentSpec(name=name, framework=framework, cases=cases)


class Reference:
    """The toy reference, as a module-like object."""

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def scale(x, k):
        return x * k

    @staticmethod
    def total(x):
        return float(np.sum(x))
