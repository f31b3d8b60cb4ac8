"""Grading spec of assignment 5, multi-layer perceptrons in torch.

Structure and single-step cases compare with the reference (cheap: milliseconds).
Training cases are property cases — the trained model must reach a threshold — so no
reference training runs per student. The child sends back the trained network's layers
and weights, and this process runs that network itself on data the child never saw
(withheld): a threshold never rests on a number the student's process computed, which a
monkeypatched numpy or torch there could forge.
Each `run` receives numpy inputs, seeds torch itself, and builds every model it needs
with plain torch, so a case exercises its own target only.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/mlp.py. grader.specs.load_spec("mlp") joins them.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from grader.grading.case import Case, Data, Judge, Verdict
from grader.grading.compare import close
from grader.sandbox.harness import Harness
from grader.sandbox.harness.mlp import _target
from grader.specs._common import (
    case,
    labels,
    network_accuracy,
    run_network,
)

STEP = close(rtol=1e-5, atol=1e-6)  # float32 training steps: same ops, maybe other threads
ACCURACY = close(rtol=1e-6, atol=1e-9)
FAST = 10.0  # torch cases: a few milliseconds of work, generous for a loaded machine
TRAINING = 60.0  # training cases: the reference takes about a second on a 2-core CPU

MSE_LIMIT = 1e-3
SPIRALS_LIMIT = 0.95  # the reference: 96.7–100 % on 150 held-out points, over 200 student seeds


# --------------------------------------------------------------- running the functions (public harness)

_run_make_mlp = Harness("mlp.make_mlp")
_run_count = Harness("mlp.count")
_run_train_step = Harness("mlp.train_step")
_run_fit = Harness("mlp.fit")
_run_classifier = Harness("mlp.classifier")
_run_accuracy = Harness("mlp.accuracy")


# --------------------------------------------------------------- helpers


def _layout_judge(actual: Data, expected: Data) -> Verdict:
    actual_rows = [list(r) for r in actual]
    expected_rows = [list(r) for r in expected]
    if actual_rows == expected_rows:
        return Verdict(True)
    if actual_rows[:1] != expected_rows[:1]:
        return Verdict(False, f"make_mlp must return an nn.Sequential, got {actual_rows[0][1]}")
    for i, (a, e) in enumerate(zip(actual_rows[1:], expected_rows[1:], strict=False)):
        if a != e:
            return Verdict(False, f"layer {i}: expected {_row(e)}, got {_row(a)} "
                                  f"(expected layers: {', '.join(_row(r) for r in expected_rows[1:])})")
    return Verdict(False, f"expected {len(expected_rows) - 1} layers, got {len(actual_rows) - 1}: "
                          f"{', '.join(_row(r) for r in actual_rows[1:])}")


def _row(row: list[Data]) -> str:
    if row[0] == "Linear":
        return f"Linear({row[1]}, {row[2]}{'' if row[3] else ', bias=False'})"
    if row[0] == "Dropout":
        return f"Dropout({row[1]:g})"
    return str(row[0])


# --------------------------------------------------------------- make_mlp


def _mlp_relu(rng: np.random.Generator) -> Data:
    depth = int(rng.integers(1, 4))
    return {"in_dim": int(rng.integers(1, 20)), "hidden": [int(v) for v in rng.integers(2, 64, depth)],
            "out_dim": int(rng.integers(1, 12)), "activation": None, "dropout": None}


# --------------------------------------------------------------- count_parameters


def _count_plain(rng: np.random.Generator) -> Data:
    return {"widths": [int(v) for v in rng.integers(1, 40, int(rng.integers(2, 5)))], "tricky": False}


def _count_judge(actual: Data, expected: Data) -> Verdict:
    if actual == expected:
        return Verdict(True)
    return Verdict(False, f"expected {expected} trainable parameters, got {actual} (count "
                          "p.numel() of parameters with requires_grad; buffers and frozen "
                          "parameters do not count)")


# --------------------------------------------------------------- train_step


def _step_regression(rng: np.random.Generator) -> Data:
    n, d = int(rng.integers(8, 33)), int(rng.integers(1, 6))
    return {"seed": int(rng.integers(0, 2**31)), "kind": "regression",
            "x": rng.normal(size=(n, d)).astype(np.float32),
            "y": rng.normal(size=(n, 1)).astype(np.float32), "hidden": int(rng.integers(4, 17)),
            "lr": float(rng.uniform(0.01, 0.1))}


def _train_step_judge(actual: Data, expected: Data) -> Verdict:
    if any(t != "float" for t in actual["types"]):
        return Verdict(False, f"train_step returned {actual['types'][0]}: return loss.item(), a "
                              "Python float (a tensor keeps the whole graph alive)")
    verdict = STEP(actual["losses"], expected["losses"])
    if not verdict.passed:
        return Verdict(False, f"the returned losses of three steps: {verdict.message} (the loss "
                              "before each step; are old gradients zeroed first?)")
    verdict = STEP(actual["params"], expected["params"])
    if not verdict.passed:
        return Verdict(False, f"the parameters after three steps: {verdict.message} (zero the "
                              "gradients, forward, backward, optimizer.step — once each)")
    return Verdict(True)


# --------------------------------------------------------------- fit_function


def _fit_inputs(rng: np.random.Generator, a: float, b: float, c: float) -> Data:
    hidden = 64
    return {"a": a, "b": b, "c": c, "hidden": hidden, "steps": 3000,
            "seed": int(rng.integers(0, 1000)),
            # the same function for this process to measure the fit with
            "target": {"a": a, "b": b, "c": c, "hidden": hidden}}


def _fit_sin(rng: np.random.Generator) -> Data:
    return _fit_inputs(rng, 1.0, 1.0, 0.0)


def _fit_judge(actual: Data, expected: Data) -> Verdict:
    target = expected["target"]
    h = int(target["hidden"])
    grid = np.linspace(-np.pi, np.pi, 777).reshape(-1, 1)  # not the 1000-point grid
    pred = run_network(actual["network"], [1, h, 1], grid)
    if isinstance(pred, str):
        return Verdict(False, f"{pred} — fit_function uses one hidden layer of width {h}")
    own = float(np.mean((pred - _target(target["a"], target["b"], target["c"])(grid)) ** 2))
    reported = actual["mse"]
    if not np.isfinite(own) or own >= MSE_LIMIT:
        return Verdict(False, f"the fitted network's mean squared error on [-π, π] is {own:.3g}, "
                              f"not below {MSE_LIMIT:g}: check the training loop (Adam, full batch, "
                              "every step) and the hidden layer's activation")
    if not np.isfinite(reported) or abs(reported - own) > own + 1e-5:
        return Verdict(False, f"the returned mse {reported:.3g} does not match the network's error "
                              f"on a dense grid ({own:.3g}): compute it on the grid after training")
    return Verdict(True)


# --------------------------------------------------------------- train_classifier


def _held_out(x_test: np.ndarray, y_test: np.ndarray, settings: Data, classes: int) -> Data:
    """Withheld from the child: the test points, their labels and the network's widths."""
    widths = [int(x_test.shape[1]), *(int(h) for h in settings["hidden"]), classes]
    return {"x": x_test, "y": y_test, "widths": widths}


