"""Grading spec of assignment 5, multi-layer perceptrons in torch.

Structure and single-step cases compare with the reference (cheap: milliseconds).
Training cases are property cases — the trained model must reach a threshold, checked
by the case itself on the returned model — so no reference training runs per student.
Each `run` receives numpy inputs, seeds torch itself, and builds every model it needs
with plain torch, so a case exercises its own target only.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/mlp.py. grader.specs.load_spec("mlp") joins them.
"""

from __future__ import annotations

from functools import partial
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from grader.compare import close
from grader.spec import Case, Check, Data, Verdict
from grader.specs._common import case, labels, one_thread

STEP = close(rtol=1e-5, atol=1e-6)  # float32 training steps: same ops, maybe other threads
ACCURACY = close(rtol=1e-6, atol=1e-9)
FAST = 10.0  # torch cases: a few milliseconds of work, generous for a loaded machine
TRAINING = 60.0  # training cases: the reference takes about a second on a 2-core CPU

MSE_LIMIT = 1e-3
SPIRALS_LIMIT = 0.95  # the reference: 96.7–100 % on 150 held-out points, over 200 student seeds


# --------------------------------------------------------------- helpers


def _layout(model: Any) -> list[list[Data]]:
    """A model as plain data: its class, then one row per layer."""
    rows: list[list[Data]] = [["model", type(model).__name__]]
    for layer in model.children():
        if isinstance(layer, nn.Linear):
            rows.append(["Linear", int(layer.in_features), int(layer.out_features),
                         layer.bias is not None])
        elif isinstance(layer, nn.Dropout):
            rows.append(["Dropout", float(layer.p)])
        else:
            rows.append([type(layer).__name__])
    return rows


def _layout_check(actual: Data, expected: Data) -> Verdict:
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


def _flat_params(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()]).astype(
        np.float64)


def _seeded_classifier(seed: int, d: int, h: int, c: int, dropout: float = 0.0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(d, h), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(h, c))


# --------------------------------------------------------------- make_mlp


def _mlp_relu(rng: np.random.Generator) -> Data:
    depth = int(rng.integers(1, 4))
    return {"in_dim": int(rng.integers(1, 20)), "hidden": [int(v) for v in rng.integers(2, 64, depth)],
            "out_dim": int(rng.integers(1, 12)), "activation": None, "dropout": None}


def _run_make_mlp(module: ModuleType, inputs: Data) -> Data:
    kwargs = {k: inputs[k] for k in ("activation", "dropout") if inputs[k] is not None}
    return _layout(module.make_mlp(inputs["in_dim"], list(inputs["hidden"]), inputs["out_dim"], **kwargs))


# --------------------------------------------------------------- count_parameters


def _count_plain(rng: np.random.Generator) -> Data:
    return {"widths": [int(v) for v in rng.integers(1, 40, int(rng.integers(2, 5)))], "tricky": False}


def _run_count(module: ModuleType, inputs: Data) -> Data:
    """Plain: Linear layers. Tricky: the first layer frozen, a bias-free layer, and a BatchNorm
    (its running statistics are buffers, not parameters)."""
    w = inputs["widths"]
    layers: list[nn.Module] = [nn.Linear(w[i], w[i + 1]) for i in range(len(w) - 1)]
    if inputs["tricky"]:
        layers[0].requires_grad_(False)
        layers = [layers[0], nn.BatchNorm1d(w[1]), nn.Linear(w[1], w[2], bias=False), *layers[2:]]
    return int(module.count_parameters(nn.Sequential(*layers)))


def _count_check(actual: Data, expected: Data) -> Verdict:
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


