"""What several spec modules share: building cases from a table (and a hidden case from the
public case it varies), calling a function while noting which arguments it modified,
judging a dict field by field, labels that include both ends of their range, and training
tiny torch models on one thread.

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

from grader.spec import Case, Check, Data, Verdict

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
    """Fail a case whose function modified its inputs; otherwise judge actual["out"] with check."""

    def judged(actual: Data, expected: Data) -> Verdict:
        if actual["modified"]:
            names = ", ".join(actual["modified"])
            return Verdict(False, f"the function modified its input(s) {names}: compute new arrays "
                                  "instead of writing into the arguments")
        return check(actual["out"], None if expected is None else expected["out"])

    return judged


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
