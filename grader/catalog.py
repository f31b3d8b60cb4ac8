"""The six assignments: names, titles, files, and where their code lives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_DIR = ROOT / "assignments"
REFERENCE_DIR = ROOT / "reference"
QUIZ_DIR = ASSIGNMENTS_DIR / "quizzes"


@dataclass(frozen=True)
class Assignment:
    number: int
    name: str
    title: str
    topic: str
    framework: Literal["numpy", "torch"]

    @property
    def filename(self) -> str:
        return f"{self.name}.py"

    @property
    def stub_path(self) -> Path:
        return ASSIGNMENTS_DIR / self.filename

    @property
    def reference_path(self) -> Path:
        return REFERENCE_DIR / self.filename


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment(1, "backprop", "Backprop by hand", "chain rule, affine/ReLU/softmax layers", "numpy"),
    Assignment(2, "autodiff", "Reverse-mode autodiff", "computational graphs, Value.backward", "numpy"),
    Assignment(3, "losses", "Loss functions", "MSE, L1, Huber, cross-entropy, Gaussian NLL", "numpy"),
    Assignment(4, "optimizers", "Optimizers from scratch", "SGD, momentum, Adam, schedules", "numpy"),
    Assignment(5, "mlp", "Multi-layer perceptrons", "universal approximation, classifiers", "torch"),
    Assignment(6, "cuda_training", "Training on a GPU", "devices, loaders, AMP, throughput", "torch"),
)

_BY_NAME = {a.name: a for a in ASSIGNMENTS}


def get_assignment(name: str) -> Assignment:
    """The assignment called `name`; a UserError that lists the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        valid = ", ".join(_BY_NAME)
        raise UserError(f"unknown assignment {name!r} (choose from: {valid})") from None


def assignment_names() -> list[str]:
    return list(_BY_NAME)


def in_catalog_order(names: Iterable[str]) -> list[str]:
    """Assignment names in the catalog's order; names the catalog does not know last, by name."""
    order = {n: i for i, n in enumerate(_BY_NAME)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))
