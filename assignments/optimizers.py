"""Assignment 4 — optimizers from scratch (numpy).

The lesson
----------
Training is the fourth key component of deep learning — data, model, loss and the
*algorithm* that moves the parameters downhill on the loss. Every algorithm here
is gradient descent with a different idea of how big a step to take and in which
direction.

* **Gradient descent (GD)** uses the gradient of the loss over the whole data set:
  ``p ← p − lr·g``. Each step is exact but expensive.
* **Stochastic gradient descent (SGD)** uses the gradient of a mini-batch instead.
  The step is noisy but cheap, so for the same computation it makes far more
  progress — that is why "SGD" in practice always means mini-batch SGD. The update
  rule is the same; only where ``g`` comes from changes.
* **Momentum** keeps a running sum of past gradients (a velocity) and steps along
  it. Directions that agree from step to step build up speed; directions that
  flip sign (the walls of a narrow valley) cancel out.
* **Nesterov accelerated gradient (NAG)** looks ahead: it corrects the momentum
  step with the gradient where that step is about to land, so it brakes earlier
  when the valley turns.
* **Adagrad** gives every parameter its own learning rate, ``lr / sqrt(sum of its
  squared gradients)``: rarely-updated parameters take big steps, often-updated
  ones small steps. The sum only grows, so the steps eventually shrink to nothing.
* **Adadelta** replaces Adagrad's ever-growing sum with an exponential moving
  average and scales each step by the moving average of past *updates*, so it
  needs (almost) no learning rate at all.
* **RMSprop** keeps Adagrad's per-parameter scaling but with a moving average of
  squared gradients (Hinton's lecture trick), so learning does not stall.
* **Adam** (2014) = momentum (a moving average of gradients, ``m``) + RMSprop (a
  moving average of squared gradients, ``v``) + a bias correction for their start
  at zero. The lecture's point: Adam is not provably best, but it "usually works"
  (웬만하면 잘 된다) with its default hyperparameters, which is why most results
  are reproduced with it.
* **AdamW** is Adam with *decoupled* weight decay: instead of adding
  ``weight_decay·p`` to the gradient (which Adam's scaling then distorts), it
  shrinks the parameters directly, ``p ← p·(1 − lr·weight_decay)``.

Learning-rate schedules. The first networks trained on CIFAR-10 (a ResNet with
SGD) divided the learning rate by 10 when half of the epochs were done and again
at 75 %; without that schedule the published numbers could not be reproduced.
``step_decay`` below is that schedule.

The contract
------------
Each optimizer takes ``params``, a list of float64 numpy arrays, and updates them
**in place** on ``step(grads)``, where ``grads`` is a list of arrays of the same
shapes, in the same order. "In place" means ``p -= ...`` or ``p[...] = ...``:
the caller's arrays change, ``self.params[i] = new_array`` would not change them.

The update rules are exactly torch.optim's for the same hyperparameters, so that
``SGD(params, lr=0.1)`` here and ``torch.optim.SGD(tensors, lr=0.1)`` there
produce the same numbers step after step. ``weight_decay`` (L2 regularisation)
adds ``weight_decay·p`` to the gradient before anything else — except AdamW,
which decouples it. Per-parameter state (velocities, running averages, step
counts) lives in ``self.state[i]``, a dict for parameter ``i``; create it lazily on
the first ``step``. This module never imports torch.

The constructors are given (they store the hyperparameters); you write each
``step``, ``step_decay`` and ``minimize``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class Optimizer:
    """Base class (given, complete): holds the parameters, the learning rate and the state.

    params: list of float64 arrays, updated in place by ``step``.
    lr:     the learning rate; a schedule may change ``self.lr`` between steps.
    state:  ``self.state[i]`` is a dict for ``params[i]`` (empty until the first step).
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float) -> None:
        self.params = list(params)
        self.lr = float(lr)
        self.state: list[dict] = [{} for _ in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Update every ``params[i]`` in place using ``grads[i]``."""
        raise NotImplementedError("each optimizer implements its own step")


class SGD(Optimizer):
    """Plain (stochastic) gradient descent = torch.optim.SGD(lr, weight_decay).

    For each parameter p with gradient g:
        g ← g + weight_decay·p          (only when weight_decay != 0)
        p ← p − lr·g
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class Momentum(Optimizer):
    """SGD with momentum = torch.optim.SGD(lr, momentum, weight_decay) (dampening 0).

    For each parameter p with gradient g and velocity buffer b (in ``self.state[i]``):
        g ← g + weight_decay·p          (only when weight_decay != 0)
        b ← g                           on the first step (a copy of g, not zeros)
        b ← momentum·b + g              on every later step
        p ← p − lr·b
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class NAG(Optimizer):
    """Nesterov accelerated gradient = torch.optim.SGD(lr, momentum, nesterov=True, weight_decay).

    The buffer b is updated exactly as in Momentum; the step looks ahead along it:
        g ← g + weight_decay·p          (only when weight_decay != 0)
        b ← g on the first step, else b ← momentum·b + g
        p ← p − lr·(g + momentum·b)
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class Adagrad(Optimizer):
    """Adagrad = torch.optim.Adagrad(lr, eps, weight_decay) (lr_decay 0, accumulator starts at 0).

    For each parameter p with gradient g and sum of squares s (starts at zeros):
        g ← g + weight_decay·p          (only when weight_decay != 0)
        s ← s + g²
        p ← p − lr·g / (√s + eps)       (eps is added after the square root)
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 0.01, eps: float = 1e-10,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class Adadelta(Optimizer):
    """Adadelta = torch.optim.Adadelta(lr, rho, eps, weight_decay).

    For each parameter p with gradient g, running average of squared gradients v and
    running average of squared updates u (both start at zeros):
        g ← g + weight_decay·p          (only when weight_decay != 0)
        v ← rho·v + (1 − rho)·g²
        Δ ← √(u + eps) / √(v + eps) · g (eps inside both square roots)
        u ← rho·u + (1 − rho)·Δ²
        p ← p − lr·Δ
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.rho = rho
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class RMSprop(Optimizer):
    """RMSprop = torch.optim.RMSprop(lr, alpha, eps, weight_decay) (momentum 0, not centered).

    For each parameter p with gradient g and running average of squares v (starts at zeros):
        g ← g + weight_decay·p          (only when weight_decay != 0)
        v ← alpha·v + (1 − alpha)·g²
        p ← p − lr·g / (√v + eps)       (eps is added after the square root)
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class Adam(Optimizer):
    """Adam = torch.optim.Adam(lr, betas, eps, weight_decay) (amsgrad off).

    For each parameter p with gradient g, first moment m and second moment v (both start
    at zeros) and step count t (starts at 0, shared by m and v of this parameter):
        t ← t + 1
        g ← g + weight_decay·p          (only when weight_decay != 0: L2, coupled)
        m ← beta1·m + (1 − beta1)·g
        v ← beta2·v + (1 − beta2)·g²
        m̂ = m / (1 − beta1^t)            (bias corrections: m and v start at 0)
        p ← p − lr·m̂ / (√v / √(1 − beta2^t) + eps)
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class AdamW(Optimizer):
    """AdamW = torch.optim.AdamW(lr, betas, eps, weight_decay): Adam with decoupled weight decay.

    For each parameter p, first shrink it, then take an Adam step with the *unchanged*
    gradient (weight_decay never enters g, m or v):
        p ← p·(1 − lr·weight_decay)
        then the Adam update above with weight_decay = 0.
    Note the default weight_decay is 0.01, as in torch.
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01) -> None:
        super().__init__(params, lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay

    def step(self, grads: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


def step_decay(base_lr: float, epoch: int, total_epochs: int,
               milestones: Sequence[float] = (0.5, 0.75), gamma: float = 0.1) -> float:
    """The lecture's step schedule: the learning rate for ``epoch`` (counted from 0).

    Multiply ``base_lr`` by ``gamma`` once for every milestone fraction ``m`` that the
    epoch has reached, i.e. for every m with ``epoch >= m·total_epochs``:
        lr = base_lr · gamma^k,   k = #{m in milestones : epoch >= m·total_epochs}
    With the defaults and total_epochs=100: epochs 0–49 → base_lr, 50–74 → base_lr/10,
    75–99 → base_lr/100. Returns a float.
    """
    raise NotImplementedError


def minimize(make_optimizer: Callable[[list[np.ndarray]], Optimizer],
             f_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
             x0: np.ndarray, steps: int) -> np.ndarray:
    """Run an optimizer on a function of one vector and record where it went.

    make_optimizer(params) -> Optimizer   e.g. ``lambda ps: Adam(ps, lr=0.1)``
    f_and_grad(x) -> (f, grad)            grad has x's shape
    x0: the start, a 1-D array of length dim; it is not modified (work on a float64 copy).
    steps: number of optimizer steps.

    Create the copy ``x``, build the optimizer on ``[x]``, then ``steps`` times: compute
    the gradient at the current ``x`` and take one step. Returns the trajectory, a
    float64 array of shape (steps + 1, dim): row 0 is x0, row t is x after t steps.
    """
    raise NotImplementedError
