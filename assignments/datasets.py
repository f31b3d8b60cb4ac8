"""Small data sets for the torch assignments (given: complete, not graded).

Every function returns numpy arrays — inputs ``x`` as float32, class labels as
int64 — and is deterministic for a given ``seed``. Nothing is downloaded: the
digits ship inside scikit-learn.

    make_spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0) -> (x, y)
    load_digits(seed=0) -> (x_train, y_train, x_test, y_test)
    make_regression_1d(fn, n, seed=0) -> (x, y)

Turn them into tensors with ``torch.from_numpy(x)`` (shares memory) or
``torch.as_tensor(x)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DIGITS_TEST_FRACTION = 0.25


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms in the plane (CS231n's toy problem): not linearly separable.

    Arm k has n_per_class points at radius r from 0 to 1 and angle
    θ = 4k + 4r + noise·N(0, 1) (radians), i.e. (r·sin θ, r·cos θ).

    Returns x: float32 (n_classes·n_per_class, 2), y: int64 (n_classes·n_per_class,)
    with labels 0 … n_classes − 1, ordered by class (shuffle before mini-batching).
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError("n_per_class and n_classes must be at least 1")
    if noise < 0:
        raise ValueError("noise must be >= 0")
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    theta = 4.0 * y + 4.0 * r + noise * rng.standard_normal(r.shape)
    x = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return x.astype(np.float32), y


def load_digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8×8 handwritten digits shipped inside scikit-learn (1 797 images, 10 classes).

    Each image is flattened to 64 pixels and scaled from 0…16 to [0, 1]. A fixed split
    chosen by ``seed`` holds out 25 % for testing, stratified by class.

    Returns x_train float32 (1347, 64), y_train int64 (1347,),
            x_test float32 (450, 64),   y_test int64 (450,).
    """
    from sklearn.datasets import load_digits as sklearn_digits  # imported here: sklearn is slow
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, random_state=seed, stratify=y)
    return x_train, y_train, x_test, y_test


def make_regression_1d(fn: Callable[[np.ndarray], np.ndarray], n: int, seed: int = 0,
                       x_range: tuple[float, float] = (-np.pi, np.pi),
                       noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Samples of a function of one variable, for regression.

    fn: a numpy function of an array (``np.sin``, ``lambda x: x**2``), applied elementwise.
    x: n points drawn uniformly from x_range; y = fn(x) + noise·N(0, 1).

    Returns x, y: float32 arrays of shape (n, 1) — a batch of n one-dimensional samples,
    ready for ``nn.Linear(1, ...)``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    lo, hi = x_range
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, size=(n, 1))
    y = np.asarray(fn(x), dtype=np.float64).reshape(n, 1)
    y = y + noise * rng.standard_normal(y.shape)
    return x.astype(np.float32), y.astype(np.float32)
