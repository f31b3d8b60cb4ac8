"""A buggy-but-honest submission per assignment: its lost points land exactly on the bug.

Each submission is the reference solution with ONE function (or method) replaced by a
version with a mistake students make; cases of that target fail, each with a message (a
bug may hide from the easy cases: counting frozen parameters shows only on a model that
has some), and every other case passes.
"""

from __future__ import annotations

import pytest

from grader.catalog import ROOT
from grader.grading.grader import Grader

BUGS = {
    # forgot the 1/N of the mean
    "losses": ("mse", '''
def mse(pred, target):
    return float(np.sum((target - pred) ** 2))
'''),
    # forgot the (1 - s) of the sigmoid's derivative
    "backprop": ("sigmoid_backward", '''
def sigmoid_backward(dout, cache):
    out = cache
    return dout * out
'''),
    # tanh's local gradient written as 1 - t instead of 1 - t²
    "autodiff": ("Value.tanh", '''
def _tanh_with_a_bug(self):
    out = Value(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1.0 - out.data) * out.grad

    out._backward = _backward
    return out


Value.tanh = _tanh_with_a_bug
'''),
    # Adam without bias correction
    "optimizers": ("Adam", '''
class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = betas, eps, weight_decay
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        b1, b2 = self.betas
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            g = g + self.weight_decay * p
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            p -= self.lr * m / (np.sqrt(v) + self.eps)
'''),
    # counts frozen parameters too
    "mlp": ("count_parameters", '''
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
'''),
    # a tuple comes back as a list
    "cuda_training": ("move_to", '''
def move_to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [move_to(item, device) for item in obj]
    return obj
'''),
}


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.mark.parametrize("name", list(BUGS))
def test_lost_points_land_on_the_buggy_target(grader, name, tmp_path):
    target, bug = BUGS[name]
    source = (ROOT / "reference" / f"{name}.py").read_text() + "\n\n# ---- the bug\n" + bug
    path = tmp_path / "student" / f"{name}.py"
    path.parent.mkdir()
    path.write_text(source)
    report = grader.grade_file(path)
    lost = {t.target for t in report.tests if t.status == "failed"}
    assert lost == {target}, [(t.name, t.message) for t in report.tests if t.status == "failed"]
    failed = [t for t in report.tests if t.status == "failed"]
    assert all(t.message for t in failed)
    assert report.score == report.max_score - sum(t.max_points for t in failed)
