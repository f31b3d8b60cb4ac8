"""The optimizers grading spec: the reference passes, honest bugs fail their own target only,
torch.optim itself passes (the tolerance admits a different rounding), the stub fails all."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from spec_helpers import SpecBench, whole_spec_tests

from assignments import optimizers as stub
from grader.grading.case import case_rng
from grader.specs import load_spec
from grader.specs.optimizers import OPTIMIZERS
from reference import optimizers as ref

ASSIGNMENT = "optimizers"
SPEC = load_spec(ASSIGNMENT)  # public cases + hidden ones (grader/specs/hidden/optimizers.py)
BENCH = SpecBench(SPEC, ref, stub)


def test_spec_shape():
    assert SPEC.name == ASSIGNMENT and SPEC.framework == "numpy"
    assert SPEC.max_points == 100
    assert sum(c.points for c in SPEC.cases if c.visible) == 40
    public = {"Optimizer"} | set(OPTIMIZERS) | {"step_decay", "minimize"}
    assert {c.target for c in SPEC.cases} == public - {"Optimizer"}
    assert all(c.description and c.timeout <= 5 and not c.needs_cuda for c in SPEC.cases)


# the tests every spec passes (spec_helpers), under this module's name
(test_reference_passes_every_case, test_reference_passes_through_the_codec,
 test_stub_fails_every_case) = whole_spec_tests(BENCH, slow=False)


def test_inputs_differ_between_students():
    case = SPEC.case("Adam_defaults")
    a = case.make_inputs(case_rng("alice", ASSIGNMENT, case.name))
    b = case.make_inputs(case_rng("bob", ASSIGNMENT, case.name))
    assert not np.array_equal(a["b"][1], b["b"][1])


# ---------------------------------------------------------------- torch.optim as a student


def _torch_backed(torch_cls, **fixed):
    class Wrapped(ref.Optimizer):
        def __init__(self, params, lr=None, **hyper):
            super().__init__(params, 0.0 if lr is None else lr)
            self.tensors = [torch.from_numpy(p) for p in self.params]  # shares memory: in place
            for t in self.tensors:
                t.requires_grad_(True)
            kwargs = fixed | hyper | ({} if lr is None else {"lr": lr})
            self.inner = torch_cls(self.tensors, **kwargs)

        def step(self, grads):
            for t, g in zip(self.tensors, grads, strict=True):
                t.grad = torch.from_numpy(np.array(g, dtype=np.float64))
            with torch.no_grad():
                self.inner.step()

    return Wrapped


TORCH_STUDENT = BENCH.copy_with(
    SGD=_torch_backed(torch.optim.SGD),
    Momentum=_torch_backed(lambda ps, momentum=0.9, **h: torch.optim.SGD(ps, momentum=momentum, **h)),
    NAG=_torch_backed(lambda ps, momentum=0.9, **h: torch.optim.SGD(ps, momentum=momentum,
                                                                    nesterov=True, **h)),
    Adagrad=_torch_backed(torch.optim.Adagrad),
    Adadelta=_torch_backed(torch.optim.Adadelta),
    RMSprop=_torch_backed(torch.optim.RMSprop),
    Adam=_torch_backed(torch.optim.Adam),
    AdamW=_torch_backed(torch.optim.AdamW),
)


@pytest.mark.parametrize("student", ["carol", "dave", "erin"])
def test_torch_optim_passes_every_optimizer_case(student):
    assert not BENCH.failing(TORCH_STUDENT, student)


# ---------------------------------------------------------------- honest bugs


class AdamNoBiasCorrection(ref.Adam):
    def step(self, grads):
        b1, b2 = self.betas
        for p, g, s in zip(self.params, grads, self.state, strict=True):
            g = g + self.weight_decay * p
            s.setdefault("m", np.zeros_like(p))
            s.setdefault("v", np.zeros_like(p))
            s["m"] = b1 * s["m"] + (1 - b1) * g
            s["v"] = b2 * s["v"] + (1 - b2) * g * g
            p -= self.lr * s["m"] / (np.sqrt(s["v"]) + self.eps)


class AdamIgnoresWeightDecay(ref.Adam):
    def step(self, grads):
        wd, self.weight_decay = self.weight_decay, 0.0
        try:
            super().step(grads)
        finally:
            self.weight_decay = wd


class AdamWCoupled(ref.Adam):
    """AdamW written as Adam with weight_decay added to the gradient."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


class SGDRebinds(ref.SGD):
    def step(self, grads):
        self.params = [p - self.lr * (g + self.weight_decay * p)
                       for p, g in zip(self.params, grads, strict=True)]