def _run_train_step(module: ModuleType, inputs: Data) -> Data:
    """Three steps. The classifier starts with stale gradients, which must be zeroed."""
    x, y = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["y"])
    if inputs["kind"] == "regression":
        model = _seeded_classifier(inputs["seed"], x.shape[1], inputs["hidden"], 1)
        loss_fn: nn.Module = nn.MSELoss()
        optimizer: torch.optim.Optimizer = torch.optim.SGD(model.parameters(), lr=inputs["lr"])
    else:
        c = int(inputs["y"].max()) + 1
        model = _seeded_classifier(inputs["seed"], x.shape[1], inputs["hidden"], c)
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=inputs["lr"])
        for p in model.parameters():
            p.grad = torch.full_like(p, 0.5)
    losses, types = [], []
    for _ in range(3):
        loss = module.train_step(model, x, y, loss_fn, optimizer)
        types.append(type(loss).__name__)
        losses.append(loss.item() if isinstance(loss, torch.Tensor) else float(loss))
    return {"types": types, "losses": np.array(losses), "params": _flat_params(model)}


def _train_step_check(actual: Data, expected: Data) -> Verdict:
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


def _fit_sin(rng: np.random.Generator) -> Data:
    return {"a": 1.0, "b": 1.0, "c": 0.0, "hidden": 64, "steps": 3000,
            "seed": int(rng.integers(0, 1000))}


def _target(inputs: Data):
    a, b, c = inputs["a"], inputs["b"], inputs["c"]
    return lambda x: a * np.sin(b * np.asarray(x)) + c * np.asarray(x) / np.pi


def _run_fit(module: ModuleType, inputs: Data) -> Data:
    with one_thread():
        fn = _target(inputs)
        model, mse = module.fit_function(fn, hidden=inputs["hidden"], steps=inputs["steps"],
                                         seed=inputs["seed"])
        grid = np.linspace(-np.pi, np.pi, 777, dtype=np.float32).reshape(-1, 1)  # not the 1000-point grid
        model.eval()
        with torch.no_grad():
            pred = model(torch.from_numpy(grid)).detach().cpu().numpy().astype(np.float64)
        own = float(np.mean((pred - fn(grid.astype(np.float64))) ** 2))
        linears = [[int(m.in_features), int(m.out_features)] for m in model.modules()
                   if isinstance(m, nn.Linear)]
        return {"mse": float(mse), "own_mse": own, "linears": linears, "hidden": inputs["hidden"]}


def _fit_check(actual: Data, expected: Data) -> Verdict:
    own, reported, h = actual["own_mse"], actual["mse"], actual["hidden"]
    if actual["linears"] != [[1, h], [h, 1]]:
        return Verdict(False, f"the network's Linear layers are {actual['linears']}; fit_function "
                              f"uses one hidden layer: make_mlp(1, [{h}], 1, activation='tanh')")
    if not np.isfinite(own) or own >= MSE_LIMIT:
        return Verdict(False, f"the fitted network's mean squared error on [-π, π] is {own:.3g}, "
                              f"not below {MSE_LIMIT:g}: check the training loop (Adam, full batch, "
                              "every step) and the tanh hidden layer")
    if not np.isfinite(reported) or abs(reported - own) > own + 1e-5:
        return Verdict(False, f"the returned mse {reported:.3g} does not match the network's error "
                              f"on a dense grid ({own:.3g}): compute it on the grid after training")
    return Verdict(True)


# --------------------------------------------------------------- train_classifier


def _spirals(rng: np.random.Generator) -> Data:
    from assignments.datasets import make_spirals

    x, y = make_spirals(250, 3, noise=0.1, seed=int(rng.integers(0, 1000)))
    perm = rng.permutation(len(x))
    val, test, train = perm[:150], perm[150:300], perm[300:]
    # y_test is withheld: the child predicts, this process counts the hits
    return {"x_train": x[train], "y_train": y[train], "x_val": x[val], "y_val": y[val],
            "x_test": x[test], "y_test": y[test],
            "settings": {"hidden": [64, 64], "epochs": 100, "lr": 3e-3, "batch_size": 32,
                         "seed": int(rng.integers(0, 1000))}}


def _predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        return model(torch.as_tensor(x, device=device)).argmax(dim=1).cpu().numpy()


