"""Grading spec of assignment 2, reverse-mode autodiff.

A case describes its graphs as plain data, which `run` builds with the student's
`module.Value`:

    {"leaves": [x0, x1, ...], "steps": [[op, [operand, ...]], ...], "grad0": [...] or None}

An operand is ["v", k], node k (the leaves first, then one node per step, in order),
or ["c", number], a plain number on that side of the operator. The last node is the
root: run calls root.backward() and returns every node's .data and .grad.

Each operation is its own target and its cases use that operation alone, so a wrong
`*` fails Value.mul and nothing else (the Value.backward cases use + and *).

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/autodiff.py. grader.specs.load_spec("autodiff") joins them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.grading.case import Case, Data, Judge, Verdict
from grader.grading.compare import close, grad_close
from grader.sandbox.harness import Harness
from grader.sandbox.harness.autodiff import _BINARY

# float64 rounding of a correct rule only (benchmarks/verdict_stability.py): log(a + 1e-7)
# or float32 arithmetic fails for every seed. A gradient that is a difference of nearly equal
# terms (v0 / v0 has gradient 0) carries an absolute rounding error of ~1e-16: atol.
VALUE = close(rtol=1e-10, atol=1e-12)
GRAD = grad_close(1e-10, atol=1e-13)

Rng = np.random.Generator
Graph = dict[str, Any]

# --------------------------------------------------------------- building a described graph

# the harness builds each described graph with the student's Value (grader/sandbox/harness/autodiff.py)
_run_graphs = Harness("autodiff.graphs")
_run_topological_order = Harness("autodiff.topological_order")


def _graphs_judge(show_graph: bool) -> Judge:
    """Node by node: .data (the forward pass), then .grad after backward(). Hidden cases hide the graph."""

    def judged(actual: Data, expected: Data) -> Verdict:
        graphs = expected["graphs"]
        for k, (a, e) in enumerate(zip(actual["graphs"], graphs, strict=True)):
            where = f"graph {k + 1} of {len(graphs)}" + (f" [{e['expr']}]" if show_graph else "")
            verdict = VALUE(a["data"], e["data"])
            if not verdict.passed:
                return Verdict(False, f"{where}: forward values (.data of v0, v1, ...): {verdict.message}")
            verdict = GRAD(a["grad"], e["grad"])
            if not verdict.passed:
                return Verdict(False, f"{where}: gradients (.grad of v0, v1, ... after backward()): "
                                      f"{verdict.message}")
        return Verdict(True)

    return judged


# --------------------------------------------------------------- making graphs that stay in their domain


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))


_ON_FLOATS: dict[str, Callable[..., float]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "neg": operator.neg, "pow": operator.pow, "exp": math.exp, "log": math.log, "tanh": math.tanh,
    "relu": lambda a: max(a, 0.0), "sigmoid": _sigmoid,
}


def _simulate(op: str, args: list[float]) -> float | None:
    """The step's value on plain floats, or None when it leaves the op's domain or a moderate range."""
    a = args[0]
    if (op == "truediv" and abs(args[1]) < 0.2) or (op == "log" and a < 1e-4) or (op == "exp" and a > 8):
        return None
    if op == "pow" and ((args[1] != round(args[1]) and a < 0.05) or (args[1] < 0 and abs(a) < 0.2)):
        return None
    result = _ON_FLOATS[op](*args)
    return result if isinstance(result, float) and abs(result) <= 1e6 else None


def _signed(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


_BINARY_LEAF: dict[str, Callable[[Rng], float]] = {
    "add": lambda rng: float(rng.normal(0, 2)),
    "sub": lambda rng: float(rng.normal(0, 2)),
    "mul": lambda rng: _signed(rng, 0.5, 1.5),
    "truediv": lambda rng: _signed(rng, 0.5, 2.0),
}


def _binary_visible(op: str) -> Callable[[Rng], Data]:
    """a op b;  c1 op (a op c0): numbers on both sides;  (a op a) op b: one node on both sides."""

    def make(rng: Rng) -> Data:
        leaf = _BINARY_LEAF[op]
        a, b = leaf(rng), leaf(rng)
        c0, c1 = round(leaf(rng), 2), round(leaf(rng), 2)
        return {"graphs": [
            {"leaves": [a, b], "steps": [[op, [["v", 0], ["v", 1]]]], "grad0": None},
            {"leaves": [a], "steps": [[op, [["v", 0], ["c", c0]]], [op, [["c", c1], ["v", 1]]]],
             "grad0": None},
            {"leaves": [a, b], "steps": [[op, [["v", 0], ["v", 0]]], [op, [["v", 2], ["v", 1]]]],
             "grad0": None},
        ]}

    return make


_UNARY_LEAF: dict[str, Callable[[Rng], float]] = {
    "neg": lambda rng: float(rng.normal(0, 3)),
    "pow": lambda rng: float(rng.uniform(0.3, 2.5)),
    "exp": lambda rng: float(rng.uniform(-3, 1.5)),
    "log": lambda rng: float(rng.uniform(0.2, 12)),
    "tanh": lambda rng: float(rng.uniform(-3, 3)),
    "relu": lambda rng: float(rng.normal(0, 2)),
    "sigmoid": lambda rng: float(rng.uniform(-6, 6)),
}

_VISIBLE_EXPONENTS = [2.0, 3.0, 0.5, -1.0]


def _chain(op: str, x: float, exponents: list[float]) -> Graph | None:
    """x → op → op → ...: one step per exponent (pow) or per entry (other ops); None if x is out of domain."""
    values, steps = [x], []
    for k in exponents:
        operands: list[Any] = [["v", len(values) - 1]] + ([["c", k]] if op == "pow" else [])
        result = _simulate(op, [values[-1]] + ([k] if op == "pow" else []))
        if result is None:
            break
        steps.append([op, operands])
        values.append(result)
    return {"leaves": [x], "steps": steps, "grad0": None} if steps else None


def _unary_graph(rng: Rng, op: str, leaf: Callable[[Rng], float], depth: int,
                 exponents: list[float]) -> Graph:
    for _ in range(100):
        ks = [float(rng.choice(exponents)) for _ in range(depth)]
        x = leaf(rng)
        if op == "pow" and x < 0:
            ks = [float(rng.choice([2.0, 3.0, -1.0])) for _ in range(depth)]
        graph = _chain(op, x, ks)
        if graph is not None:
            return graph
    raise RuntimeError(f"no {op} chain in its domain")  # unreachable with the samplers above


def _unary_visible(op: str) -> Callable[[Rng], Data]:
    """op(x) at three points (pow: four exponents), and op(op(x))."""

    def make(rng: Rng) -> Data:
        leaf = _UNARY_LEAF[op]
        if op == "pow":
            singles = [_chain(op, leaf(rng), [k]) for k in _VISIBLE_EXPONENTS]
        else:
            singles = [_unary_graph(rng, op, leaf, 1, _VISIBLE_EXPONENTS) for _ in range(3)]
        return {"graphs": singles + [_unary_graph(rng, op, leaf, 2, _VISIBLE_EXPONENTS)]}

    return make


# --------------------------------------------------------------- Value.backward


def _backward_visible(rng: Rng) -> Data:
    """The lesson's c = a * b + a, and a graph where intermediate nodes are reused too."""
    a, b, c = (float(rng.normal(0, 1.5)) for _ in range(3))
    lesson = {"leaves": [a, b], "steps": [["mul", [["v", 0], ["v", 1]]], ["add", [["v", 2], ["v", 0]]]],
              "grad0": None}
    shared = {"leaves": [a, b, c], "grad0": None, "steps": [
        ["mul", [["v", 0], ["v", 1]]],   # v3 = a * b
        ["add", [["v", 3], ["v", 0]]],   # v4 = v3 + a
        ["mul", [["v", 4], ["v", 2]]],   # v5 = v4 * c
        ["add", [["v", 5], ["v", 3]]],   # v6 = v5 + v3
        ["mul", [["v", 6], ["v", 6]]],   # v7 = v6 * v6
    ]}
    return {"graphs": [lesson, shared]}


