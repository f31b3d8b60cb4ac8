"""What several harness modules share: calling a function while noting which arguments it
modified, what it returned as plain data (or a record of the wrong kind it returned), trained networks as plain data (weights, for the trusted process to run), training
tiny torch models on one thread, and recording the mode of every forward call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from grader.sandbox.harness import Data


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=True))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return True


def present(inputs: Data, *names: str) -> tuple[tuple[str, Any], ...]:
    """(name, value) of the inputs that are present, in the order of the API's parameters
    (optional ones come last, so an absent one takes its default)."""
    return tuple((name, inputs[name]) for name in names if name in inputs)


def call_noting_changes(fn: Callable[..., Any], *args: tuple[str, Any]) -> tuple[Any, list[str]]:
    """fn(*values), by position (a student may name the parameters differently), and the
    names of the arguments it modified (arrays, and dicts of arrays)."""
    before = [_copy(value) for _, value in args]
    result = fn(*(value for _, value in args))
    return result, [name for (name, value), old in zip(args, before, strict=True)
                    if not _same(value, old)]


def floats(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def batch_of(inputs: Data, name: str, kind: str) -> list[Data]:
    """What a function case's run reports beside "out" so that hints can use the batch's
    N and D: [the shape of the input called name, "loss" or "gradient"]. Only the
    reference's report (run on the trusted side) is read."""
    return [[int(s) for s in np.shape(inputs[name])], kind]


# ------------------------------------------------------------ what a function returned

# The conversions of a returned value into plain data happen in the child; when the value
# is not what the API asks for they return a WRONG_KIND record instead of raising, so the
# student reads "mse returned an array of shape (4, 3); it must return a float", not an
# error of the grader's own float().
WRONG_KIND = "wrong_kind"


def returned_kind(value: Any) -> str:
    """What a value is, in a student's words: None, an array of shape (4, 3), a list of 2 item(s)."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(int(s) for s in value.shape)}"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(s, int) for s in shape):
        return f"a {type(value).__name__} of shape {shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    return f"a {type(value).__name__}"


def as_float(value: Any, function: str) -> float | dict[str, Data]:
    """value as a Python float when it is one real number (a float, a numpy scalar, an array
    of one element); otherwise a WRONG_KIND record naming what the function returned."""
    if isinstance(value, (bool, int, float, np.integer, np.floating, np.bool_)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size == 1:
        return float(value.reshape(()))
    return {WRONG_KIND: [function, returned_kind(value), "a float"]}


def as_array(value: Any, function: str) -> np.ndarray | dict[str, Data]:
    """value as a float64 ndarray when it is a numeric array (or nested lists of numbers);
    otherwise a WRONG_KIND record naming what the function returned."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return np.asarray(value, dtype=np.float64)  # no copy of a float64 array
    if value is not None and not isinstance(value, (str, bytes, dict)):
        try:
            converted = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            pass
        else:
            if converted.ndim > 0 or isinstance(value, (int, float, np.number)):
                return converted
    return {WRONG_KIND: [function, returned_kind(value), "a float64 array"]}


def network_rows(model: Any) -> list[list[Data]]:
    """A trained nn.Sequential as plain data, one row per layer, weights in float64: the
    trusted process runs it itself (run_network) on data the child never saw, so a
    training case's verdict never rests on a number the student's process computed."""
    from torch import nn  # here: the numpy specs share this module and never load torch

    if not isinstance(model, nn.Sequential):
        return [["model", type(model).__name__]]
    rows: list[list[Data]] = []
    for layer in model.children():
        if isinstance(layer, nn.Linear):
            bias = None if layer.bias is None else layer.bias.detach().cpu().double().numpy()
            rows.append(["Linear", layer.weight.detach().cpu().double().numpy(), bias])
        else:
            rows.append([type(layer).__name__])
    return rows


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Train tiny models on one CPU thread: on a busy machine two torch threads spin-wait
    for each other and a one-second run takes forty. Restored afterwards."""
    import torch  # here, not above: the numpy specs share this module and never load torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def forward_modes(model: Any) -> Iterator[list[list[bool]]]:
    """[module.training, grad enabled] at every forward call of every module of `model`,
    recorded while inside; the hooks are gone afterwards."""
    import torch

    seen: list[list[bool]] = []
    handles = [m.register_forward_hook(
        lambda mod, i, o: seen.append([bool(mod.training), torch.is_grad_enabled()]))
        for m in model.modules()]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def in_both_modes(model: Any, call: Callable[[], Any]
                  ) -> list[tuple[bool, Data, Any, list[bool]]]:
    """call() with the model put in train mode, then in eval mode. For each: the mode it
    started in, the forward calls' modes (forward_modes), call's result, and the mode of
    every module afterwards."""
    runs = []
    for start_in_train_mode in (True, False):
        model.train(start_in_train_mode)
        with forward_modes(model) as seen:
            result = call()
        after = [bool(m.training) for m in model.modules()]
        runs.append((start_in_train_mode, seen, result, after))
    return runs


def load_linear_weights(model: Any, weights: Data) -> None:
    """Set the model's Linear layers, in order, to the given [weight (out, in), bias] pairs:
    weights the trusted process drew and knows, so it can compute the model's outputs itself."""
    import torch
    from torch import nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(linears) != len(weights):
        raise ValueError(f"{len(weights)} weight pairs for {len(linears)} Linear layers")
    with torch.no_grad():
        for layer, (weight, bias) in zip(linears, weights, strict=True):
            layer.weight.copy_(torch.as_tensor(np.asarray(weight, dtype=np.float32)))
            layer.bias.copy_(torch.as_tensor(np.asarray(bias, dtype=np.float32)))
