"""Hidden cases of assignment 2 (autodiff): random graphs with reused nodes, chains at
the edges of each operation's range, gradients that accumulate, and 100 000-deep chains
for backward() and topological_order. Never shipped to students.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from grader.grading.case import Case, Data, Verdict
from grader.sandbox.harness import Harness
from grader.specs._common import hidden_variant
from grader.specs.autodiff import (
    _BINARY,
    _BINARY_LEAF,
    _ON_FLOATS,
    _OPS,
    _UNARY_LEAF,
    PUBLIC_CASES,
    Graph,
    Rng,
    _dag,
    _graphs_judge,
    _signed,
    _simulate,
    _unary_graph,
)

DEPTH = 100_000
_run_deep_chain = Harness("autodiff.deep_chain")
_run_topological_deep = Harness("autodiff.topological_deep", depth=DEPTH)


def _random_graph(rng: Rng, ops: list[str], leaf: Callable[[Rng], float], n_leaves: int,
                  n_steps: int, reuse: float = 0.5) -> Graph:
    """A DAG of binary steps: each step extends the chain to the root with a leaf (first), an
    earlier node (reuse), the chain node itself (x op x), or a number, on either side."""
    leaves = [leaf(rng) for _ in range(n_leaves)]
    values = list(leaves)
    steps: list[list[Any]] = []
    for t in range(n_steps):
        chain = len(values) - 1 if t else 0
        op = str(rng.choice(ops))
        for _ in range(100):
            r = rng.random()
            if t < n_leaves - 1:
                other: list[Any] = ["v", t + 1]
            elif r < 0.1:
                other = ["v", chain]
            elif r < 0.1 + reuse:
                other = ["v", int(rng.integers(len(values)))]
            else:
                other = ["c", round(leaf(rng), 3)]
            operands = [["v", chain], other]
            if rng.random() < 0.5:
                operands.reverse()
            result = _simulate(op, [values[v] if kind == "v" else v for kind, v in operands])
            if result is not None:
                break
        else:  # every draw left the domain: a safe step
            operands, result = [["v", chain], ["c", 1.0]], _ON_FLOATS[op](values[chain], 1.0)
        steps.append([op, operands])
        values.append(result)
    return {"leaves": leaves, "steps": steps, "grad0": None}


def _binary_hidden(op: str) -> Callable[[Rng], Data]:
    def make(rng: Rng) -> Data:
        return {"graphs": [_random_graph(rng, [op], _BINARY_LEAF[op], 3, 8) for _ in range(2)]}

    return make


# Leaves at the edges of each operation's range (hidden cases).
_UNARY_EDGE: dict[str, Callable[[Rng], float]] = {
    "neg": lambda rng: float(rng.normal(0, 100)),
    "pow": lambda rng: -float(rng.uniform(0.5, 2.0)),  # a negative base: integer exponents only
    "exp": lambda rng: -float(rng.uniform(10, 30)),
    "log": lambda rng: float(rng.uniform(1e-3, 1e-2)),
    "tanh": lambda rng: _signed(rng, 4, 8),
    "relu": lambda rng: -float(rng.uniform(0.1, 3)),  # relu(relu(x)) meets relu at exactly 0
    "sigmoid": lambda rng: _signed(rng, 15, 30),
}


_HIDDEN_EXPONENTS = [2.0, 3.0, 0.5, -1.0, -2.0, 1.5, 2.5, 0.0, 1.0, -0.5]


def _unary_hidden(op: str) -> Callable[[Rng], Data]:
    """Chains of one to three applications, at ordinary points and at the op's edges."""

    def make(rng: Rng) -> Data:
        graphs = [_unary_graph(rng, op, _UNARY_LEAF[op], int(rng.integers(1, 4)), _HIDDEN_EXPONENTS)
                  for _ in range(3)]
        graphs += [_unary_graph(rng, op, _UNARY_EDGE[op], depth, _HIDDEN_EXPONENTS) for depth in (1, 2)]
        return {"graphs": graphs}

    return make


def _mixed_leaf(rng: Rng) -> float:
    return _signed(rng, 0.3, 1.5)


