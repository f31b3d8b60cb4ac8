"""The backprop reference against torch.autograd, on hypothesis-generated shapes and values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from reference import backprop as bp

FAST = settings(max_examples=30, deadline=None)
RTOL, ATOL = 1e-10, 1e-12


def floats(bound: float) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def vector(n: int, bound: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, (n,), elements=floats(bound))


def matrix(rows: int, cols: int, bound: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, (rows, cols), elements=floats(bound))


def leaf(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def close(actual, expected: torch.Tensor | float) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def snapshot(*arrays: np.ndarray) -> list[np.ndarray]:
    return [a.copy() for a in arrays]


def assert_unchanged(arrays: tuple[np.ndarray, ...], copies: list[np.ndarray]) -> None:
    for a, c in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, c)


# --------------------------------------------------------------- linear regression


@FAST
@given(data=st.data(), n=st.integers(1, 20), w=floats(5), b=floats(5))
def test_linear_regression_grads_match_autograd(data, n, w, b):
    x, y = data.draw(vector(n)), data.draw(vector(n))
    before = snapshot(x, y)
    dw, db = bp.linear_regression_grads(x, y, w, b)

    tw, tb = leaf(w), leaf(b)
    loss = ((torch.from_numpy(y) - (tw * torch.from_numpy(x) + tb)) ** 2).mean()
    loss.backward()
    assert isinstance(dw, float) and isinstance(db, float)
    np.testing.assert_allclose([dw, db], [tw.grad.item(), tb.grad.item()], rtol=1e-9, atol=1e-9)
    assert_unchanged((x, y), before)


@FAST
@given(data=st.data(), n=st.integers(1, 12), steps=st.integers(1, 40), lr=st.floats(0.01, 0.2))
def test_fit_linear_regression_is_torch_gradient_descent(data, n, steps, lr):
    # |x| <= 1 keeps the Hessian's largest eigenvalue <= 4, so lr <= 0.2 descends monotonically
    x, y = data.draw(vector(n, 1.0)), data.draw(vector(n, 5.0))
    before = snapshot(x, y)
    w, b, losses = bp.fit_linear_regression(x, y, lr=lr, steps=steps)

    tw, tb = leaf(0.0), leaf(0.0)
    sgd = torch.optim.SGD([tw, tb], lr=lr)
    torch_losses = []
    for _ in range(steps):
        sgd.zero_grad()
        loss = ((torch.from_numpy(y) - (tw * torch.from_numpy(x) + tb)) ** 2).mean()
        torch_losses.append(loss.item())
        loss.backward()
        sgd.step()

    assert len(losses) == steps
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([w, b], [tw.item(), tb.item()], rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(losses) <= 1e-12), "gradient descent with a small step must not go uphill"
    assert losses[0] == pytest.approx(float(np.mean(y**2)))  # w = b = 0 before the first update
    assert_unchanged((x, y), before)


def test_fit_linear_regression_reaches_least_squares():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 50)
    y = 3.0 * x - 0.5 + 0.1 * rng.normal(size=50)
    w, b, losses = bp.fit_linear_regression(x, y, lr=0.3, steps=2000)
    slope, intercept = np.polyfit(x, y, 1)
    assert (w, b) == (pytest.approx(slope, rel=1e-6), pytest.approx(intercept, abs=1e-6))
    assert len(losses) == 2000 and losses[-1] < losses[0]


# --------------------------------------------------------------- layers


@FAST
@given(data=st.data(), n=st.integers(1, 6), d=st.integers(1, 6), m=st.integers(1, 6))
def test_affine_matches_autograd(data, n, d, m):
    x, W, b = data.draw(matrix(n, d)), data.draw(matrix(d, m)), data.draw(vector(m))
    dout = data.draw(matrix(n, m))
    before = snapshot(x, W, b, dout)
    out, cache = bp.affine_forward(x, W, b)
    dx, dW, db = bp.affine_backward(dout, cache)

    tx, tW, tb = leaf(x), leaf(W), leaf(b)
    tout = tx @ tW + tb
    tout.backward(torch.from_numpy(dout))
    close(out, tout)
    close(dx, tx.grad)
    close(dW, tW.grad)
    close(db, tb.grad)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)
    assert_unchanged((x, W, b, dout), before)


ACTIVATIONS = {
    "relu": (bp.relu_forward, bp.relu_backward, torch.relu),
    "sigmoid": (bp.sigmoid_forward, bp.sigmoid_backward, torch.sigmoid),
    "tanh": (bp.tanh_forward, bp.tanh_backward, torch.tanh),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@FAST
@given(data=st.data(), shape=array_shapes(min_dims=1, max_dims=3, max_side=5))
def test_activation_matches_autograd(name, data, shape):
    forward, backward, torch_fn = ACTIVATIONS[name]
    # |x| up to 1e4 for the overflow cases; exact zeros for relu's kink (gradient 0 there)
    x = data.draw(arrays(np.float64, shape, elements=st.one_of(floats(1e4), floats(5), st.just(0.0))))
    dout = data.draw(arrays(np.float64, shape, elements=floats(10)))
    before = snapshot(x, dout)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # no overflow, not even a warning
        out, cache = forward(x)
        dx = backward(dout, cache)

    tx = leaf(x)
    tout = torch_fn(tx)
    tout.backward(torch.from_numpy(dout))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    close(out, tout)
    close(dx, tx.grad)
    assert out.shape == dx.shape == x.shape
    assert_unchanged((x, dout), before)


def test_relu_gradient_is_zero_at_zero():
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = bp.relu_forward(x)
    np.testing.assert_array_equal(bp.relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


# --------------------------------------------------------------- loss and network


def labels_for(n: int, c: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.int64, (n,), elements=st.integers(0, c - 1))


@FAST
@given(data=st.data(), n=st.integers(1, 8), c=st.integers(2, 6), scale=st.sampled_from([1.0, 50.0, 1e4]))
def test_softmax_cross_entropy_matches_torch(data, n, c, scale):
    logits = data.draw(matrix(n, c, scale))
    labels = data.draw(labels_for(n, c))
    before = snapshot(logits, labels)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dlogits = bp.softmax_cross_entropy(logits, labels)

    tlogits = leaf(logits)
    tloss = F.cross_entropy(tlogits, torch.from_numpy(labels))
    tloss.backward()
    assert isinstance(loss, float) and np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert loss == pytest.approx(tloss.item(), rel=1e-10, abs=1e-10)
    close(dlogits, tlogits.grad)
    assert_unchanged((logits, labels), before)


def random_params(rng: np.random.Generator, d: int, h: int, c: int) -> dict[str, np.ndarray]:
    return {"W1": rng.normal(size=(d, h)), "b1": rng.normal(size=h),
            "W2": rng.normal(size=(h, c)), "b2": rng.normal(size=c)}


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), d=st.integers(1, 5),
       h=st.integers(1, 6), c=st.integers(2, 5))
def test_two_layer_net_matches_autograd(seed, n, d, h, c):
    rng = np.random.default_rng(seed)
    params = random_params(rng, d, h, c)
    x, labels = rng.normal(size=(n, d)), rng.integers(0, c, n)
    before = {k: v.copy() for k, v in params.items()}
    loss, grads = bp.two_layer_net(params, x, labels)

    t = {k: leaf(v) for k, v in params.items()}
    scores = torch.relu(torch.from_numpy(x) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    tloss = F.cross_entropy(scores, torch.from_numpy(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-10)
    assert set(grads) == set(params)
    for k in params:
        assert grads[k].shape == params[k].shape
        close(grads[k], t[k].grad)
        np.testing.assert_array_equal(params[k], before[k])


# --------------------------------------------------------------- numerical gradient


@FAST
@given(seed=st.integers(0, 2**32 - 1), shape=array_shapes(min_dims=1, max_dims=2, max_side=4))
def test_numerical_gradient_of_a_quadratic_form(seed, shape):
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    A, c = rng.normal(size=(size, size)), rng.normal(size=size)
    x = rng.normal(size=shape)
    original = x.copy()

    def f(z: np.ndarray) -> float:
        v = z.ravel()
        return float(0.5 * v @ A @ v + c @ v)

    grad = bp.numerical_gradient(f, x)
    analytic = (0.5 * (A + A.T) @ original.ravel() + c).reshape(shape)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, analytic, rtol=1e-7, atol=1e-7)
    assert np.array_equal(x, original) and x.tobytes() == original.tobytes()


def test_numerical_gradient_checks_two_layer_net_through_a_closure():
    """The CS231n way: f ignores its argument and reads the perturbed weights by reference."""
    rng = np.random.default_rng(1)
    params = random_params(rng, 4, 5, 3)
    x, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    _, grads = bp.two_layer_net(params, x, labels)
    for key in params:
        numeric = bp.numerical_gradient(lambda _: bp.two_layer_net(params, x, labels)[0], params[key])
        rel = np.abs(numeric - grads[key]) / np.maximum(1e-8, np.abs(numeric) + np.abs(grads[key]))
        assert rel.max() < 1e-6, key


def test_numerical_gradient_honours_h_and_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    # central differences of x³ are exact up to h²: 3x² + h²
    np.testing.assert_allclose(bp.numerical_gradient(lambda z: float(np.sum(z**3)), x, h=0.1),
                               3 * x**2 + 0.01, rtol=1e-9)

    def explode(z: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        bp.numerical_gradient(explode, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
