"""Harness of assignment 5, mlp: build models and data with plain torch, call the student's
function, and report layouts, losses, parameters, and trained networks as weights (the
trusted process runs them itself on data the child never saw)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from grader.sandbox.harness import Data
from grader.sandbox.harness._common import (
    in_both_modes,
    load_linear_weights,
    network_rows,
    one_thread,
)

__all__ = ["accuracy", "accuracy_modes", "bad_activation", "classifier", "count", "fit",
           "history", "make_mlp", "train_step"]


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


def _flat_params(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.parameters()]).astype(
        np.float64)


def _seeded_classifier(seed: int, d: int, h: int, c: int, dropout: float = 0.0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(d, h), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(h, c))


def make_mlp(module: ModuleType, inputs: Data) -> Data:
    kwargs = {k: inputs[k] for k in ("activation", "dropout") if inputs[k] is not None}
    return _layout(module.make_mlp(inputs["in_dim"], list(inputs["hidden"]), inputs["out_dim"], **kwargs))


def count(module: ModuleType, inputs: Data) -> Data:
    """Plain: Linear layers. Tricky: the first layer frozen, a bias-free layer, and a BatchNorm
    (its running statistics are buffers, not parameters)."""
    w = inputs["widths"]
    layers: list[nn.Module] = [nn.Linear(w[i], w[i + 1]) for i in range(len(w) - 1)]
    if inputs["tricky"]:
        layers[0].requires_grad_(False)
        layers = [layers[0], nn.BatchNorm1d(w[1]), nn.Linear(w[1], w[2], bias=False), *layers[2:]]
    return int(module.count_parameters(nn.Sequential(*layers)))


def train_step(module: ModuleType, inputs: Data) -> Data:
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


def _target(a: float, b: float, c: float):
    return lambda x: a * np.sin(b * np.asarray(x)) + c * np.asarray(x) / np.pi


def fit(module: ModuleType, inputs: Data) -> Data:
    with one_thread():
        fn = _target(inputs["a"], inputs["b"], inputs["c"])
        model, mse = module.fit_function(fn, hidden=inputs["hidden"], steps=inputs["steps"],
                                         seed=inputs["seed"])
        return {"mse": float(mse), "network": network_rows(model)}


def classifier(module: ModuleType, inputs: Data) -> Data:
    with one_thread():
        settings = dict(inputs["settings"])
        settings["hidden"] = tuple(settings["hidden"])
        model, history = module.train_classifier(inputs["x_train"], inputs["y_train"],
                                                 inputs["x_val"], inputs["y_val"], **settings)
        return {"epochs": settings["epochs"], "keys": sorted(str(k) for k in history),
                "lengths": [len(history[k]) for k in sorted(history)], "network": network_rows(model)}


def accuracy(module: ModuleType, inputs: Data) -> Data:
    model = _seeded_classifier(inputs["seed"], inputs["x"].shape[1], inputs["hidden"], inputs["c"])
    return float(module.accuracy(model, inputs["x"], inputs["y"]))


def bad_activation(module: ModuleType, inputs: Data) -> Data:
    """The unknown names' outcomes, after one valid name: raising ValueError earns the points
    only from a make_mlp that builds a model when asked for a known activation (a function
    that always raises, or an untouched stub, does not). NotImplementedError is left to
    propagate, so a stub reads "not implemented"."""
    valid = inputs["valid"]
    try:
        model = module.make_mlp(3, [4], 2, activation=valid)
        outcomes = [[valid, "model" if isinstance(model, nn.Module) else type(model).__name__]]
    except NotImplementedError:
        raise
    except Exception as exc:  # the valid name must build; said by the check
        outcomes = [[valid, type(exc).__name__]]
    for name in inputs["names"]:
        try:
            module.make_mlp(3, [4], 2, activation=name)
            outcomes.append([name, "no error"])
        except NotImplementedError:
            raise
        except ValueError:
            outcomes.append([name, "ValueError"])
        except Exception as exc:  # a wrong exception type is a wrong answer, not a crash
            outcomes.append([name, type(exc).__name__])
    return outcomes


def history(module: ModuleType, inputs: Data) -> Data:
    """Three short runs: the same seed twice, then another seed."""
    with one_thread():
        data = (inputs["x_train"], inputs["y_train"], inputs["x_val"], inputs["y_val"])
        runs = []
        for seed in (inputs["seed"], inputs["seed"], inputs["seed"] + 1):
            _, history = module.train_classifier(*data, hidden=(16,), epochs=4, lr=1e-2,
                                                 batch_size=16, seed=seed)
            runs.append({str(k): [float(v) for v in history[k]] for k in history})
        return runs


def accuracy_modes(module: ModuleType, inputs: Data) -> Data:
    """A dropout model given the trusted process's weights, measured after being put in
    train mode, then in eval mode: the hook records and the accuracy returned. The trusted
    process knows the weights and the labels, so it knows the eval-mode accuracy itself."""
    x = inputs["x"]
    model = _seeded_classifier(inputs["seed"], x.shape[1], inputs["hidden"], inputs["c"], dropout=0.5)
    load_linear_weights(model, inputs["weights"])
    y = torch.from_numpy(inputs["y"])
    runs = in_both_modes(model, lambda: float(module.accuracy(model, torch.from_numpy(x), y)))
    return [{"start_train": start, "calls": calls, "value": value, "after_train": after}
            for start, calls, value, after in runs]