def _backward_random(rng: Rng) -> Data:
    return {"graphs": [_random_graph(rng, ["add", "mul"], _mixed_leaf, 4, 16, reuse=0.7)
                       for _ in range(2)]}


def _backward_accumulates(rng: Rng) -> Data:
    graph = _random_graph(rng, ["add", "mul"], _mixed_leaf, 3, 8, reuse=0.7)
    graph["grad0"] = [round(float(rng.normal()), 3) for _ in graph["leaves"]]
    return {"graphs": [graph]}


def _deep_chain_inputs(rng: Rng) -> Data:
    """y = ((x·f1 + s1)·f2 + s2)...: DEPTH operations; the answer, dy/dx = Π f, is computed here
    in the trusted process and withheld from the child."""
    x = float(rng.uniform(0.5, 1.5))
    factors = 1.0 + rng.uniform(-1e-4, 1e-4, DEPTH // 2)
    shifts = rng.uniform(-0.01, 0.01, DEPTH // 2)
    data, grad = x, 1.0
    for f, s in zip(factors.tolist(), shifts.tolist(), strict=True):
        data, grad = data * f + s, grad * f
    return {"x": x, "factors": factors, "shifts": shifts, "answer": {"data": data, "grad": grad}}


def _deep_chain_judge(actual: Data, expected: Data) -> Verdict:
    for key, what in (("data", "the root's .data"), ("grad", "x.grad")):
        got, want = actual[key], expected["answer"][key]
        if not abs(got - want) <= 1e-8 * abs(want):
            return Verdict(False, f"after backward() of a {DEPTH}-deep chain, {what} is {got!r}, "
                                  f"expected {want!r}")
    return Verdict(True)


def _topological_deep_judge(actual: Data, expected: Data) -> Verdict:
    """Judged here from the order itself, as node indices (a count could be forged)."""
    order = np.asarray(actual["order"]).ravel()
    if order.size != DEPTH + 1:
        return Verdict(False, f"a chain of {DEPTH + 1} nodes gave a list of {order.size}")
    misplaced = int(np.count_nonzero(order != np.arange(DEPTH + 1)))
    if misplaced:
        return Verdict(False, f"{misplaced} nodes of a chain are out of order")
    return Verdict(True)


HIDDEN_GRAPHS = _graphs_judge(show_graph=False)  # a hidden case's message never shows its graph

# (target, name, points, make_inputs, description, **changes): the target's public case varied
_harder = partial(hidden_variant, PUBLIC_CASES)


def _op_hidden_case(op: str, target: str, expr: str) -> Case:
    if op in _BINARY:
        return _harder(target, f"{op}_random_graphs", 4, _binary_hidden(op),
                       f"Random graphs of {expr} with reused nodes and numbers on either side.",
                       judge=HIDDEN_GRAPHS)
    return _harder(target, f"{op}_random_graphs", 4, _unary_hidden(op),
                   f"Chains of {expr} at ordinary points and at the edges of its range.",
                   judge=HIDDEN_GRAPHS)


HIDDEN_CASES: tuple[Case, ...] = (
    *(_op_hidden_case(*op) for op in _OPS),
    _harder("Value.backward", "backward_random_graphs", 4, _backward_random,
            "backward() on random graphs of + and * with many reused nodes.", judge=HIDDEN_GRAPHS),
    _harder("Value.backward", "backward_accumulates", 3, _backward_accumulates,
            "backward() adds to the gradients the leaves already hold.", judge=HIDDEN_GRAPHS),
    Case(name="backward_deep_chain", target="Value.backward", points=4, run=_run_deep_chain,
         judge=_deep_chain_judge, make_inputs=_deep_chain_inputs, timeout=20.0, uses_reference=False,
         withheld=("answer",),
         description=f"backward() of a {DEPTH}-deep chain works (no recursion) and gives the right gradient."),
    _harder("topological_order", "topological_order_shared", 3, lambda rng: _dag(rng, 40, 3, True),
            "topological_order of a larger graph with shared and repeated inputs."),
    Case(name="topological_order_deep_chain", target="topological_order", points=2,
         run=_run_topological_deep, judge=_topological_deep_judge, timeout=20.0, uses_reference=False,
         description=f"topological_order of a {DEPTH + 1}-node chain works without recursion."),
)