def _spirals(rng: np.random.Generator) -> Data:
    from assignments.datasets import make_spirals

    x, y = make_spirals(250, 3, noise=0.1, seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x))
    val, test, train = perm[:150], perm[150:300], perm[300:]
    settings = {"hidden": [64, 64], "epochs": 100, "lr": 3e-3, "batch_size": 32,
                "seed": int(rng.integers(0, 1000))}
    return {"x_train": x[train], "y_train": y[train], "x_val": x[val], "y_val": y[val],
            "settings": settings, "held_out": _held_out(x[test], y[test], settings, 3)}


def _classifier_judge(limit: float) -> Judge:
    def judge(actual: Data, expected: Data) -> Verdict:
        if actual["keys"] != ["train_loss", "val_acc"]:
            return Verdict(False, f"history keys are {actual['keys']}, expected ['train_loss', 'val_acc']")
        if any(n != actual["epochs"] for n in actual["lengths"]):
            return Verdict(False, f"history lists have lengths {actual['lengths']}; expected one "
                                  f"value per epoch ({actual['epochs']})")
        accuracy = network_accuracy(actual["network"], expected["held_out"])
        if isinstance(accuracy, str):
            return Verdict(False, f"the returned model: {accuracy}")
        if not accuracy >= limit:
            return Verdict(False, f"held-out accuracy of the trained model is {accuracy:.1%}, "
                                  f"below {limit:.0%}: check shuffling, mini-batches, Adam and "
                                  "cross-entropy on logits (no softmax before the loss)")
        return Verdict(True)

    return judge


# --------------------------------------------------------------- accuracy


def _accuracy_inputs(rng: np.random.Generator) -> Data:
    n, d, c = int(rng.integers(20, 60)), int(rng.integers(2, 8)), int(rng.integers(2, 6))
    return {"seed": int(rng.integers(0, 2**31)), "x": rng.normal(size=(n, d)).astype(np.float32),
            "y": labels(rng, n, c), "hidden": int(rng.integers(4, 17)), "c": c}


# --------------------------------------------------------------- the cases


# a row: (name, target, points, run, judge, make_inputs, visible, description, **Case fields)
_case = partial(case, timeout=FAST)


PUBLIC_CASES: tuple[Case, ...] = (
    _case("make_mlp_relu", "make_mlp", 8, _run_make_mlp, _layout_judge, _mlp_relu, True,
          "Layers of make_mlp with ReLU and no dropout: Linear, ReLU, …, Linear."),
    _case("count_parameters_linear", "count_parameters", 5, _run_count, _count_judge, _count_plain,
          True, "Trainable parameters of a stack of Linear layers."),
    _case("train_step_regression", "train_step", 6, _run_train_step, _train_step_judge,
          _step_regression, True, "Three SGD steps on a small regression net: losses and parameters."),
    _case("fit_function_sin", "fit_function", 8, _run_fit, _fit_judge, _fit_sin, True,
          "fit_function(np.sin) with its defaults reaches a mean squared error below 1e-3 on [-π, π].",
          timeout=TRAINING, uses_reference=False, withheld=("target",)),
    _case("train_classifier_spirals", "train_classifier", 8, _run_classifier,
          _classifier_judge(SPIRALS_LIMIT),
          _spirals, True, "Three spirals (750 points): at least 95 % accuracy on 150 held-out points.",
          timeout=TRAINING, uses_reference=False, withheld=("held_out",)),
    _case("accuracy_value", "accuracy", 5, _run_accuracy, ACCURACY, _accuracy_inputs, True,
          "Accuracy of a small classifier on numpy inputs."),
)
