"""What several spec modules share: building cases from a table (and a hidden case from the
public case it varies), judging a function's output and the inputs it modified, judging a
dict field by field, trained networks sent back as weights and run here, and labels that
include both ends of their range. What runs a student's code is in grader/sandbox/harness/.

Shipped to students with the public specs (grader/specs/hidden/ is not): nothing here may
say anything about a hidden case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from types import ModuleType
from typing import Any

import numpy as np

from grader.grading.case import Case, Data, Judge, Verdict
from grader.grading.compare import Batch, accepts_batch

# what a child's run sends back is built by the public harness; the checks here read it
from grader.sandbox.harness._common import (  # noqa: F401  (as_*, batch_of, network_rows, one_thread: for the specs' tests)
    WRONG_KIND,
    as_array,
    as_float,
    batch_of,
    network_rows,
    one_thread,
    returned_kind,
)

Run = Callable[[ModuleType, Data], Data]
MakeInputs = Callable[[np.random.Generator], Data]


# --------------------------------------------------------------- cases from a table


def case(name: str, target: str, points: float, run: Run, judge: Judge, make_inputs: MakeInputs,
         visible: bool, description: str, **options: Any) -> Case:
    """One row of a spec's table as a Case; `options` are Case's other fields (timeout, ...)."""
    return Case(name=name, target=target, points=points, run=run, judge=judge,
                make_inputs=make_inputs, visibility="visible" if visible else "hidden",
                description=description, **options)


def hidden_variant(cases: Iterable[Case], target: str, name: str, points: float,
                   make_inputs: MakeInputs, description: str, **changes: Any) -> Case:
    """A hidden case run and judged as the one case of `target` in `cases` (its public case),
    on other inputs; `changes` replaces any other field (a judge, a timeout)."""
    matches = [c for c in cases if c.target == target]
    if len(matches) != 1:
        raise ValueError(f"{len(matches)} cases of {target!r} to vary; expected exactly one")
    return replace(matches[0], name=name, points=points, make_inputs=make_inputs,
                   visibility="hidden", description=description, **changes)


# --------------------------------------------------------------- functions that keep their inputs (judged)


def inputs_kept(judge: Judge) -> Judge:
    """Fail a case whose function modified its inputs, or returned the wrong kind of thing
    (as_float, as_array); otherwise judge actual["out"] with judge, telling it the batch's
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
            return judge(actual["out"], None)
        if "batch" in expected and accepts_batch(judge):
            shape, kind = expected["batch"]
            return judge(actual["out"], expected["out"], batch=Batch.of(shape, kind))
        return judge(actual["out"], expected["out"])

    return judged


def wrong_kind(out: Data) -> str:
    """The message of a WRONG_KIND record in out (itself, or a value of a dict), else ""."""
    records = [out] if isinstance(out, dict) and WRONG_KIND in out else (
        [v for v in out.values() if isinstance(v, dict) and WRONG_KIND in v]
        if isinstance(out, dict) else [])
    for record in records:
        function, kind, wanted = (str(part) for part in record[WRONG_KIND])
        return f"{function} returned {kind}; it must return {wanted}"
    return ""


def function_case(name: str, target: str, points: float, run: Run, judge: Judge,
                  make_inputs: MakeInputs, visible: bool, description: str) -> Case:
    """A case of a numpy function that must leave its arguments as they were: `run` returns
    {"out": ..., "modified": [argument names]} and `judge` judges "out".

    The reference answers these in about a millisecond and even a plain Python loop over the
    inputs in well under 0.1 s, so 2 s is generous and keeps an infinite loop cheap."""
    return case(name, target, points, run, inputs_kept(judge), make_inputs, visible, description,
                timeout=2.0)


def fields(**judges: Judge) -> Judge:
    """A dict output judged field by field, each with its own tolerance."""

    def judged(actual: Data, expected: Data) -> Verdict:
        for key, judge in judges.items():
            verdict = judge(actual[key], expected[key])
            if not verdict.passed:
                return Verdict(False, f"{key}: {verdict.message}")
        return Verdict(True)

    return judged


# --------------------------------------------------------------- trained networks, run here


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
