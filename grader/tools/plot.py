"""Optimizer paths on the Rosenbrock function, drawn into a PNG.

`dlgrade plot optimizers` runs each optimizer of an `optimizers.py` (the reference by
default, or a student's own file given by path) from the same start for the same number
of steps, and draws where each one went over the contour lines of

    f(x, y) = (1 − x)² + 100·(y − x²)²,    minimum f(1, 1) = 0,

a long, curved, flat-bottomed valley: plain gradient descent crawls along it, momentum
overshoots, the adaptive methods rescale their steps. An optimizer that is not written
yet, fails, or diverges is listed in the legend as such instead of stopping the plot.

Loading a student's file runs it in this process: that is meant for a student plotting
their own code on their own machine, never for grading (grading uses the sandbox).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.catalog import ASSIGNMENTS_DIR, REFERENCE_DIR
from grader.errors import UserError

START = (-1.5, 2.0)
MINIMUM = (1.0, 1.0)
STEPS = 2000
DIVERGED = 1e3  # |x| or |y| beyond this counts as diverged

# name, constructor keywords (a learning rate that suits this valley), line colour
SETTINGS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("SGD", {"lr": 1e-3}, "tab:gray"),
    ("Momentum", {"lr": 2e-4, "momentum": 0.9}, "tab:blue"),
    ("NAG", {"lr": 2e-4, "momentum": 0.9}, "tab:cyan"),
    ("Adagrad", {"lr": 0.5}, "tab:green"),
    ("Adadelta", {"lr": 1.0}, "tab:olive"),
    ("RMSprop", {"lr": 3e-3}, "tab:purple"),
    ("Adam", {"lr": 0.02}, "tab:red"),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.01}, "tab:orange"),
)


def rosenbrock(x: float, y: float) -> float:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rosenbrock_grad(x: float, y: float) -> np.ndarray:
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@dataclass
class OptimizerPath:
    name: str
    settings: dict[str, Any]
    color: str
    status: str  # "ok", "not implemented", "diverged", "did not move", "failed (…)"
    path: np.ndarray  # (k, 2), the start included; only finite points

    @property
    def final_loss(self) -> float | None:
        return rosenbrock(*self.path[-1]) if self.status == "ok" else None

    @property
    def label(self) -> str:
        lr = self.settings.get("lr")
        head = f"{self.name} (lr {lr:g})" if lr is not None else self.name
        if self.status == "ok":
            return f"{head}: f = {self.final_loss:.2g}"
        return f"{head}: {self.status}"


# --------------------------------------------------------------- which optimizers.py


def load_optimizers(file: Path | None) -> tuple[ModuleType, str]:
    """The module to plot and a name for it: the file given, else the reference, else the
    student's `assignments/optimizers.py` (a release ships without reference/)."""
    if file is None:
        if (REFERENCE_DIR / "optimizers.py").is_file():
            from reference import optimizers

            return optimizers, "reference solution"
        file = ASSIGNMENTS_DIR / "optimizers.py"
    path = Path(file)
    if not path.is_file():
        raise UserError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    spec = importlib.util.spec_from_file_location(f"dlgrade_plotted_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UserError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the student's own file: any error is theirs to fix, in one line
        raise UserError(f"{path} does not import: {type(exc).__name__}: {exc}") from None
    return module, str(path)


# --------------------------------------------------------------- running


def run_optimizer(module: ModuleType, name: str, settings: dict[str, Any], color: str = "black",
                  start: tuple[float, float] = START, steps: int = STEPS) -> OptimizerPath:
    """`steps` steps of module.<name>(params, **settings) from start, or why there is no path."""
    x = np.array(start, dtype=np.float64)
    points = [x.copy()]

    def result(status: str) -> OptimizerPath:
        return OptimizerPath(name, settings, color, status, np.array(points))

    cls = getattr(module, name, None)
    if cls is None:
        return result("not implemented")
    try:
        optimizer = cls([x], **settings)
        for _ in range(steps):
            optimizer.step([rosenbrock_grad(*x)])
            if not np.all(np.isfinite(x)) or np.abs(x).max() > DIVERGED:
                return result("diverged")
            points.append(x.copy())
    except NotImplementedError:
        return result("not implemented")
    except Exception as exc:  # plotting shows a failure; it does not stop at it
        return result(f"failed ({type(exc).__name__})")
    if np.array_equal(points[-1], points[0]):
        return result("did not move (update params in place?)")
    return result("ok")


def run_all(module: ModuleType, start: tuple[float, float] = START,
            steps: int = STEPS) -> list[OptimizerPath]:
    return [run_optimizer(module, name, settings, color, start, steps)
            for name, settings, color in SETTINGS]


# --------------------------------------------------------------- drawing


def draw(paths: list[OptimizerPath], out: Path, title: str, steps: int = STEPS) -> Path:
    """One panel per optimizer over the contours of log f: its path with a dot every
    `steps / 20` steps (the spacing shows the speed), the start and the minimum; a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg: no display needed
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    out = _writable(out)
    columns = 4
    rows = -(-len(paths) // columns)
    fig = Figure(figsize=(4.2 * columns, 4.0 * rows + 1.2), dpi=100)
    FigureCanvasAgg(fig)
    gx, gy = np.meshgrid(np.linspace(-2.0, 2.0, 300), np.linspace(-1.0, 3.0, 300))
    surface = (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2
    every = max(1, steps // 20)
    axes = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, p in zip(axes, paths, strict=False):
        ax.contour(gx, gy, surface, levels=np.logspace(-1, 3.5, 16), norm="log", cmap="Greys",
                   linewidths=0.6, alpha=0.6)
        if p.status in ("ok", "diverged"):
            style = "-" if p.status == "ok" else ":"
            ax.plot(p.path[:, 0], p.path[:, 1], style, color=p.color, linewidth=1.8)
            ax.plot(p.path[::every, 0], p.path[::every, 1], ".", color=p.color, markersize=5)
            ax.plot(*p.path[-1], "o", color=p.color, markersize=8, markeredgecolor="black")
        else:
            ax.text(0.0, 1.6, p.status, ha="center", va="center", fontsize=11, color="firebrick",
                    wrap=True, bbox={"facecolor": "white", "edgecolor": "firebrick"})
        ax.plot(*START, "s", color="black", markersize=7)
        ax.plot(*MINIMUM, "*", color="gold", markersize=16, markeredgecolor="black")
        ax.set_title(p.label, fontsize=10, color="black" if p.status == "ok" else "firebrick")
        ax.set_xlim(-2.0, 2.0)
        ax.set_ylim(-1.0, 3.0)
        ax.set_xticks([-2, -1, 0, 1, 2])
        ax.set_yticks([-1, 0, 1, 2, 3])
    for ax in axes[len(paths):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=p.color, marker="o" if p.status == "ok" else "x",
                      linestyle="-" if p.status == "ok" else "none", label=p.label) for p in paths]
    handles += [
        Line2D([], [], color="black", marker="s", linestyle="none", label=f"start {START}"),
        Line2D([], [], color="gold", marker="*", markersize=14, markeredgecolor="black",
               linestyle="none", label="minimum (1, 1)"),
        Line2D([], [], color="gray", marker=".", linestyle="none",
               label=f"a dot every {every} steps"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(f"{title}: {steps} steps on f(x, y) = (1 − x)² + 100·(y − x²)²", fontsize=13)
    fig.tight_layout(rect=(0, 0.1, 1, 0.97))
    try:
        fig.savefig(out, format="png")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def _writable(out: Path) -> Path:
    out = Path(out)
    if out.is_dir():
        raise UserError(f"{out} is a directory; give a file name such as {out / 'paths.png'}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        why = "is not a directory" if parent.exists() else "does not exist"
        raise UserError(f"cannot write {out}: {parent} {why}")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UserError(f"cannot write {out}: permission denied")
    return out


def plot_optimizers(file: Path | None, out: Path) -> tuple[list[OptimizerPath], str]:
    """Load, run and draw; returns the paths and what was plotted (for the CLI to print)."""
    _writable(out)  # fail before the work, not after it
    module, source = load_optimizers(file)
    paths = run_all(module)
    draw(paths, out, f"Optimizer paths ({source})")
    return paths, source
