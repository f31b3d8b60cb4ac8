"""Assignment 2, reverse-mode automatic differentiation: the hidden reference solution.

Same public names, signatures and docstrings as assignments/autodiff.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable


class Value:
    """A scalar in a computational graph that remembers how it was computed.

    value.data    the number (a Python float)
    value.grad    d(root)/d(value), filled in by root.backward(); starts at 0.0
    value.inputs  the Values this one was computed from (a tuple; () for a leaf)
    value.op      a short label of the operation that made it ("+", "*", "tanh", ...)

    Every operation returns a new Value whose inputs are the operands, and sets
    the new Value's `_backward` to a function that adds the local chain-rule
    contribution to each input's grad, using the new Value's grad:
        out = a * b   →   a.grad += b.data * out.grad;  b.grad += a.data * out.grad
    Always `+=`, never `=`: a node used twice receives both contributions.
    A plain number on either side of an operator is wrapped in Value(number).
    """

    def __init__(self, data: float, inputs: tuple[Value, ...] = (), op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.op = op
        self._backward: Callable[[], None] = lambda: None  # a leaf passes nothing on

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r}, op={self.op!r})"

    # ----------------------------------------------------------- binary operations

    def __add__(self, other: Value | float) -> Value:
        """self + other, where other is a Value or a number.

        Local gradients: d(a + b)/da = 1, d(a + b)/db = 1.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other: float) -> Value:
        """other + self, for a number on the left (3 + v)."""
        return self + other

    def __sub__(self, other: Value | float) -> Value:
        """self − other, where other is a Value or a number.

        Local gradients: d(a − b)/da = 1, d(a − b)/db = −1.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward() -> None:
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __rsub__(self, other: float) -> Value:
        """other − self, for a number on the left (3 − v)."""
        return Value(other) - self

    def __mul__(self, other: Value | float) -> Value:
        """self · other, where other is a Value or a number.

        Local gradients: d(a·b)/da = b, d(a·b)/db = a.
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __rmul__(self, other: float) -> Value:
        """other · self, for a number on the left (3 * v)."""
        return self * other

    def __truediv__(self, other: Value | float) -> Value:
        """self / other, where other is a Value or a number.

        Local gradients: d(a/b)/da = 1/b, d(a/b)/db = −a/b².
        """
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data**2

        out._backward = _backward
        return out

    def __rtruediv__(self, other: float) -> Value:
        """other / self, for a number on the left (3 / v)."""
        return Value(other) / self

    # ----------------------------------------------------------- unary operations

    def __neg__(self) -> Value:
        """−self. Local gradient: −1."""
        out = Value(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        """self ** exponent, where exponent is a plain int or float (not a Value).

        Local gradient: d(a**k)/da = k · a**(k − 1).
        """
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float)):
            raise TypeError("Value ** supports int and float exponents only")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            if exponent != 0:  # a**0 is the constant 1 (and 0.0**-1 would raise)
                self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """e ** self. Local gradient: exp(a), the output itself."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm of self (self.data > 0). Local gradient: 1/a."""
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Hyperbolic tangent. Local gradient: 1 − tanh(a)²."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(self, 0). Local gradient: 1 where a > 0, else 0 (0 at a == 0, like torch)."""
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """1 / (1 + e**−self). Local gradient: σ(a)·(1 − σ(a)).

        Tip: math.exp(1000) overflows; for a < 0, e**a / (1 + e**a) is the same number, safely.
        """
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    # ----------------------------------------------------------- the backward pass

    def backward(self) -> None:
        """Reverse-mode autodiff from this node (the root).

        Set self.grad = 1.0, then visit the nodes of topological_order(self) in
        reverse (root first) and call each node's _backward, so that every node's
        grad is complete before it is passed on to its inputs. Gradients are
        accumulated (+=) into the .grad every node already has; fresh nodes start at 0.0.
        Must work on graphs deeper than Python's recursion limit (100 000 chained
        operations): no recursion.
        """
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph exactly once, each after all of its inputs; root last.

    Follow .inputs from root. A node reached along two paths appears once.
    Must not recurse (graphs can be 100 000 nodes deep): keep your own stack
    of nodes still to visit, and a set of the nodes already seen.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:  # every input of node is already in order
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node.inputs if id(child) not in seen)
    return order