# --------------------------------------------------------------- topological_order


def _dag(rng: Rng, n: int, max_inputs: int, repeats: bool) -> Data:
    """Node k's inputs are earlier nodes; some nodes are shared, some do not reach the root."""
    inputs: list[list[int]] = [[]]
    for k in range(1, n):
        arity = int(rng.integers(0, max_inputs + 1)) if k > 2 else int(rng.integers(1, 3))
        chosen = rng.integers(0, k, arity).tolist()
        if not repeats:
            chosen = sorted(set(chosen))
        inputs.append([int(i) for i in chosen])
    inputs[-1] = sorted(set(inputs[-1]) | {n - 2, int(rng.integers(0, n - 1))})  # a root with inputs
    return {"inputs": inputs}


def _valid_order(actual: Data, expected: Data) -> Verdict:
    """Checked against the graph as the trusted side built it (expected["graph"])."""
    graph = expected["graph"]
    root = len(graph) - 1
    reachable, stack = set(), [root]
    while stack:
        k = stack.pop()
        if k not in reachable:
            reachable.add(k)
            stack.extend(graph[k])
    order = [int(k) for k in np.asarray(actual["order"]).ravel()]
    if -1 in order:
        return Verdict(False, "the list holds an object that is not one of the graph's Value nodes")
    seen: set[int] = set()
    for k in order:
        if k in seen:
            return Verdict(False, "a node appears more than once: keep a set of the nodes already visited")
        seen.add(k)
    if seen - reachable:
        return Verdict(False, "the list holds nodes the root does not depend on")
    if missing := reachable - seen:
        return Verdict(False, f"{len(missing)} of the graph's {len(reachable)} nodes are missing")
    if order[-1] != root:
        return Verdict(False, "the root must come last")
    position = {k: p for p, k in enumerate(order)}
    for k in order:
        if any(position[i] > position[k] for i in graph[k]):
            return Verdict(False, "a node comes before one of its inputs: a node may only be added "
                                  "after all of its inputs")
    return Verdict(True)


