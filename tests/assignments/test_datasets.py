"""The given data sets: shapes, dtypes, ranges, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from assignments import datasets as ds


def test_spirals_shapes_dtypes_labels():
    x, y = ds.make_spirals(50, 4, noise=0.1, seed=3)
    assert x.shape == (200, 2) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50, 50]
    assert np.all(np.linalg.norm(x, axis=1) <= 1.0 + 1e-6)  # radius runs from 0 to 1


@pytest.mark.parametrize("make", [ds.make_spirals, ds.load_digits], ids=lambda f: f.__name__)
def test_the_seed_decides_the_data(make):
    a, b, c = make(seed=1), make(seed=1), make(seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_spirals_without_noise_follow_the_arms():
    x, y = ds.make_spirals(20, 3, noise=0.0)
    r = np.linspace(0, 1, 20)
    theta = 4.0 * 1 + 4.0 * r
    np.testing.assert_allclose(x[y == 1], np.stack([r * np.sin(theta), r * np.cos(theta)], 1),
                               atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"n_per_class": 0}, {"n_classes": 0}, {"noise": -1.0}])
def test_spirals_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ds.make_spirals(**kwargs)


def test_digits_split():
    x_tr, y_tr, x_te, y_te = ds.load_digits()
    assert x_tr.shape == (1347, 64) and x_te.shape == (450, 64)
    assert x_tr.dtype == np.float32 and y_tr.dtype == np.int64 and y_te.dtype == np.int64
    assert x_tr.min() >= 0.0 and x_tr.max() == 1.0 and x_te.max() <= 1.0
    assert set(np.unique(y_tr)) == set(range(10)) == set(np.unique(y_te))
    # a partition: train + test together are exactly the 1 797 images, each once
    from sklearn.datasets import load_digits

    x_all, y_all = load_digits(return_X_y=True)
    ours = np.concatenate([np.concatenate([x_tr, x_te]) * 16, np.concatenate([y_tr, y_te])[:, None]], 1)
    theirs = np.concatenate([x_all, y_all[:, None]], 1)
    np.testing.assert_array_equal(np.unique(ours, axis=0, return_counts=True)[1],
                                  np.unique(theirs, axis=0, return_counts=True)[1])
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))


def test_digits_seed_changes_split_only():
    a, c = ds.load_digits(seed=0), ds.load_digits(seed=1)
    assert len(a[0]) + len(a[2]) == len(c[0]) + len(c[2]) == 1797


def test_regression_1d():
    x, y = ds.make_regression_1d(np.sin, 100, seed=5)
    assert x.shape == y.shape == (100, 1)
    assert x.dtype == y.dtype == np.float32
    assert x.min() >= -np.pi and x.max() <= np.pi
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)
    x2, _ = ds.make_regression_1d(np.sin, 100, seed=5)
    np.testing.assert_array_equal(x, x2)


def test_regression_1d_range_and_noise():
    x, y = ds.make_regression_1d(lambda t: t**2, 500, seed=0, x_range=(0.0, 2.0), noise=0.1)
    assert x.min() >= 0.0 and x.max() <= 2.0
    residual = y - x**2
    assert 0.05 < residual.std() < 0.2
    with pytest.raises(ValueError):
        ds.make_regression_1d(np.sin, 0)