class NAGWithoutLookAhead(ref.Momentum):
    pass


class AdagradWritesIntoGrads(ref.Adagrad):
    def step(self, grads):
        for p, g, s in zip(self.params, grads, self.state, strict=True):
            g *= 1.0
            g += self.weight_decay * p  # modifies the caller's gradient
            s.setdefault("sum", np.zeros_like(p))
            s["sum"] += g * g
            p -= self.lr * g / (np.sqrt(s["sum"]) + self.eps)


class AdadeltaEpsOutside(ref.Adadelta):
    def step(self, grads):
        rho, eps = self.rho, self.eps
        for p, g, s in zip(self.params, grads, self.state, strict=True):
            g = g + self.weight_decay * p
            v = s.setdefault("v", np.zeros_like(p))
            u = s.setdefault("u", np.zeros_like(p))
            v[...] = rho * v + (1 - rho) * g * g
            delta = (np.sqrt(u) + eps) / (np.sqrt(v) + eps) * g
            u[...] = rho * u + (1 - rho) * delta * delta
            p -= self.lr * delta


def step_decay_strict(base_lr, epoch, total_epochs, milestones=(0.5, 0.75), gamma=0.1):
    return base_lr * gamma ** sum(epoch > m * total_epochs for m in milestones)


def minimize_in_place(make_optimizer, f_and_grad, x0, steps):
    x = np.asarray(x0, dtype=np.float64)  # no copy when x0 is float64: x0 changes
    opt = make_optimizer([x])
    out = [x.copy()]
    for _ in range(steps):
        opt.step([f_and_grad(x)[1]])
        out.append(x.copy())
    return np.array(out)


def minimize_keeps_dtype(make_optimizer, f_and_grad, x0, steps):
    x = x0.copy()  # an integer x0 stays integer
    opt = make_optimizer([x])
    out = [x.astype(float)]
    for _ in range(steps):
        opt.step([f_and_grad(x)[1]])
        out.append(x.astype(float))
    return np.array(out)


BUGS = [
    ("adam_no_bias_correction", {"Adam": AdamNoBiasCorrection}, BENCH.names("Adam")),
    ("adam_ignores_weight_decay", {"Adam": AdamIgnoresWeightDecay},
     {"Adam_hyperparameters_weight_decay"}),
    ("adamw_coupled", {"AdamW": AdamWCoupled}, BENCH.names("AdamW")),
    ("sgd_rebinds", {"SGD": SGDRebinds}, BENCH.names("SGD")),
    ("nag_is_momentum", {"NAG": NAGWithoutLookAhead}, BENCH.names("NAG")),
    ("adagrad_writes_grads", {"Adagrad": AdagradWritesIntoGrads},
     {"Adagrad_hyperparameters_weight_decay"}),
    ("adadelta_eps_outside", {"Adadelta": AdadeltaEpsOutside}, BENCH.names("Adadelta")),
    ("step_decay_strict", {"step_decay": step_decay_strict}, BENCH.names("step_decay")),
    # an integer x0 is copied by the float64 conversion anyway: only the float start shows it
    ("minimize_in_place", {"minimize": minimize_in_place}, {"minimize_quadratic"}),
    ("minimize_keeps_dtype", {"minimize": minimize_keeps_dtype}, {"minimize_rosenbrock_int_start"}),
]


@pytest.mark.parametrize(("bug", "replacements", "failing"), BUGS, ids=[b[0] for b in BUGS])
def test_bug_fails_exactly_its_cases(bug, replacements, failing):
    assert BENCH.failing(BENCH.copy_with(**replacements), "frank") == failing


def test_messages_say_what_is_wrong():
    def verdict(replacements, name):
        return BENCH.verdict(name, BENCH.copy_with(**replacements), "gina")

    assert "in place" in verdict({"SGD": SGDRebinds}, "SGD_defaults").message
    assert "modified the gradient" in verdict({"Adagrad": AdagradWritesIntoGrads},
                                              "Adagrad_hyperparameters_weight_decay").message
    assert "after step 1" in verdict({"Adam": AdamNoBiasCorrection}, "Adam_defaults").message
    assert "epoch" in verdict({"step_decay": step_decay_strict}, "step_decay_lecture").message
    assert "modified x0" in verdict({"minimize": minimize_in_place}, "minimize_quadratic").message
    assert "float64" in verdict({"minimize": minimize_keeps_dtype},
                                "minimize_rosenbrock_int_start").message
