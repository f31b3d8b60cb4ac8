"""`dlgrade plot optimizers`: a real PNG for the reference and for a student's file; bad paths exit 2."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from grader.tools import plot
from reference import optimizers as ref

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def _png_shape(path: Path) -> tuple[int, ...]:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_MAGIC
    return imread(path).shape


def test_reference_plot_writes_png(tmp_path):
    out = tmp_path / "paths.png"
    result = runner.invoke(app, ["plot", "optimizers", "--out", str(out)])
    assert result.exit_code == 0, result.output
    height, width, _ = _png_shape(out)
    assert width > 1000 and height > 600
    for name in ("SGD", "Momentum", "NAG", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"):
        assert name in result.output
    assert "reference solution" in result.output and "not implemented" not in result.output


def test_reference_paths_head_for_the_minimum():
    paths = plot.run_all(ref)
    assert [p.status for p in paths] == ["ok"] * 8
    start_loss = plot.rosenbrock(*plot.START)
    for p in paths:
        assert p.path.shape == (plot.STEPS + 1, 2)
        assert p.final_loss < start_loss / 10, p.name  # every one gets well into the valley
    assert min(paths, key=lambda p: p.final_loss).name == "Adam"


STUDENT_FILE = '''
import numpy as np
from assignments.optimizers import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr, weight_decay=0.0):
        super().__init__(params, lr)

    def step(self, grads):
        for p, g in zip(self.params, grads):
            p -= self.lr * g


class Momentum(Optimizer):           # steps the wrong way: diverges
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr)

    def step(self, grads):
        for p, g in zip(self.params, grads):
            p += 100 * self.lr * g


class NAG(Optimizer):                # rebinds instead of updating in place
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr)

    def step(self, grads):
        self.params = [p - self.lr * g for p, g in zip(self.params, grads)]


class Adagrad(Optimizer):            # a bug that raises
    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr)

    def step(self, grads):
        raise KeyError("sum")


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)

    def step(self, grads):
        raise NotImplementedError
'''


def test_student_file_partial_work(tmp_path):
    student = tmp_path / "optimizers.py"
    student.write_text(STUDENT_FILE)
    out = tmp_path / "mine.png"
    result = runner.invoke(app, ["plot", "optimizers", "--file", str(student), "--out", str(out)])
    assert result.exit_code == 0, result.output
    _png_shape(out)
    module, source = plot.load_optimizers(student)
    status = {p.name: p.status for p in plot.run_all(module)}
    assert source == str(student)
    assert status["SGD"] == "ok"
    assert status["Momentum"] == "diverged"
    assert status["NAG"].startswith("did not move")
    assert status["Adagrad"] == "failed (KeyError)"
    assert status["Adam"] == status["AdamW"] == "not implemented"  # raises / missing
    assert status["Adadelta"] == status["RMSprop"] == "not implemented"


def test_diverged_path_keeps_only_finite_points():
    class Exploding:
        def __init__(self, params, lr):
            self.params = params

        def step(self, grads):
            for p in self.params:
                p *= 10.0

    module = types.SimpleNamespace(SGD=Exploding)
    result = plot.run_optimizer(module, "SGD", {"lr": 1.0})
    assert result.status == "diverged"
    assert np.all(np.isfinite(result.path)) and np.abs(result.path).max() <= plot.DIVERGED
    assert "diverged" in result.label


@pytest.mark.parametrize("args", [
    ["--file", "does/not/exist.py"],
    ["--out", "no/such/directory/paths.png"],
], ids=["missing-file", "missing-out-dir"])
def test_bad_paths_exit_2(tmp_path, args):
    result = runner.invoke(app, ["plot", "optimizers", *args])
    assert result.exit_code == 2
    assert "error" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_out_is_a_directory_or_unwritable(tmp_path):
    result = runner.invoke(app, ["plot", "optimizers", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "directory" in result.output
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    result = runner.invoke(app, ["plot", "optimizers", "--out", str(a_file / "p.png")])
    assert result.exit_code == 2 and "is not a directory" in result.output
    if Path("/proc/self").is_dir():  # nobody, not even root, creates files in /proc
        result = runner.invoke(app, ["plot", "optimizers", "--out", "/proc/dlgrade-test.png"])
        assert result.exit_code == 2 and "cannot write" in result.output
        assert "Traceback" not in result.output
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):  # root ignores permissions
            pytest.skip("permissions are not enforced for this user")
        result = runner.invoke(app, ["plot", "optimizers", "--out", str(locked / "p.png")])
        assert result.exit_code == 2 and "cannot write" in result.output
    finally:
        locked.chmod(0o700)


def test_file_that_does_not_import_is_a_user_error(tmp_path):
    broken = tmp_path / "optimizers.py"
    broken.write_text("def step(:\n")
    result = runner.invoke(app, ["plot", "optimizers", "--file", str(broken),
                                 "--out", str(tmp_path / "p.png")])
    assert result.exit_code == 2
    assert "does not import" in result.output and "SyntaxError" in result.output
    assert not (tmp_path / "p.png").exists()


def test_file_that_is_a_directory(tmp_path):
    result = runner.invoke(app, ["plot", "optimizers", "--file", str(tmp_path),
                                 "--out", str(tmp_path / "p.png")])
    assert result.exit_code == 2 and "not a file" in result.output