def _run_classifier(module: ModuleType, inputs: Data) -> Data:
    with one_thread():
        if "split" in inputs:
            from assignments.datasets import load_digits

            x_train, y_train, x_val, y_val = load_digits(seed=inputs["split"])
        else:
            x_train, y_train = inputs["x_train"], inputs["y_train"]
            x_val, y_val = inputs["x_val"], inputs["y_val"]
        settings = dict(inputs["settings"])
        settings["hidden"] = tuple(settings["hidden"])
        model, history = module.train_classifier(x_train, y_train, x_val, y_val, **settings)
        answer = {"epochs": settings["epochs"], "keys": sorted(str(k) for k in history),
                  "lengths": [len(history[k]) for k in sorted(history)]}
        if "x_test" in inputs:
            answer["test_predictions"] = _predict(model, inputs["x_test"])
        else:
            answer["accuracy"] = float(np.mean(_predict(model, x_val) == y_val))
        return answer


def _classifier_check(limit: float) -> Check:
    def check(actual: Data, expected: Data) -> Verdict:
        if actual["keys"] != ["train_loss", "val_acc"]:
            return Verdict(False, f"history keys are {actual['keys']}, expected ['train_loss', 'val_acc']")
        if any(n != actual["epochs"] for n in actual["lengths"]):
            return Verdict(False, f"history lists have lengths {actual['lengths']}; expected one "
                                  f"value per epoch ({actual['epochs']})")
        if expected is not None:  # held-out labels the child never saw
            predictions = np.asarray(actual["test_predictions"])
            if predictions.shape != expected["y_test"].shape:
                return Verdict(False, f"{predictions.shape} predictions for "
                                      f"{expected['y_test'].shape} held-out points")
            accuracy = float(np.mean(predictions == expected["y_test"]))
        else:
            accuracy = actual["accuracy"]
        if not accuracy >= limit:
            return Verdict(False, f"held-out accuracy of the trained model is {accuracy:.1%}, "
                                  f"below {limit:.0%}: check shuffling, mini-batches, Adam and "
                                  "cross-entropy on logits (no softmax before the loss)")
        return Verdict(True)

    return check


# --------------------------------------------------------------- accuracy


def _accuracy_inputs(rng: np.random.Generator) -> Data:
    n, d, c = int(rng.integers(20, 60)), int(rng.integers(2, 8)), int(rng.integers(2, 6))
    return {"seed": int(rng.integers(0, 2**31)), "x": rng.normal(size=(n, d)).astype(np.float32),
            "y": labels(rng, n, c), "hidden": int(rng.integers(4, 17)), "c": c}


def _run_accuracy(module: ModuleType, inputs: Data) -> Data:
    model = _seeded_classifier(inputs["seed"], inputs["x"].shape[1], inputs["hidden"], inputs["c"])
    return float(module.accuracy(model, inputs["x"], inputs["y"]))


# --------------------------------------------------------------- the cases


# a row: (name, target, points, run, check, make_inputs, visible, description, **Case fields)
_case = partial(case, timeout=FAST)


PUBLIC_CASES: tuple[Case, ...] = (
    _case("make_mlp_relu", "make_mlp", 8, _run_make_mlp, _layout_check, _mlp_relu, True,
          "Layers of make_mlp with ReLU and no dropout: Linear, ReLU, …, Linear."),
    _case("count_parameters_linear", "count_parameters", 5, _run_count, _count_check, _count_plain,
          True, "Trainable parameters of a stack of Linear layers."),
    _case("train_step_regression", "train_step", 6, _run_train_step, _train_step_check,
          _step_regression, True, "Three SGD steps on a small regression net: losses and parameters."),
    _case("fit_function_sin", "fit_function", 8, _run_fit, _fit_check, _fit_sin, True,
          "fit_function(np.sin) with its defaults reaches a mean squared error below 1e-3 on [-π, π].",
          timeout=TRAINING, uses_reference=False),
    _case("train_classifier_spirals", "train_classifier", 8, _run_classifier,
          _classifier_check(SPIRALS_LIMIT),
          _spirals, True, "Three spirals (750 points): at least 95 % accuracy on 150 held-out points.",
          timeout=TRAINING, uses_reference=False, withheld=("y_test",)),
    _case("accuracy_value", "accuracy", 5, _run_accuracy, ACCURACY, _accuracy_inputs, True,
          "Accuracy of a small classifier on numpy inputs."),
)
