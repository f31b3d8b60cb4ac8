"""Hidden cases of assignment 4 (optimizers): every optimizer with other hyperparameters
and weight decay on, other step-decay milestones, and minimize on Rosenbrock from an
integer start. Never shipped to students.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from grader.grading.case import Case, Data
from grader.specs._common import hidden_variant
from grader.specs.optimizers import OPTIMIZERS, PUBLIC_CASES, _problem, grad_scale


def _hyper(rng: np.random.Generator, name: str, weight_decay: bool) -> dict[str, Data]:
    """Non-default hyperparameters for the class called name (+ weight decay when asked)."""
    u = rng.uniform
    table: dict[str, dict[str, Data]] = {
        "SGD": {"lr": u(0.01, 0.05)},
        "Momentum": {"lr": u(0.005, 0.02), "momentum": u(0.5, 0.95)},
        "NAG": {"lr": u(0.005, 0.02), "momentum": u(0.5, 0.95)},
        "Adagrad": {"lr": u(0.05, 0.3), "eps": float(rng.choice([1e-10, 1e-6, 1e-3]))},
        "Adadelta": {"lr": u(0.5, 2.0), "rho": u(0.8, 0.95), "eps": float(rng.choice([1e-6, 1e-4]))},
        "RMSprop": {"lr": u(0.005, 0.03), "alpha": u(0.9, 0.999), "eps": float(rng.choice([1e-8, 1e-4]))},
        "Adam": {"lr": u(0.01, 0.1), "betas": [u(0.8, 0.95), u(0.99, 0.9999)],
                 "eps": float(rng.choice([1e-8, 1e-4]))},
        "AdamW": {"lr": u(0.01, 0.1), "betas": [u(0.8, 0.95), u(0.99, 0.9999)],
                  "eps": float(rng.choice([1e-8, 1e-4]))},
    }
    hyper = {k: (float(v) if isinstance(v, float) else v) for k, v in table[name].items()}
    if weight_decay:
        hyper["weight_decay"] = float(u(0.01, 0.2))
    return hyper


def _custom_inputs(name: str) -> Callable[[np.random.Generator], Data]:
    def make(rng: np.random.Generator) -> Data:
        return _problem(rng, grad_scale(name)) | {"hyper": _hyper(rng, name, weight_decay=True)}

    return make


def _decay_custom(rng: np.random.Generator) -> Data:
    """Milestones at multiples of 1/8 and totals that are multiples of 8: every milestone falls
    exactly on an epoch, so epoch >= m·total has one answer whatever the float rounding."""
    k = int(rng.integers(2, 5))
    milestones = sorted(int(v) for v in rng.choice(np.arange(1, 8), size=k, replace=False))
    return {"base_lr": float(rng.uniform(0.01, 1.0)), "total_epochs": 8 * int(rng.integers(1, 6)),
            "milestones": [m / 8 for m in milestones], "gamma": float(rng.uniform(0.2, 0.6))}


def _minimize_rosenbrock(rng: np.random.Generator) -> Data:
    """Rosenbrock with momentum, from an integer start: x0 must be copied as float64."""
    x0 = np.array([int(rng.integers(-2, 0)), int(rng.integers(1, 3))], dtype=np.int64)
    return {"kind": "rosenbrock", "A": None, "b": None, "x0": x0,
            "steps": int(rng.integers(40, 81)), "lr": float(rng.uniform(1e-4, 3e-4)),
            "momentum": float(rng.uniform(0.5, 0.9))}


# (target, name, points, make_inputs, description): the target's public case on other inputs
_harder = partial(hidden_variant, PUBLIC_CASES)

HIDDEN_CASES: tuple[Case, ...] = (
    *(_harder(name, f"{name}_hyperparameters_weight_decay", 6, _custom_inputs(name),
              f"{name} with other hyperparameters and weight decay on, step after step.")
      for name in OPTIMIZERS),
    _harder("step_decay", "step_decay_custom", 4, _decay_custom,
            "Other milestones and gamma, every epoch."),
    _harder("minimize", "minimize_rosenbrock_int_start", 8, _minimize_rosenbrock,
            "The trajectory of a momentum optimizer on Rosenbrock from an integer x0, left unchanged."),
)
