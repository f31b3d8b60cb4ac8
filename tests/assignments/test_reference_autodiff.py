"""The autodiff reference against torch.autograd on random expression graphs, and on deep chains."""

from __future__ import annotations

import math
import operator
import sys

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reference.autodiff import Value, topological_order

FAST = settings(max_examples=60, deadline=None)

# name -> (arity, how to apply it to (Value or tensor) operands and a constant)
OPS = {
    "add": (2, lambda a, b, c: a + b),
    "sub": (2, lambda a, b, c: a - b),
    "mul": (2, lambda a, b, c: a * b),
    "truediv": (2, lambda a, b, c: a / b),
    "add_const": (1, lambda a, b, c: a + c),
    "radd": (1, lambda a, b, c: c + a),
    "sub_const": (1, lambda a, b, c: a - c),
    "rsub": (1, lambda a, b, c: c - a),
    "mul_const": (1, lambda a, b, c: a * c),
    "rmul": (1, lambda a, b, c: c * a),
    "div_const": (1, lambda a, b, c: a / c),
    "rtruediv": (1, lambda a, b, c: c / a),
    "neg": (1, lambda a, b, c: -a),
    "pow": (1, lambda a, b, c: a**c),
    "exp": (1, lambda a, b, c: a.exp()),
    "log": (1, lambda a, b, c: a.log()),
    "tanh": (1, lambda a, b, c: a.tanh()),
    "relu": (1, lambda a, b, c: a.relu()),
    "sigmoid": (1, lambda a, b, c: a.sigmoid()),
}
EXPONENTS = [2, 3, -1, -2, 0, 1, 0.5, 1.5, 2.5]


def _valid(op: str, a: float, b: float, c: float) -> bool:
    """Keep every operation inside its domain and every value moderate, for float64 agreement."""
    if op == "truediv":
        return abs(b) > 0.1
    if op == "div_const":
        return abs(c) > 0.1
    if op == "rtruediv":
        return abs(a) > 0.1
    if op == "log":
        return a > 0.05
    if op == "exp":
        return a < 5.0
    if op == "pow":
        if c != int(c) and a <= 0.05:
            return False
        return not (c < 0 and abs(a) < 0.1)
    return True


@st.composite
def graphs(draw):
    """(leaf values, steps): each step is (op, first operand, second operand, constant)."""
    leaves = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4))
    steps = []
    count = len(leaves)
    for _ in range(draw(st.integers(1, 25))):
        op = draw(st.sampled_from(sorted(OPS)))
        recent = st.integers(max(0, count - 3), count - 1)
        first = draw(st.one_of(recent, st.integers(0, count - 1)))
        second = draw(st.one_of(st.just(first), st.integers(0, count - 1)))  # x op x, reuse
        const = draw(st.sampled_from(EXPONENTS)) if op == "pow" else draw(st.floats(-3, 3))
        steps.append((op, first, second, const))
        count += 1
    return leaves, steps


def build(leaves, steps, make_leaf):
    """Apply the steps with the given leaf type; an out-of-domain step becomes tanh of its operand."""
    nodes = [make_leaf(x) for x in leaves]
    values = list(leaves)
    for op, i, j, const in steps:
        a, b = values[i], values[j]
        name = op if _valid(op, a, b, const) else "tanh"
        node = OPS[name][1](nodes[i], nodes[j], const)
        value = node.data if isinstance(node, Value) else node.item()
        if abs(value) > 1e3:  # keep magnitudes moderate: squash it
            node = node.tanh()
            value = math.tanh(value)
        nodes.append(node)
        values.append(value)
    used = {k for _, i, j, _ in steps for k in (i, j)}
    root = nodes[-1]
    for k, node in enumerate(nodes[:-1]):  # every dangling node reaches the root
        if k not in used:
            root = root + node
    return nodes, root


