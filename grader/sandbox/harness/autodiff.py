"""Harness of assignment 2, autodiff: build described graphs with the student's `Value`,
call backward() and report every node's .data and .grad; report the order
topological_order gives, as node indices, for the trusted process to check.

A graph is plain data: {"leaves": [x0, ...], "steps": [[op, [operand, ...]], ...],
"grad0": [...] or None}; an operand is ["v", k] (node k) or ["c", number].
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from grader.sandbox.harness import Data

__all__ = ["deep_chain", "graphs", "topological_deep", "topological_order"]

Graph = dict[str, Any]

_BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv}


_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**"}


def _apply(op: str, args: list[Any]) -> Any:
    """The operation on Values and numbers, through the operators a student writes (a + 2, 2 * a)."""
    if op in _BINARY:
        return _BINARY[op](args[0], args[1])
    if op == "neg":
        return -args[0]
    if op == "pow":
        return args[0] ** args[1]
    return getattr(args[0], op)()


def _build(module: ModuleType, graph: Graph) -> list[Any]:
    nodes = [module.Value(float(x)) for x in graph["leaves"]]
    for op, operands in graph["steps"]:
        args = [nodes[int(v)] if kind == "v" else float(v) for kind, v in operands]
        nodes.append(_apply(op, args))
    for k, g in enumerate(graph.get("grad0") or []):  # gradients already there before backward()
        nodes[k].grad = float(g)
    return nodes


def _describe(graph: Graph) -> str:
    """The graph as the code a student would write: 'v2 = v0 * v1; v3 = exp(v2)'."""
    def name(operand: list[Any]) -> str:
        kind, v = operand
        return f"v{v}" if kind == "v" else f"{v:.4g}"

    parts = [f"v{k} = {x:.4g}" for k, x in enumerate(graph["leaves"])]
    for k, (op, operands) in enumerate(graph["steps"], start=len(graph["leaves"])):
        args = [name(o) for o in operands]
        if op in _SYMBOL:
            parts.append(f"v{k} = {args[0]} {_SYMBOL[op]} {args[1]}")
        elif op == "neg":
            parts.append(f"v{k} = -{args[0]}")
        else:
            parts.append(f"v{k} = {args[0]}.{op}()")
    if graph.get("grad0"):
        parts.append("grads set before backward(): " + ", ".join(
            f"v{k}.grad = {g:.4g}" for k, g in enumerate(graph["grad0"])))
    return "; ".join(parts) + f"; v{len(graph['leaves']) + len(graph['steps']) - 1}.backward()"


def graphs(module: ModuleType, inputs: Data) -> Data:
    results = []
    for graph in inputs["graphs"]:
        nodes = _build(module, graph)
        nodes[-1].backward()
        results.append({"data": np.asarray([float(n.data) for n in nodes]),
                        "grad": np.asarray([float(n.grad) for n in nodes]),
                        "expr": _describe(graph)})
    return {"graphs": results}


def topological_order(module: ModuleType, inputs: Data) -> Data:
    nodes: list[Any] = []
    for k, ins in enumerate(inputs["inputs"]):
        nodes.append(module.Value(float(k), tuple(nodes[int(i)] for i in ins), "node"))
    order = module.topological_order(nodes[-1])
    index = {id(node): k for k, node in enumerate(nodes)}
    return {"order": np.asarray([index.get(id(v), -1) for v in order], dtype=np.int64),
            "graph": [list(ins) for ins in inputs["inputs"]]}


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Building 10⁵ nodes (closures that refer to their own node are cycles) sets off the cycle
    collector hundreds of times, tripling the time; the graph is freed once the case is over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def deep_chain(module: ModuleType, inputs: Data) -> Data:
    """y = ((x·f1 + s1)·f2 + s2)...; backward(); the root's .data and x.grad."""
    factors, shifts = np.asarray(inputs["factors"]).tolist(), np.asarray(inputs["shifts"]).tolist()
    depth = 2 * len(factors)
    with _cycle_collector_paused():
        x = module.Value(inputs["x"])
        y = x
        for f, s in zip(factors, shifts, strict=True):
            y = y * f
            y = y + s
        try:
            y.backward()
        except RecursionError as exc:
            raise RecursionError(f"backward() recursed too deep on a {depth}-deep chain: visit the "
                                 "nodes with a loop and your own stack, not recursion") from exc
    return {"data": float(y.data), "grad": float(x.grad)}


def topological_deep(module: ModuleType, inputs: Data, depth: int) -> Data:
    """topological_order of a chain of depth + 1 nodes, as node indices (-1: not a node of it)."""
    with _cycle_collector_paused():
        nodes = [module.Value(0.0)]
        for _ in range(depth):
            nodes.append(module.Value(0.0, (nodes[-1],), "link"))
        try:
            order = list(module.topological_order(nodes[-1]))
        except RecursionError as exc:
            raise RecursionError(f"topological_order recursed too deep on a {depth}-deep chain: use "
                                 "a loop and your own stack, not recursion") from exc
        index = {id(node): k for k, node in enumerate(nodes)}
        return {"order": np.asarray([index.get(id(v), -1) for v in order], dtype=np.int64)}
