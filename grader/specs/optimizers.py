"""Grading spec of assignment 4, optimizers from scratch (numpy).

Each optimizer case runs the student's class for a few dozen steps on a per-student
random quadratic over two parameters of different shapes and compares the parameters
after *every* step with the reference's, so the message names the first step that
differs. The minimum of the quadratic lies far from the start: no gradient component
hovers around zero, where sign-like updates (RMSprop, Adam) would turn rounding
differences into real ones. For the optimizers with an eps the quadratic is scaled down
(gradients of about 1e-2): there eps is a visible part of every step, so another eps, or
eps inside instead of outside a square root, fails for every student, and the tolerance
accepts float64 rounding only. Every case also reports whether the step modified the
gradients it was given and whether the parameters changed in place at all.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/optimizers.py. grader.specs.load_spec("optimizers") joins them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from grader.grading.case import Case, Data, Verdict
from grader.grading.compare import close
from grader.sandbox.harness import Harness
from grader.specs._common import case

TRAJECTORY = close(rtol=1e-10, atol=1e-12)  # the same rule gives the same numbers to ~1e-15
VALUE = close(rtol=1e-12, atol=1e-15)
FAST = 5.0  # seconds: every case here is milliseconds of numpy


# --------------------------------------------------------------- per-student quadratics


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    """A symmetric positive definite matrix with eigenvalues in about [0.3, 4]."""
    q = rng.normal(size=(n, n))
    return q @ q.T / n + 0.3 * np.eye(n)


# Optimizers whose step divides by a root of squared gradients plus eps: their gradients
# are scaled to about 1e-2, where eps = 1e-8 against 1e-7 moves the parameters by ≥ 1e-8
# within the case's steps (the tolerance is 1e-10 relative).
ADAPTIVE = frozenset({"Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"})
ADAPTIVE_GRAD_SCALE = 1e-3


def _problem(rng: np.random.Generator, grad_scale: float = 1.0) -> Data:
    """Two parameters, a (rows, cols) matrix and a (cols,) vector, each with its own quadratic
    ½·s·xᵀAx + s·b·x: grad_scale s scales the gradients, not where the minimum lies."""
    rows, cols = (int(v) for v in rng.integers(2, 5, 2))
    shapes = [(rows, cols), (cols,)]
    x0, mats, vecs = [], [], []
    for shape in shapes:
        n = int(np.prod(shape))
        x0.append(rng.normal(size=shape))
        mats.append(_spd(rng, n) * grad_scale)
        vecs.append(rng.normal(0, 20, n) * grad_scale)  # a far-away minimum: gradients stay large
    return {"x0": x0, "A": mats, "b": vecs, "steps": int(rng.integers(20, 31))}


def grad_scale(name: str) -> float:
    return ADAPTIVE_GRAD_SCALE if name in ADAPTIVE else 1.0



# lr for the default-hyperparameter cases of classes whose lr has no default
_REQUIRED_LR = {"SGD": 0.02, "Momentum": 0.01, "NAG": 0.01}


def _default_inputs(name: str) -> Callable[[np.random.Generator], Data]:
    def make(rng: np.random.Generator) -> Data:
        hyper = {"lr": _REQUIRED_LR[name]} if name in _REQUIRED_LR else {}
        if name == "AdamW":
            hyper["lr"] = 0.05  # default weight decay 0.01 stays on: AdamW's default
        return _problem(rng, grad_scale(name)) | {"hyper": hyper}

    return make


def _trajectory_judge(actual: Data, expected: Data) -> Verdict:
    if actual["grads_modified"]:
        return Verdict(False, "step() modified the gradient arrays it was given: build new arrays "
                              "(g = g + wd * p), do not write into grads")
    traj, start = np.asarray(actual["trajectory"], dtype=float), np.asarray(actual["start"], dtype=float)
    exp = np.asarray(expected["trajectory"], dtype=float)
    if traj.shape == exp.shape and np.array_equal(traj, np.broadcast_to(start, traj.shape)):
        return Verdict(False, "the parameters never changed: update the arrays in place "
                              "(p -= ..., not self.params[i] = ... or p = p - ...)")
    if traj.shape != exp.shape:
        return TRAJECTORY(traj, exp)
    for t in range(len(exp)):
        verdict = TRAJECTORY(traj[t], exp[t])
        if not verdict.passed:
            return Verdict(False, f"parameters after step {t + 1} (flattened, matrix first): "
                                  f"{verdict.message}")
    return Verdict(True)


def _runner(name: str) -> Harness:
    """Build the student's optimizer on fresh float64 copies and step it on the quadratic."""
    return Harness("optimizers.trajectory", name=name)