def torch_leaf(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


EVERY_OPERATION = (  # each operation once, on leaves inside its domain, plus x * x and a chain
    [0.7, -1.3, 2.1],
    [(op, 2 if op in ("log", "pow") else 0, 1, 1.5) for op in sorted(OPS)]
    + [("mul", 0, 0, 0.0), ("tanh", 21, 21, 0.0), ("mul", 22, 1, 0.0)],
)


@FAST
@example(graph=EVERY_OPERATION)
@given(graph=graphs())
def test_random_graphs_match_torch_autograd(graph):
    leaves, steps = graph
    nodes, root = build(leaves, steps, Value)
    root.backward()

    tnodes, troot = build(leaves, steps, torch_leaf)
    for t in tnodes:
        t.retain_grad()
    troot.backward()

    assert root.data == pytest.approx(troot.item(), rel=1e-9, abs=1e-9)
    for node, t in zip(nodes, tnodes, strict=True):
        assert node.data == pytest.approx(t.item(), rel=1e-9, abs=1e-12)
        expected = 0.0 if t.grad is None else t.grad.item()
        assert node.grad == pytest.approx(expected, rel=1e-8, abs=1e-9)


def test_every_operation_appears_in_the_random_graphs():
    seen = set()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(graph=graphs())
    def collect(graph):
        seen.update(op for op, *_ in graph[1])

    collect()
    assert seen == set(OPS)


def test_numbers_on_either_side():
    v = Value(4.0)
    results = {
        "v + 2": (v + 2, 6.0), "2 + v": (2 + v, 6.0), "v - 1": (v - 1, 3.0), "1 - v": (1 - v, -3.0),
        "v * 3": (v * 3, 12.0), "3 * v": (3 * v, 12.0), "v / 2": (v / 2, 2.0), "2 / v": (2 / v, 0.5),
        "-v": (-v, -4.0), "v ** 0.5": (v**0.5, 2.0),
    }
    for label, (node, expected) in results.items():
        assert isinstance(node, Value), label
        assert node.data == pytest.approx(expected), label
    local = {"2 / v": -2 / 16, "1 - v": -1.0, "3 * v": 3.0, "v ** 0.5": 0.25, "-v": -1.0}
    for label, expected in local.items():
        leaf = Value(4.0)
        node = {"2 / v": lambda x: 2 / x, "1 - v": lambda x: 1 - x, "3 * v": lambda x: 3 * x,
                "v ** 0.5": lambda x: x**0.5, "-v": lambda x: -x}[label](leaf)
        node.backward()
        assert leaf.grad == pytest.approx(expected), label


def test_power_zero_has_gradient_zero_even_at_zero():
    x = Value(0.0)
    y = x**0
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)


def test_power_takes_numbers_only():
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)


def test_reused_node_gets_both_contributions_and_backward_accumulates():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a  # the lesson's example: dc/da = b + 1, dc/db = a
    c.backward()
    assert (a.grad, b.grad, c.grad) == (-2.0, 2.0, 1.0)

    x = Value(3.0)
    x.grad = 0.5  # a gradient already there is added to, not replaced
    y = x * x
    y.backward()
    assert x.grad == 0.5 + 6.0


def test_sigmoid_and_exp_do_not_overflow_where_the_answer_is_finite():
    for x in (-1000.0, 1000.0):
        s = Value(x).sigmoid()
        assert 0.0 <= s.data <= 1.0
        s.backward()
    assert Value(-1000.0).exp().data == 0.0


# --------------------------------------------------------------- topological order


@st.composite
def dags(draw):
    """A random DAG made with the constructor alone: list of input-index tuples per node."""
    n = draw(st.integers(1, 30))
    inputs = [()]
    for k in range(1, n):
        arity = draw(st.integers(0, 3))
        inputs.append(tuple(draw(st.integers(0, k - 1)) for _ in range(arity)))
    return inputs


@FAST
@given(inputs=dags())
def test_topological_order_is_a_valid_order_of_the_reachable_nodes(inputs):
    nodes: list[Value] = []
    for k, ins in enumerate(inputs):
        nodes.append(Value(float(k), tuple(nodes[i] for i in ins), "node"))
    root = nodes[-1]
    order = topological_order(root)

    reachable, stack = set(), [len(nodes) - 1]
    while stack:
        k = stack.pop()
        if k not in reachable:
            reachable.add(k)
            stack.extend(inputs[k])
    labels = [int(v.data) for v in order]
    assert len(labels) == len(set(labels)), "every node once"
    assert set(labels) == reachable
    assert all(o is nodes[k] for o, k in zip(order, labels, strict=True))
    position = {k: p for p, k in enumerate(labels)}
    for k in labels:
        assert all(position[i] < position[k] for i in inputs[k]), "inputs come first"
    assert order[-1] is root


# --------------------------------------------------------------- depth

DEPTH = 100_000


def test_backward_of_a_100_000_deep_chain():
    limit = sys.getrecursionlimit()
    x = Value(0.3)
    y = x
    factors = [1.0 + ((k % 7) - 3) * 1e-5 for k in range(DEPTH // 2)]
    for f in factors:  # DEPTH operations, alternating * and +
        y = y * f
        y = y + 0.001
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == pytest.approx(math.prod(factors), rel=1e-9)

    order = topological_order(y)
    assert len(order) == 2 * DEPTH + 1  # x, and per step the constant and the result
    position_of_x = next(k for k, v in enumerate(order) if v is x)
    first_result = next(k for k, v in enumerate(order) if v.inputs)
    assert position_of_x < first_result  # every result depends on x
    assert order[-1] is y


def test_topological_order_of_a_deep_chain_without_operations():
    nodes = [Value(0.0)]
    for _ in range(DEPTH):
        nodes.append(Value(0.0, (nodes[-1],), "link"))
    order = topological_order(nodes[-1])
    assert len(order) == DEPTH + 1
    assert all(a is b for a, b in zip(order, nodes, strict=True))


@pytest.mark.parametrize("op", ["add", "mul"])
def test_an_operation_records_its_operands_as_inputs(op):
    a, b = Value(1.5), Value(-2.0)
    out = getattr(operator, op)(a, b)
    out.backward()
    assert out.inputs == (a, b)
    assert (a.grad, b.grad) == ((1.0, 1.0) if op == "add" else (-2.0, 1.5))
