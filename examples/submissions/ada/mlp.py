"""Assignment 5, multi-layer perceptrons: ada's submission."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from assignments.datasets import make_regression_1d

ACTIVATIONS = ("relu", "sigmoid", "tanh")
FIT_SAMPLES = 256  # training points of fit_function
GRID_POINTS = 1000  # evaluation grid of fit_function

_ACTIVATION_LAYERS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def make_mlp(in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "relu",
             dropout: float = 0.0) -> nn.Sequential:
    """A multi-layer perceptron as an ``nn.Sequential``.

    For each width h in ``hidden`` (in order): ``nn.Linear(previous, h)``, the activation
    (``nn.ReLU()``, ``nn.Sigmoid()`` or ``nn.Tanh()``), and ``nn.Dropout(dropout)`` only
    when dropout > 0. Then a last ``nn.Linear(previous, out_dim)`` with no activation
    (its outputs are logits or regression values). ``hidden=()`` gives a single Linear.

    Example: make_mlp(2, [16, 8], 3, "tanh", 0.1) is
        Linear(2, 16), Tanh, Dropout(0.1), Linear(16, 8), Tanh, Dropout(0.1), Linear(8, 3)

    Raises ValueError for an activation other than "relu", "sigmoid", "tanh".
    """
    if activation not in _ACTIVATION_LAYERS:
        raise ValueError(f"unknown activation {activation!r}; choose from {ACTIVATIONS}")
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), _ACTIVATION_LAYERS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_dim))  # no activation: logits / regression values
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars: the sum of ``p.numel()`` over the parameters that
    have ``requires_grad`` (frozen parameters do not count)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
               optimizer: torch.optim.Optimizer) -> float:
    """One step of the algorithm on one batch.

    Zero the gradients, forward ``loss = loss_fn(model(x), y)``, backward, then
    ``optimizer.step()``. Returns the loss as a Python float — the loss *before* the
    step, i.e. of the parameters the forward pass used.
    """
    optimizer.zero_grad()  # torch accumulates into .grad
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def fit_function(fn: Callable[[np.ndarray], np.ndarray], hidden: int = 64, steps: int = 3000,
                 lr: float = 1e-2, seed: int = 0,
                 x_range: tuple[float, float] = (-math.pi, math.pi)) -> tuple[nn.Module, float]:
    """Fit a one-hidden-layer network to ``fn`` on ``x_range``: universal approximation at work.

    fn: a numpy function of an array, e.g. ``np.sin``.
    1. ``torch.manual_seed(seed)``.
    2. Training data: ``x, y = make_regression_1d(fn, FIT_SAMPLES, seed=seed, x_range=x_range)``
       (float32, shape (256, 1)) as tensors.
    3. ``model = make_mlp(1, [hidden], 1, activation="tanh")``.
    4. ``steps`` full-batch ``train_step`` calls with ``nn.MSELoss()`` and
       ``torch.optim.Adam(model.parameters(), lr=lr)``, on the lecture's step schedule:
       ``torch.optim.lr_scheduler.MultiStepLR(optimizer, [steps // 2, 3 * steps // 4], 0.1)``,
       stepped after every step (lr/10 from half-way, lr/100 from 75 %: without it Adam's
       steps stay large and the fit jitters instead of settling).
    5. mse: the mean squared error between ``model(grid)`` and ``fn(grid)`` on
       ``GRID_POINTS`` evenly spaced points of x_range (``np.linspace``), computed
       without gradient tracking.

    Returns (model, mse) with mse a Python float.
    """
    torch.manual_seed(seed)
    x, y = (torch.from_numpy(a) for a in
            make_regression_1d(fn, FIT_SAMPLES, seed=seed, x_range=x_range))
    model = make_mlp(1, [hidden], 1, activation="tanh")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [steps // 2, 3 * steps // 4], 0.1)
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        train_step(model, x, y, loss_fn, optimizer)
        schedule.step()
    grid = np.linspace(x_range[0], x_range[1], GRID_POINTS).reshape(-1, 1)
    target = torch.as_tensor(np.asarray(fn(grid), dtype=np.float32).reshape(-1, 1))
    with torch.no_grad():
        mse = loss_fn(model(torch.as_tensor(grid, dtype=torch.float32)), target).item()
    return model, mse


def train_classifier(x_train, y_train, x_val, y_val, hidden: Sequence[int] = (128,),
                     epochs: int = 30, lr: float = 1e-3, batch_size: int = 64,
                     seed: int = 0) -> tuple[nn.Module, dict[str, list[float]]]:
    """Train an MLP classifier with Adam and cross-entropy, mini-batch by mini-batch.

    x_*: float32 (N, D); y_*: int64 (N,) with labels 0 … C−1 (numpy or tensors).
    1. ``torch.manual_seed(seed)``; C = 1 + the largest label in y_train and y_val.
    2. ``model = make_mlp(D, hidden, C)`` (ReLU, no dropout),
       ``torch.optim.Adam(model.parameters(), lr=lr)``, ``nn.CrossEntropyLoss()``.
    3. Each epoch: shuffle the training set with ``torch.randperm(N, generator=g)``, where
       g is one ``torch.Generator`` seeded with ``seed`` for the whole run; take
       mini-batches of ``batch_size`` in that order (the last may be smaller) and call
       ``train_step`` on each. Then record
         history["train_loss"]: the epoch's mean loss per sample (batch losses weighted
                                by batch size),
         history["val_acc"]:    ``accuracy(model, x_val, y_val)``.

    Returns (model, history), history = {"train_loss": [...], "val_acc": [...]} with one
    float per epoch. The defaults suit the digits; other data may need other settings.
    """
    torch.manual_seed(seed)
    x_train, y_train = _as_tensors(x_train, y_train)
    num_classes = 1 + int(max(y_train.max(), torch.as_tensor(y_val).max()))
    model = make_mlp(x_train.shape[1], hidden, num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"train_loss": [], "val_acc": []}
    n = len(x_train)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            total += train_step(model, x_train[batch], y_train[batch], loss_fn, optimizer) * len(batch)
        history["train_loss"].append(total / n)
        history["val_acc"].append(accuracy(model, x_val, y_val))
    return model, history


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction of samples whose predicted class (argmax of the logits) equals y.

    x: float32 (N, D), y: int64 (N,), numpy or tensors; both go to the device of the
    model's parameters. Runs in eval mode (dropout off) and under ``torch.no_grad()``;
    afterwards the model is back in the mode it was in (train or eval). Returns a float
    in [0, 1].
    """
    device = next(model.parameters()).device
    x, y = _as_tensors(x, y, device)
    was_training = model.training
    model.eval()  # dropout off
    try:
        with torch.no_grad():  # no graph: evaluation needs no gradients
            predicted = model(x).argmax(dim=1)
    finally:
        model.train(was_training)
    return (predicted == y).float().mean().item()


def _as_tensors(x, y, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """numpy arrays or tensors -> float32 inputs and int64 labels on device."""
    x = torch.as_tensor(x, dtype=torch.float32, device=device)
    y = torch.as_tensor(y, dtype=torch.int64, device=device)
    return x, y
