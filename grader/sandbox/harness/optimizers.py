"""Harness of assignment 4, optimizers: step the student's optimizer on a quadratic and
report the parameters after every step; call step_decay for every epoch; run minimize with
the harness's own optimizer and report what it was handed."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from grader.sandbox.harness import Data

__all__ = ["decay", "minimize", "trajectory"]


def _grads(inputs: Data, params: list[np.ndarray]) -> list[np.ndarray]:
    return [(a @ p.ravel() + b).reshape(p.shape)
            for p, a, b in zip(params, inputs["A"], inputs["b"], strict=True)]


def decay(module: ModuleType, inputs: Data) -> Data:
    kwargs = {}
    if inputs["milestones"] is not None:
        kwargs = {"milestones": tuple(inputs["milestones"]), "gamma": inputs["gamma"]}
    total = inputs["total_epochs"]
    return np.array([float(module.step_decay(inputs["base_lr"], epoch, total, **kwargs))
                     for epoch in range(total)])


class _Probe:
    """The case's own optimizer (heavy-ball momentum), so minimize is graded on its own.

    It remembers what minimize handed it: the params list and the arrays' dtypes.
    """

    def __init__(self, params: list[np.ndarray], lr: float, momentum: float) -> None:
        self.params = params
        self.lr, self.momentum = lr, momentum
        self.velocity = [np.zeros_like(p, dtype=np.float64) for p in params]

    def step(self, grads: list[np.ndarray]) -> None:
        for p, g, v in zip(self.params, grads, self.velocity, strict=True):
            if not (isinstance(p, np.ndarray) and p.dtype == np.float64):
                continue  # not a float64 array: _minimize_check says so
            v *= self.momentum
            v += np.asarray(g, dtype=np.float64)
            p -= self.lr * v


def _f_and_grad(inputs: Data) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    if inputs["kind"] == "quadratic":
        a, b = inputs["A"], inputs["b"]
        return lambda x: (float(0.5 * x @ a @ x + b @ x), a @ x + b)

    def rosenbrock(v: np.ndarray) -> tuple[float, np.ndarray]:
        x, y = float(v[0]), float(v[1])
        return ((1 - x) ** 2 + 100 * (y - x * x) ** 2,
                np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]))

    return rosenbrock


def minimize(module: ModuleType, inputs: Data) -> Data:
    x0 = inputs["x0"]
    before = x0.copy()
    given: list[Data] = []

    def make_optimizer(params):
        given.append([(type(p).__name__, str(getattr(p, "dtype", "")), np.shape(p)) for p in params])
        return _Probe(params, inputs["lr"], inputs["momentum"])

    trajectory = np.asarray(module.minimize(make_optimizer, _f_and_grad(inputs), x0, inputs["steps"]),
                            dtype=np.float64)
    return {"trajectory": trajectory, "x0_modified": not np.array_equal(x0, before),
            "optimizers_made": len(given),
            "params_ok": bool(given) and given[0] == [("ndarray", "float64", np.shape(x0))]}


def trajectory(module: ModuleType, inputs: Data, name: str) -> Data:
    """Build the student's optimizer on fresh float64 copies and step it on the quadratic."""
    params = [np.array(p, dtype=np.float64) for p in inputs["x0"]]
    hyper = dict(inputs["hyper"])
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    optimizer = getattr(module, name)(params, **hyper)
    steps, grads_modified = [], False
    for _ in range(inputs["steps"]):
        grads = _grads(inputs, params)
        given = [g.copy() for g in grads]
        optimizer.step(grads)
        grads_modified |= any(not np.array_equal(g, c) for g, c in zip(grads, given, strict=True))
        steps.append(np.concatenate([p.ravel() for p in params]).astype(np.float64))
    return {"trajectory": np.array(steps), "grads_modified": grads_modified,
            "start": np.concatenate([np.ravel(p) for p in inputs["x0"]])}
