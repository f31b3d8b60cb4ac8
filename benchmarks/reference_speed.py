"""How fast the hidden reference solutions are on large inputs.

    .venv/bin/python benchmarks/reference_speed.py                 # everything
    .venv/bin/python benchmarks/reference_speed.py --only losses   # a name or a group prefix
    .venv/bin/python benchmarks/reference_speed.py --list

A benchmark is a name, a description of its input, and `prepare()`: it builds the inputs
(untimed, before every repeat) and returns the call that is timed. main() prints a Rich
table of the median and the fastest time in ms. Add a benchmark with `register(...)` or by
appending to BENCHMARKS; import heavy modules (torch) inside `prepare`, so that a run with
--only never pays for what it does not measure.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Timed = Callable[[], object]


@dataclass(frozen=True)
class Benchmark:
    name: str  # "group.what": --only matches a whole name or a group
    size: str  # the input, for the table
    prepare: Callable[[], Timed]  # untimed; returns the timed call
    repeats: int = 7


BENCHMARKS: list[Benchmark] = []


def register(name: str, size: str, prepare: Callable[[], Timed], repeats: int = 7) -> None:
    BENCHMARKS.append(Benchmark(name, size, prepare, repeats))


# --------------------------------------------------------------- losses: N = 10^6

N = 1_000_000
CLASSES = 10


@functools.cache
def _loss_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "pred": rng.normal(size=(N, 1)), "target": rng.normal(size=(N, 1)),
        "logits": rng.normal(0, 3, size=(N, CLASSES)), "labels": rng.integers(0, CLASSES, N),
        "binary_logits": rng.normal(0, 3, size=(N, 1)), "binary_targets": rng.uniform(size=(N, 1)),
        "var": rng.uniform(0.5, 2.0, size=(N, 1)),
    }


def _loss(function: str, *keys: str) -> Callable[[], Timed]:
    def prepare() -> Timed:
        from reference import losses

        fn, data = getattr(losses, function), _loss_inputs()
        args = [data[k] for k in keys]
        return lambda: fn(*args)

    return prepare


REGRESSION = f"({N:,}, 1)"
for _name in ("mse", "l1", "huber"):
    register(f"losses.{_name}", REGRESSION, _loss(_name, "pred", "target"))
    register(f"losses.{_name}_grad", REGRESSION, _loss(f"{_name}_grad", "pred", "target"))
for _name in ("softmax", "log_softmax"):
    register(f"losses.{_name}", f"({N:,}, {CLASSES})", _loss(_name, "logits"))
register("losses.cross_entropy", f"({N:,}, {CLASSES})", _loss("cross_entropy", "logits", "labels"))
register("losses.cross_entropy_grad", f"({N:,}, {CLASSES})",
         _loss("cross_entropy_grad", "logits", "labels"))
register("losses.binary_cross_entropy_with_logits", REGRESSION,
         _loss("binary_cross_entropy_with_logits", "binary_logits", "binary_targets"))
register("losses.binary_cross_entropy_with_logits_grad", REGRESSION,
         _loss("binary_cross_entropy_with_logits_grad", "binary_logits", "binary_targets"))
register("losses.gaussian_nll", REGRESSION + ", var per element",
         _loss("gaussian_nll", "pred", "target", "var"))
register("losses.gaussian_nll_grad", REGRESSION + ", var per element",
         _loss("gaussian_nll_grad", "pred", "target", "var"))


# --------------------------------------------------------------- backprop: a two-layer net on a batch


def _two_layer_net() -> Timed:
    from reference import backprop

    rng = np.random.default_rng(0)
    n, d, h, c = 4096, 784, 256, 10
    params = {"W1": rng.normal(0, d**-0.5, (d, h)), "b1": np.zeros(h),
              "W2": rng.normal(0, h**-0.5, (h, c)), "b2": np.zeros(c)}
    x, labels = rng.uniform(size=(n, d)), rng.integers(0, c, n)
    return lambda: backprop.two_layer_net(params, x, labels)


register("backprop.two_layer_net", "x 4096×784, H 256, C 10 (loss + grads)", _two_layer_net)


# --------------------------------------------------------------- autodiff: a 100 000-node graph

NODES = 100_000


def _value_chain(value_cls: type) -> object:
    """x, w, then (y * w).tanh() over and over: NODES nodes, a chain NODES − 2 operations deep."""
    x, w = value_cls(0.5), value_cls(0.9)
    y = x
    for _ in range((NODES - 2) // 2):
        y = (y * w).tanh()
    return y


def _autodiff_forward() -> Timed:
    from reference.autodiff import Value

    gc.collect()
    return lambda: _value_chain(Value)


def _autodiff_backward() -> Timed:
    from reference.autodiff import Value

    root = _value_chain(Value)
    gc.collect()
    return root.backward


register("autodiff.forward", f"build a {NODES:,}-node graph", _autodiff_forward, repeats=5)
register("autodiff.backward", f"backward() of a {NODES:,}-node graph", _autodiff_backward, repeats=5)


# --------------------------------------------------------------- torch training on the CPU


def _fit_function() -> Timed:
    from reference import mlp

    return lambda: mlp.fit_function(np.sin)  # the defaults: 64 tanh units, 3000 Adam steps


def _train_digits() -> Timed:
    from assignments.datasets import load_digits
    from reference import mlp

    data = load_digits()
    return lambda: mlp.train_classifier(*data)  # the defaults: (128,), 30 epochs, batch 64


def _train_spirals() -> Timed:
    import torch
    from torch import nn

    from assignments.datasets import make_spirals
    from reference import cuda_training

    x, y = make_spirals(200, 3, noise=0.15)
    loaders = cuda_training.make_loaders(x, y, 32, pin_memory=False)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 3))
    return lambda: cuda_training.train(model, *loaders, epochs=20, lr=1e-2, device="cpu")


register("mlp.fit_function", "sin on [-π, π]: 64 tanh units, 3000 full-batch Adam steps",
         _fit_function, repeats=3)
register("mlp.train_classifier", "digits 1347 / 450: (128,), 30 epochs of batch 64",
         _train_digits, repeats=3)
register("cuda_training.train", "spirals 480 / 120: 2-64-64-3 MLP, 20 epochs of batch 32, CPU",
         _train_spirals, repeats=3)


# --------------------------------------------------------------- running


def measure(bench: Benchmark, repeats: int | None = None) -> list[float]:
    """Seconds of each repeat; prepare() runs before each one, untimed."""
    times = []
    for _ in range(repeats or bench.repeats):
        call = bench.prepare()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def select(names: list[str] | None) -> list[Benchmark]:
    """The benchmarks named (a whole name, or a group such as "losses"); all when names is None."""
    if not names:
        return list(BENCHMARKS)
    def matches(bench: Benchmark, name: str) -> bool:
        return bench.name == name or bench.name.startswith(name + ".")

    unknown = [n for n in names if not any(matches(b, n) for b in BENCHMARKS)]
    if unknown:
        raise ValueError(f"unknown benchmark {', '.join(map(repr, unknown))} (see --list)")
    return [b for b in BENCHMARKS if any(matches(b, n) for n in names)]


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description="Time the reference solutions on large inputs.")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark or group (repeatable), e.g. losses, autodiff.backward")
    parser.add_argument("--repeats", type=int, metavar="N", help="repeats per benchmark (default: each one's own)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")

    console = Console(width=None if sys.stdout.isatty() else 120)  # a pipe or a log: room for every column
    if args.list:
        for bench in BENCHMARKS:
            console.print(f"{bench.name:45} {bench.size}", highlight=False, soft_wrap=True)
        return 0
    try:
        chosen = select(args.only)
    except ValueError as exc:
        console.print(f"error: {exc}", style="red", highlight=False)
        return 2

    table = Table(title="Reference solutions: time per call")
    width = max((len(b.name) for b in chosen), default=10)
    table.add_column("benchmark", no_wrap=True, min_width=width)  # the input column wraps instead
    table.add_column("input", min_width=16)
    for column in ("repeats", "median ms", "min ms"):
        table.add_column(column, justify="right", no_wrap=True)
    with console.status("measuring…") as status:
        for bench in chosen:
            status.update(f"measuring {bench.name}…")
            times = measure(bench, args.repeats)
            table.add_row(bench.name, bench.size, str(len(times)),
                          f"{statistics.median(times) * 1e3:.2f}", f"{min(times) * 1e3:.2f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