_run_decay = Harness("optimizers.decay")
_run_minimize = Harness("optimizers.minimize")


# --------------------------------------------------------------- step_decay


def _decay_defaults(rng: np.random.Generator) -> Data:
    return {"base_lr": float(rng.uniform(0.01, 1.0)), "total_epochs": 4 * int(rng.integers(3, 26)),
            "milestones": None, "gamma": None}


def _decay_judge(actual: Data, expected: Data) -> Verdict:
    verdict = VALUE(actual, expected)
    if verdict.passed:
        return verdict
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if a.shape == e.shape:
        epoch = int(np.argmax(~np.isclose(a, e, rtol=1e-12, atol=1e-15)))
        return Verdict(False, f"epoch {epoch} of {len(e)}: got lr {a[epoch]:.6g}, expected "
                              f"{e[epoch]:.6g} (the lr drops when epoch >= milestone·total_epochs)")
    return verdict


# --------------------------------------------------------------- minimize


def _minimize_quadratic(rng: np.random.Generator) -> Data:
    dim = int(rng.integers(2, 6))
    return {"kind": "quadratic", "A": _spd(rng, dim), "b": rng.normal(size=dim),
            "x0": rng.normal(0, 2, dim), "steps": int(rng.integers(10, 21)),
            "lr": float(rng.uniform(0.05, 0.2)), "momentum": 0.0}


def _minimize_judge(actual: Data, expected: Data) -> Verdict:
    if actual["x0_modified"]:
        return Verdict(False, "minimize modified x0: work on a float64 copy")
    if actual["optimizers_made"] != 1:
        return Verdict(False, f"make_optimizer was called {actual['optimizers_made']} times; "
                              "call it once, with [x]")
    if not actual["params_ok"]:
        return Verdict(False, "make_optimizer must receive [x], a list holding one float64 array "
                              "of x0's shape (np.array(x0, dtype=np.float64))")
    return TRAJECTORY(actual["trajectory"], expected["trajectory"])


# --------------------------------------------------------------- the cases

OPTIMIZERS = ("SGD", "Momentum", "NAG", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW")


# a row: (name, target, points, run, judge, make_inputs, visible, description)
_case = partial(case, timeout=FAST)


def _default_note(name: str) -> str:
    if name == "AdamW":
        return "lr = 0.05 and its defaults (weight_decay 0.01, decoupled)"
    return ("its default hyperparameters" if name not in _REQUIRED_LR
            else f"lr = {_REQUIRED_LR[name]} and its other defaults")


PUBLIC_CASES: tuple[Case, ...] = (
    *(_case(f"{name}_defaults", name, 4, _runner(name), _trajectory_judge, _default_inputs(name),
            True, f"{name} with {_default_note(name)}: parameters after every step on a quadratic, "
                  "compared with torch.optim's rule.")
      for name in OPTIMIZERS),
    _case("step_decay_lecture", "step_decay", 4, _run_decay, _decay_judge, _decay_defaults, True,
          "The lecture's schedule: lr / 10 from 50 % of the epochs, / 100 from 75 %, every epoch."),
    _case("minimize_quadratic", "minimize", 4, _run_minimize, _minimize_judge, _minimize_quadratic,
          True, "The trajectory (steps + 1, dim) of plain gradient steps on a quadratic, row 0 = x0."),
)
