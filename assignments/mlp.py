"""Assignment 5 — multi-layer perceptrons in torch.

The lesson
----------
A linear layer ``h = W x + b`` maps one vector space into another. Stacking linear
layers buys nothing: ``W2 (W1 x + b1) + b2`` is again one linear map. What makes depth
useful is a **nonlinearity** between the layers — ReLU ``max(0, x)``, sigmoid (squashes
to (0, 1)) or tanh (squashes to (−1, 1)). Which one works best depends on the problem;
choosing is engineering judgement, not theory. Linear, activation, linear, activation,
…, linear: that stack is the **multi-layer perceptron (MLP)**.

**Universal approximation** (Hornik, Stinchcombe and White, "Multilayer feedforward
networks are universal approximators", 1989): a network with a *single* hidden layer
and enough units approximates any measurable function to any desired accuracy on a
compact set. ``fit_function`` below shows it at work on a one-dimensional function.
The caution from the lecture matters as much as the theorem: it only says such a
network *exists*. It says nothing about how many units are enough, nor that gradient
descent will find those weights — existence is not a recipe. (Try
``fit_function(lambda x: np.sin(5 * x), hidden=4)``, or ``steps=50``, and watch the
error stay large.)

Training is the four components put together — data (mini-batches), model (the MLP),
loss (MSE for regression, cross-entropy for classification), algorithm (an optimizer
such as Adam). One step of the algorithm is always the same four lines: zero the old
gradients (torch *accumulates* into ``.grad``), forward, backward, step.

**Dropout** zeroes random activations while training so units cannot rely on each
other; at test time it must be off. ``model.train()`` / ``model.eval()`` switch every
such layer, and evaluation also runs under ``torch.no_grad()`` so no graph is built.
A function that evaluates a model must leave it in the mode it found it in.

The contract
------------
float32 throughout; inputs may be numpy arrays or tensors (``torch.as_tensor``
converts both); class labels are int64 of shape (N,). The data sets are in
``assignments/datasets.py``. Every function that takes ``seed`` calls
``torch.manual_seed(seed)`` first, so the same seed gives the same model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from assignments.datasets import make_regression_1d  # noqa: F401  (fit_function's training data)

ACTIVATIONS = ("relu", "sigmoid", "tanh")
FIT_SAMPLES = 256  # training points of fit_function
GRID_POINTS = 1000  # evaluation grid of fit_function


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
    raise NotImplementedError


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars: the sum of ``p.numel()`` over the parameters that
    have ``requires_grad`` (frozen parameters do not count)."""
    raise NotImplementedError


def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
               optimizer: torch.optim.Optimizer) -> float:
    """One step of the algorithm on one batch.

    Zero the gradients, forward ``loss = loss_fn(model(x), y)``, backward, then
    ``optimizer.step()``. Returns the loss as a Python float — the loss *before* the
    step, i.e. of the parameters the forward pass used.
    """
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError


def accuracy(model: nn.Module, x, y) -> float:
    """Fraction of samples whose predicted class (argmax of the logits) equals y.

    x: float32 (N, D), y: int64 (N,), numpy or tensors; both go to the device of the
    model's parameters. Runs in eval mode (dropout off) and under ``torch.no_grad()``;
    afterwards the model is back in the mode it was in (train or eval). Returns a float
    in [0, 1].
    """
    raise NotImplementedError
