"""The autodiff spec: the reference passes it, the stub fails it, a buggy copy fails only its target."""

from __future__ import annotations

import inspect
import types

import pytest
from spec_helpers import STUDENTS, SpecBench, assert_fails_exactly, per_case_tests

from assignments import autodiff as stub
from grader.grading.case import case_rng
from grader.specs import load_spec
from reference import autodiff as ref

SPEC = load_spec("autodiff")  # public cases + hidden ones (grader/specs/hidden/autodiff.py)
BENCH = SpecBench(SPEC, ref, stub)
CASES = BENCH.cases

OPERATIONS = ["add", "sub", "mul", "truediv", "neg", "pow", "exp", "log", "tanh", "relu", "sigmoid"]
API_TARGETS = {f"Value.{op}" for op in OPERATIONS} | {"Value.backward", "topological_order"}


# --------------------------------------------------------------- the spec's shape


def test_points_and_visibility():
    assert SPEC.max_points == 100
    visible = sum(c.points for c in SPEC.visible_cases)
    assert 35 <= visible <= 45, visible
    assert all(c.description for c in SPEC.cases)
    for case in SPEC.cases:
        assert case.timeout == (20 if "deep_chain" in case.name else 5), case.name


def test_every_operation_is_its_own_target_with_visible_and_hidden_cases():
    targets = {c.target for c in SPEC.cases}
    assert targets == API_TARGETS
    for target in targets:
        kinds = {c.visibility for c in SPEC.cases if c.target == target}
        assert kinds == {"visible", "hidden"}, target
    deep = {c.target for c in SPEC.cases if "deep_chain" in c.name and not c.uses_reference}
    assert deep == {"Value.backward", "topological_order"}


def test_each_operation_case_uses_its_operation_only():
    for case in SPEC.cases:
        if case.target.removeprefix("Value.") not in OPERATIONS:
            continue
        for student in STUDENTS:
            inputs = case.make_inputs(case_rng(student, SPEC.name, case.name))
            ops = {op for graph in inputs["graphs"] for op, _ in graph["steps"]}
            assert ops == {case.target.removeprefix("Value.")}, case.name


def test_graphs_cover_reuse_numbers_on_either_side_and_one_node_on_both_sides():
    visible = CASES["mul_small_graphs"].make_inputs(case_rng("alice", SPEC.name, "mul_small_graphs"))
    operands = [operands for graph in visible["graphs"] for _, operands in graph["steps"]]
    assert ["v", 0] in operands[0] and ["v", 1] in operands[0]
    assert any(o[0][0] == "c" for o in operands) and any(o[1][0] == "c" for o in operands)
    assert any(o[0] == o[1] for o in operands)


# the tests every spec passes (spec_helpers), under this module's name
test_inputs_are_plain_deterministic_and_per_student, test_reference_passes, test_stub_fails = (
    per_case_tests(BENCH))


# --------------------------------------------------------------- bugs: each fails its target's cases


def patched(*edits: tuple[str, str]) -> types.ModuleType:
    """The reference's source with each `old` snippet (found exactly once) replaced by `new`."""
    source = inspect.getsource(ref)
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    module = types.ModuleType("buggy_autodiff")
    exec(compile(source, "<buggy autodiff>", "exec"), module.__dict__)
    return module


RECURSIVE_TOPOLOGICAL_ORDER = """

def topological_order(root):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for child in node.inputs:
                visit(child)
            order.append(node)

    visit(root)
    return order
"""

TARGET_CASES = {t: {c.name for c in SPEC.cases if c.target == t} for t in API_TARGETS}

BUGS = {  # bug -> (source edits, the cases that must fail)
    "truediv: wrong sign for the denominator": (
        [("other.grad -= out.grad * self.data / other.data**2",
          "other.grad += out.grad * self.data / other.data**2")], TARGET_CASES["Value.truediv"]),
    "pow: k·a**k instead of k·a**(k − 1)": (
        [("exponent * self.data ** (exponent - 1) * out.grad", "exponent * self.data**exponent * out.grad")],
        TARGET_CASES["Value.pow"]),
    "tanh: 1 − tanh instead of 1 − tanh²": (
        [("(1.0 - out.data**2) * out.grad", "(1.0 - out.data) * out.grad")], TARGET_CASES["Value.tanh"]),
    "sigmoid: σ instead of σ(1 − σ)": (
        [("out.data * (1.0 - out.data) * out.grad", "out.data * out.grad")], TARGET_CASES["Value.sigmoid"]),
    "exp: gradient 1": (
        [("self.grad += out.data * out.grad", "self.grad += out.grad")], TARGET_CASES["Value.exp"]),
    "backward: zeroes the gradients first": (
        [("        self.grad = 1.0\n", "        for node in order:\n            node.grad = 0.0\n        self.grad = 1.0\n")],
        {"backward_accumulates"}),
    "topological_order: recursive": (
        [("    return order\n", "    return order\n" + RECURSIVE_TOPOLOGICAL_ORDER)],
        {"backward_deep_chain", "topological_order_deep_chain"}),
}


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_buggy_copy_fails_exactly_the_cases_of_its_target(bug):
    edits, must_fail = BUGS[bug]
    assert_fails_exactly(BENCH, patched(*edits), must_fail)


def test_a_multiplication_that_overwrites_fails_mul_and_no_other_operation():
    """`=` instead of `+=` in *: every graph of the Value.mul cases reuses a node; the
    Value.backward cases use * too, so they may fail as well; no other operation's case does."""
    module = patched(("self.grad += other.data * out.grad", "self.grad = other.data * out.grad"),
                     ("other.grad += self.data * out.grad", "other.grad = self.data * out.grad"))
    failed = BENCH.failing(module, "alice")
    assert TARGET_CASES["Value.mul"] <= failed
    assert failed <= TARGET_CASES["Value.mul"] | TARGET_CASES["Value.backward"]


def test_messages_name_the_graph_only_for_visible_cases():
    module = patched(("(1.0 - out.data**2) * out.grad", "(1.0 - out.data) * out.grad"))
    visible = BENCH.judge(CASES["tanh_small_graphs"], module)
    hidden = BENCH.judge(CASES["tanh_random_graphs"], module)
    assert "gradients" in visible.message and ".tanh()" in visible.message and "v0 = " in visible.message
    assert "gradients" in hidden.message and "v0 = " not in hidden.message


def test_recursion_is_reported_in_a_students_terms():
    module = patched(("    return order\n", "    return order\n" + RECURSIVE_TOPOLOGICAL_ORDER))
    message = BENCH.judge(CASES["backward_deep_chain"], module).message
    assert "RecursionError" in message and "your own stack" in message
