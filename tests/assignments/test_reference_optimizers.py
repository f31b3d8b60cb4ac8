"""The reference optimizers against torch.optim: same hyperparameters, same trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference import optimizers as opt

STEPS = 200
TOL = 1e-10

# (our class, torch factory, hyperparameter sets); each set runs with weight decay off and on.
CASES = [
    (opt.SGD, lambda ps, **h: torch.optim.SGD(ps, **h),
     [{"lr": 1e-3}, {"lr": 3e-4}]),
    (opt.Momentum, lambda ps, momentum=0.9, **h: torch.optim.SGD(ps, momentum=momentum, **h),
     [{"lr": 2e-4}, {"lr": 1e-4, "momentum": 0.5}]),
    (opt.NAG, lambda ps, momentum=0.9, **h: torch.optim.SGD(ps, momentum=momentum,
                                                            nesterov=True, **h),
     [{"lr": 2e-4}, {"lr": 1e-4, "momentum": 0.5}]),
    (opt.Adagrad, lambda ps, **h: torch.optim.Adagrad(ps, **h),
     [{}, {"lr": 0.1, "eps": 1e-3}]),
    (opt.Adadelta, lambda ps, **h: torch.optim.Adadelta(ps, **h),
     [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4}]),
    (opt.RMSprop, lambda ps, **h: torch.optim.RMSprop(ps, **h),
     [{}, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-4}]),
    (opt.Adam, lambda ps, **h: torch.optim.Adam(ps, **h),
     [{}, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-4}]),
    (opt.AdamW, lambda ps, **h: torch.optim.AdamW(ps, **h),
     [{}, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-4}]),
]


def _params_for(weight_decay: bool, cls: type) -> list[dict]:
    """Weight decay off and on; AdamW's default is on (0.01), so 'off' is an explicit 0."""
    return [{"weight_decay": 0.05}] if weight_decay else [{"weight_decay": 0.0}]


def _quadratic(seed: int):
    """f(ps) = Σ ½ vec(p)ᵀ A vec(p) + b·vec(p) over two parameters of different shapes.

    The minimum lies far from the start, so no gradient component hovers around zero:
    there the sign-like steps of RMSprop/Adam would amplify rounding differences (torch
    fuses multiply-adds in its vector kernels) far beyond the tolerance.
    """
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,)]
    mats = []
    for shape in shapes:
        n = int(np.prod(shape))
        q = rng.normal(size=(n, n))
        mats.append((q @ q.T / n + 0.1 * np.eye(n), 20 * rng.normal(size=n)))
    x0 = [rng.normal(size=s) for s in shapes]

    def grads(ps):
        return [(a @ p.ravel() + b).reshape(p.shape) for p, (a, b) in zip(ps, mats, strict=True)]

    return x0, grads


def _rosenbrock(seed: int):
    rng = np.random.default_rng(seed)
    x0 = [np.array([-1.2, 1.0]) + rng.uniform(-0.2, 0.2, size=2)]

    def grads(ps):
        x, y = ps[0]
        return [np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])]

    return x0, grads


def _run_both(cls, torch_factory, hyper, problem):
    x0, grads = problem
    ours = [p.copy() for p in x0]
    theirs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in x0]
    o = cls(ours, **hyper)
    t = torch_factory(theirs, **hyper)
    for _ in range(STEPS):
        o.step(grads(ours))
        for tp, g in zip(theirs, grads([tp.detach().numpy() for tp in theirs]), strict=True):
            tp.grad = torch.from_numpy(g)
        t.step()
    return ours, [tp.detach().numpy() for tp in theirs]


@pytest.mark.parametrize("problem_name", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("weight_decay", [False, True], ids=["wd_off", "wd_on"])
@pytest.mark.parametrize(("cls", "torch_factory", "hyper_sets"), CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_matches_torch_optim(cls, torch_factory, hyper_sets, weight_decay, problem_name):
    for seed, base in enumerate(hyper_sets):
        hyper = base | _params_for(weight_decay, cls)[0]
        problem = _quadratic(seed) if problem_name == "quadratic" else _rosenbrock(seed)
        ours, theirs = _run_both(cls, torch_factory, hyper, problem)
        moved = max(np.abs(a - b).max() for a, b in zip(ours, problem[0], strict=True))
        assert moved > 1e-3, f"{cls.__name__} {hyper}: parameters barely moved"
        for a, b in zip(ours, theirs, strict=True):
            assert np.all(np.isfinite(a))
            np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"{cls.__name__} {hyper}")


def test_updates_in_place_and_keeps_grads():
    p = np.ones(3)
    g = np.full(3, 2.0)
    same = p
    opt.Adam([p], lr=0.1, weight_decay=0.1).step([g])
    assert same is p and not np.allclose(p, 1.0)
    np.testing.assert_array_equal(g, 2.0)


def test_state_is_per_parameter():
    a, b = np.zeros(2), np.zeros(3)
    o = opt.Momentum([a, b], lr=0.1)
    o.step([np.ones(2), np.ones(3)])
    assert o.state[0]["momentum_buffer"].shape == (2,)
    assert o.state[1]["momentum_buffer"].shape == (3,)


def test_lr_can_change_between_steps():
    p = np.zeros(1)
    o = opt.SGD([p], lr=1.0)
    o.step([np.ones(1)])
    o.lr = 0.1
    o.step([np.ones(1)])
    np.testing.assert_allclose(p, [-1.1])


@pytest.mark.parametrize(("epoch", "expected"), [
    (0, 0.1), (49, 0.1), (50, 0.01), (74, 0.01), (75, 0.001), (99, 0.001),
])
def test_step_decay_lecture_schedule(epoch, expected):
    assert opt.step_decay(0.1, epoch, 100) == pytest.approx(expected, rel=1e-12)


def test_step_decay_custom_milestones_and_gamma():
    lrs = [opt.step_decay(1.0, e, 8, milestones=(0.25, 0.5, 0.875), gamma=0.5) for e in range(8)]
    assert lrs == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125])
    assert isinstance(opt.step_decay(1.0, 3, 8), float)


def test_minimize_trajectory():
    x0 = np.array([3.0, -2.0])
    before = x0.copy()
    traj = opt.minimize(lambda ps: opt.SGD(ps, lr=0.25), lambda x: (float(x @ x), 2 * x), x0, 4)
    assert traj.shape == (5, 2) and traj.dtype == np.float64
    np.testing.assert_array_equal(x0, before)
    np.testing.assert_allclose(traj, [before * 0.5**t for t in range(5)])


def test_minimize_adam_reaches_minimum_of_quadratic():
    traj = opt.minimize(lambda ps: opt.Adam(ps, lr=0.05), lambda x: (float(x @ x), 2 * x),
                        np.array([1.0, -1.0, 0.5]), 500)
    assert np.abs(traj[-1]).max() < 1e-2
    assert np.array_equal(traj[0], [1.0, -1.0, 0.5])


def test_never_imports_torch():
    import ast
    import inspect

    for mod_name in ("reference.optimizers", "assignments.optimizers"):
        source = inspect.getsource(__import__(mod_name, fromlist=["x"]))
        names = [a.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]
        assert not any(str(n).split(".")[0] == "torch" for n in names), mod_name
