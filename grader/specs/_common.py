"""What several spec modules share: building cases from a table (and a hidden case from the
public case it varies), calling a function while noting which arguments it modified,
judging a dict field by field, trained networks sent back as weights and run here, labels
that include both ends of their range, and training tiny torch models on one thread.

Shipped to students with the public specs (grader/specs/hidden/ is not): nothing here may
say anything about a hidden case.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np

from grader.grading.case import Case, Check, Data, Verdict
from grader.grading.compare import Batch, accepts_batch

Run = Callable[[ModuleType, Data], Data]
MakeInputs = Callable[[np.random.Generator], Data]


# --------------------------------------------------------------- cases from a table


def case(name: str, target: str, points: float, run: Run, check: Check, make_inputs: MakeInputs,
         visible: bool, description: str, **options: Any) -> Case:
    """One row of a spec's table as a Case; `options` are Case's other fields (timeout, ...)."""
    return Case(name=name, target=target, points=points, run=run, check=check,
                make_inputs=make_inputs, visibility="visible" if visible else "hidden",
                description=description, **options)


def hidden_variant(cases: Iterable[Case], target: str, name: str, points: float,
                   make_inputs: MakeInputs, description: str, **changes: Any) -> Case:
    """A hidden case run and judged as the one case of `target` in `cases` (its public case),
    on other inputs; `changes` replaces any other field (a check, a timeout)."""
    matches = [c for c in cases if c.target == target]
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} cases of {target!r} to vary; expected exactly one")
    return replace(matches[0], name=name, points=points, make_inputs=make_inputs,
                   visibility="hidden", description=description, **changes)


# --------------------------------------------------------------- functions that keep their inputs


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


def inputs_kept(check: Check) -> Check:
    """Fail a case whose function modified its inputs, or returned the wrong kind of thing
    (as_float, as_array); otherwise judge actual["out"] with check, telling it the batch's
    shape where the reference's run reported one (batch_of)."""

    def judged(actual: Data, expected: Data) -> Verdict:
        wrong = wrong_kind(actual["out"])
        if wrong:
            return Verdict(False, wrong)
        if actual["modified"]:
            names = ", ".join(actual["modified"])
            return Verdict(False, f"the function modified its input(s) {names}: compute new arrays "
                                  "instead of writing into the arguments")
        if expected is None:
            return check(actual["out"], None)
        if "batch" in expected and accepts_batch(check):
            shape, kind = expected["batch"]
            return check(actual["out"], expected["out"], batch=Batch.of(shape, kind))
        return check(actual["out"], expected["out"])

    return judged


def batch_of(inputs: Data, name: str, kind: str) -> list[Data]:
    """What a function case's run reports beside "out" so that hints can use the batch's
    N and D: [the shape of the input called name, "loss" or "gradient"]. Only the
    reference's report (run here, on the trusted side) is read."""
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


def wrong_kind(out: Data) -> str:
    """The message of a WRONG_KIND record in out (itself, or a value of a dict), else ""."""
    records = [out] if isinstance(out, dict) and WRONG_KIND in out else (
        [v for v in out.values() if isinstance(v, dict) and WRONG_KIND in v]
        if isinstance(out, dict) else [])
    for record in records:
        function, kind, wanted = (str(part) for part in record[WRONG_KIND])
        return f"{function} returned {kind}; it must return {wanted}"
    return ""


def function_case(name: str, target: str, points: float, run: Run, check: Check,
                  make_inputs: MakeInputs, visible: bool, description: str) -> Case:
    """A case of a numpy function that must leave its arguments as they were: `run` returns
    {"out": ..., "modified": [argument names]} and `check` judges "out".

    The reference answers these in about a millisecond and even a plain Python loop over the
    inputs in well under 0.1 s, so 2 s is generous and keeps an infinite loop cheap."""
    return case(name, target, points, run, inputs_kept(check), make_inputs, visible, description,
                timeout=2.0)


def floats(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def fields(**checks: Check) -> Check:
    """A dict output judged field by field, each with its own tolerance."""

    def judged(actual: Data, expected: Data) -> Verdict:
        for key, check in checks.items():
            verdict = check(actual[key], expected[key])
            if not verdict.passed:
                return Verdict(False, f"{key}: {verdict.message}")
        return Verdict(True)

    return judged


# --------------------------------------------------------------- trained networks, run here


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


ACTIVATIONS = {"ReLU": lambda z: np.maximum(z, 0.0), "Tanh": np.tanh,
                "Sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),  # overflow-free
                "Dropout": lambda z: z}  # evaluation: dropout is the identity


def run_network(network: Data, widths: list[int], x: np.ndarray) -> np.ndarray | str:
    """The network's outputs on x, computed here; a str says why the network is not a stack
    of Linear layers of these widths with activations (and Dropout) between. Shapes are
    checked before any arithmetic, so a child cannot make this process multiply matrices
    of its choosing."""
    if network and network[0][0] == "model":
        return f"the model is a {network[0][1]}, not an nn.Sequential"
    shapes = [[int(np.shape(row[1])[1]), int(np.shape(row[1])[0])]
              for row in network if row[0] == "Linear"]
    want = [[i, o] for i, o in zip(widths, widths[1:], strict=False)]
    if shapes != want:
        return f"the model's Linear layers are (in, out) = {shapes}, expected {want}"
    out = np.asarray(x, dtype=np.float64)
    for row in network:
        if row[0] == "Linear":
            out = out @ np.asarray(row[1], dtype=np.float64).T
            if row[2] is not None:
                out = out + np.asarray(row[2], dtype=np.float64).reshape(-1)
        elif row[0] in ACTIVATIONS:
            out = ACTIVATIONS[row[0]](out)
        else:
            return f"the model holds a {row[0]} layer; expected Linear, ReLU/Sigmoid/Tanh, Dropout"
    return out


def network_accuracy(network: Data, labelled: Data) -> float | str:
    """A classifier network's accuracy on withheld points {"x", "y", "widths"}, computed here
    (a str: why the network cannot be run)."""
    logits = run_network(network, labelled["widths"], labelled["x"])
    if isinstance(logits, str):
        return logits
    return float(np.mean(np.argmax(logits, axis=1) == labelled["y"]))


# --------------------------------------------------------------- inputs


def labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """n labels in [0, c) that include both ends of the range, 0 and c − 1."""
    drawn = rng.integers(0, c, n)
    drawn[:2] = [0, c - 1]
    return rng.permutation(drawn).astype(np.int64)


# --------------------------------------------------------------- torch


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
