"""The losses reference against torch.nn.functional and torch.autograd.

API.md's reduction: sum over the non-batch axes, mean over N; so each torch loss is
taken with reduction="sum" and divided by N.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reference import losses as L

FAST = settings(max_examples=30, deadline=None)
NO_OVERFLOW = {"over": "raise", "divide": "raise", "invalid": "raise"}  # underflow to 0 is fine


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


shapes = st.one_of(st.tuples(st.integers(1, 8)), st.tuples(st.integers(1, 6), st.integers(1, 5)))


def array(shape: tuple[int, ...], lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=floats(lo, hi))


def leaf(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def torch_value_and_grad(fn, *arrays: np.ndarray) -> tuple[float, np.ndarray]:
    """fn(first as a leaf, the rest as constants) -> (value, d value / d first)."""
    first = leaf(arrays[0])
    out = fn(first, *(torch.from_numpy(a) for a in arrays[1:]))
    out.backward()
    return out.item(), first.grad.numpy()


def check(value, grad, expected_value, expected_grad, shape) -> None:
    assert isinstance(value, float) and math.isfinite(value)
    assert value == pytest.approx(expected_value, rel=1e-10, abs=1e-10)
    assert isinstance(grad, np.ndarray) and grad.shape == shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def unchanged(*arrays: np.ndarray):
    copies = [a.copy() for a in arrays]
    return lambda: all(np.array_equal(a, c) for a, c in zip(arrays, copies, strict=True))


# --------------------------------------------------------------- regression losses

REGRESSION = {
    "mse": (L.mse, L.mse_grad, lambda p, t: F.mse_loss(p, t, reduction="sum") / p.shape[0]),
    "l1": (L.l1, L.l1_grad, lambda p, t: F.l1_loss(p, t, reduction="sum") / p.shape[0]),
    "huber": (L.huber, L.huber_grad, lambda p, t: F.huber_loss(p, t, reduction="sum") / p.shape[0]),
}


@pytest.mark.parametrize("name", list(REGRESSION))
@FAST
@given(data=st.data(), shape=shapes, ties=st.booleans())
def test_regression_loss_matches_torch(name, data, shape, ties):
    loss, grad, torch_loss = REGRESSION[name]
    pred, target = data.draw(array(shape)), data.draw(array(shape))
    if ties:  # residual exactly 0: l1's gradient is 0 there, as torch's
        target.flat[::2] = pred.flat[::2]
    same = unchanged(pred, target)
    value, g = loss(pred, target), grad(pred, target)
    check(value, g, *torch_value_and_grad(torch_loss, pred, target), shape)
    assert same()


@FAST
@given(data=st.data(), shape=shapes, delta=floats(0.05, 5.0))
def test_huber_with_delta_matches_torch(data, shape, delta):
    pred, target = data.draw(array(shape)), data.draw(array(shape))
    target.flat[0] = pred.flat[0] + delta  # exactly at the threshold
    expected = torch_value_and_grad(
        lambda p, t: F.huber_loss(p, t, delta=delta, reduction="sum") / p.shape[0], pred, target)
    check(L.huber(pred, target, delta), L.huber_grad(pred, target, delta), *expected, shape)


def test_l1_is_robust_to_an_outlier_where_mse_is_not():
    target = np.zeros(10)
    pred = np.zeros(10)
    pred[0] = 100.0  # one outlier
    assert L.mse(pred, target) == pytest.approx(1000.0)
    assert L.l1(pred, target) == pytest.approx(10.0)
    assert np.abs(L.mse_grad(pred, target)).max() == pytest.approx(20.0)
    assert np.abs(L.l1_grad(pred, target)).max() == pytest.approx(0.1)  # bounded, whatever the outlier


# --------------------------------------------------------------- softmax and cross-entropy

logit_scale = st.sampled_from([1.0, 30.0, 1e4])


@FAST
@given(data=st.data(), n=st.integers(1, 6), c=st.integers(1, 6), scale=logit_scale)
def test_softmax_and_log_softmax_match_torch(data, n, c, scale):
    logits = data.draw(array((n, c), -scale, scale))
    same = unchanged(logits)
    with np.errstate(**NO_OVERFLOW):
        probs, log_probs = L.softmax(logits), L.log_softmax(logits)
    t = torch.from_numpy(logits)
    np.testing.assert_allclose(probs, F.softmax(t, dim=-1).numpy(), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(log_probs, F.log_softmax(t, dim=-1).numpy(), rtol=1e-10, atol=1e-10)
    assert np.all(np.isfinite(log_probs))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-12)
    assert same()


def test_softmax_works_on_a_single_row_of_any_rank():
    z = np.array([1e4, -1e4, 0.0])
    np.testing.assert_allclose(L.softmax(z), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(L.log_softmax(z), [0.0, -2e4, -1e4])
    cube = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(L.softmax(cube).sum(axis=-1), np.ones((2, 3)))


@FAST
@given(data=st.data(), n=st.integers(1, 6), c=st.integers(2, 6), scale=logit_scale)
def test_cross_entropy_matches_torch(data, n, c, scale):
    logits = data.draw(array((n, c), -scale, scale))
    labels = data.draw(arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    labels[0] = data.draw(st.sampled_from([0, c - 1]))  # the class boundary
    same = unchanged(logits, labels)
    with np.errstate(**NO_OVERFLOW):
        value, grad = L.cross_entropy(logits, labels), L.cross_entropy_grad(logits, labels)
    expected = torch_value_and_grad(lambda z, y: F.cross_entropy(z, y), logits, labels)
    check(value, grad, *expected, (n, c))
    assert same()


@FAST
@given(data=st.data(), shape=shapes, scale=logit_scale)
def test_binary_cross_entropy_with_logits_matches_torch(data, shape, scale):
    logits, targets = data.draw(array(shape, -scale, scale)), data.draw(array(shape, 0.0, 1.0))
    same = unchanged(logits, targets)
    with np.errstate(**NO_OVERFLOW):
        value = L.binary_cross_entropy_with_logits(logits, targets)
        grad = L.binary_cross_entropy_with_logits_grad(logits, targets)
    expected = torch_value_and_grad(
        lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="sum") / z.shape[0],
        logits, targets)
    check(value, grad, *expected, shape)
    assert same()


def test_binary_cross_entropy_at_extreme_logits_is_exact():
    logits = np.array([1e4, -1e4, 1e4, -1e4])
    targets = np.array([1.0, 0.0, 0.0, 1.0])  # right, right, wrong, wrong
    assert L.binary_cross_entropy_with_logits(logits, targets) == pytest.approx(2e4 / 4)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(logits, targets),
                               [0.0, 0.0, 0.25, -0.25])


# --------------------------------------------------------------- Gaussian negative log-likelihood


def torch_gaussian_nll(mean, target, var):
    return F.gaussian_nll_loss(mean, target, var, full=True, reduction="sum") / mean.shape[0]


@FAST
@given(data=st.data(), shape=shapes, scalar_var=st.booleans())
def test_gaussian_nll_matches_torch(data, shape, scalar_var):
    mean, target = data.draw(array(shape)), data.draw(array(shape))
    var = data.draw(floats(0.01, 10.0)) if scalar_var else data.draw(array(shape, 0.01, 10.0))
    same = unchanged(mean, target, *([] if scalar_var else [var]))

    tmean, tvar = leaf(mean), leaf(var)
    tvar_full = tvar.expand(shape) if scalar_var else tvar
    tloss = torch_gaussian_nll(tmean, torch.from_numpy(target), tvar_full)
    tloss.backward()

    value = L.gaussian_nll(mean, target, var)
    dmean, dvar = L.gaussian_nll_grad(mean, target, var)
    check(value, dmean, tloss.item(), tmean.grad.numpy(), shape)
    if scalar_var:
        assert isinstance(dvar, float)
        assert dvar == pytest.approx(tvar.grad.item(), rel=1e-9, abs=1e-12)
    else:
        assert dvar.shape == shape
        np.testing.assert_allclose(dvar, tvar.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert same()


def test_gaussian_nll_default_var_is_half_mse_plus_a_constant():
    rng = np.random.default_rng(0)
    mean, target = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    constant = 3 * 0.5 * math.log(2 * math.pi)  # D = 3 elements per row
    assert L.gaussian_nll(mean, target) == pytest.approx(L.mse(mean, target) / 2 + constant)
    dmean, dvar = L.gaussian_nll_grad(mean, target)
    np.testing.assert_allclose(dmean, L.mse_grad(mean, target) / 2)
    assert isinstance(dvar, float)