# --------------------------------------------------------------- the cases

_OPS: list[tuple[str, str, str]] = [  # (op, target, what it computes, for the description)
    ("add", "Value.add", "a + b"), ("sub", "Value.sub", "a - b"), ("mul", "Value.mul", "a * b"),
    ("truediv", "Value.truediv", "a / b"), ("neg", "Value.neg", "-a"), ("pow", "Value.pow", "a ** k"),
    ("exp", "Value.exp", "a.exp()"), ("log", "Value.log", "a.log()"), ("tanh", "Value.tanh", "a.tanh()"),
    ("relu", "Value.relu", "a.relu()"), ("sigmoid", "Value.sigmoid", "a.sigmoid()"),
]


def _op_visible_cases() -> list[Case]:
    cases = []
    for op, target, expr in _OPS:
        binary = op in _BINARY
        cases.append(Case(
            name=f"{op}_small_graphs", target=target, points=3, run=_run_graphs,
            judge=_graphs_judge(show_graph=True),
            make_inputs=_binary_visible(op) if binary else _unary_visible(op),
            visibility="visible", timeout=5.0,
            description=(f"{expr} with Values and numbers on either side, and with one node on both "
                         "sides: forward values and gradients." if binary else
                         f"{expr} at a few points and applied twice: forward values and gradients.")))
    return cases


PUBLIC_CASES: tuple[Case, ...] = (
    *_op_visible_cases(),
    Case(name="backward_reused_nodes", target="Value.backward", points=4, run=_run_graphs,
         judge=_graphs_judge(show_graph=True), make_inputs=_backward_visible, visibility="visible",
         timeout=5.0, description="backward() on graphs of + and * where nodes are used more than once."),
    Case(name="topological_order_small", target="topological_order", points=3,
         run=_run_topological_order, judge=_valid_order, make_inputs=lambda rng: _dag(rng, 8, 2, False),
         visibility="visible", timeout=5.0,
         description="topological_order of a small graph with shared nodes: each node once, after its inputs, root last."),
)
