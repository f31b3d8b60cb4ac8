"""Assignment 2: reverse-mode automatic differentiation (plain Python floats).

A model's output is a long chain of simple operations, and the chain rule turns
the derivative of the whole into products of *local* derivatives, one per
operation. Backpropagation runs the chain forward once, caching every
intermediate value, then once backward, from the output to the inputs.
Frameworks such as PyTorch do this for you; here you build it for scalars.

Every operation on a Value records a node of the computational graph: its
result (.data), the Values it was computed from (.inputs), and a small function
that knows the operation's local derivatives. For out = a * b:

    forward    out.data = a.data * b.data
    backward   a.grad += b.data * out.grad      (∂out/∂a = b)
               b.grad += a.data * out.grad      (∂out/∂b = a)

Each operation's forward and its backward sit side by side in one method.
root.backward() sets root.grad = 1.0 and then calls the nodes' backward
functions from the root towards the leaves, each node only after every node
that uses it has passed its gradient on: the reverse of a topological order.
A node used twice (x * x, or x feeding two branches) receives the sum of both
contributions, which is why every backward function uses +=, never =.

Graphs can be deep: a loop of 100 000 operations builds a chain 100 000 nodes
deep, far past Python's recursion limit (about 1000), so topological_order
must keep its own stack instead of calling itself.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a          # a is used twice
    >>> c.backward()
    >>> a.grad, b.grad         # ∂c/∂a = b + 1, ∂c/∂b = a
    (-2.0, 2.0)

Run `dlgrade check autodiff` for the public cases; each operation is graded on
its own (Value.add, Value.mul, Value.tanh, ...).
"""

from __future__ import annotations

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
        raise NotImplementedError

    def __radd__(self, other: float) -> Value:
        """other + self, for a number on the left (3 + v)."""
        raise NotImplementedError

    def __sub__(self, other: Value | float) -> Value:
        """self − other, where other is a Value or a number.

        Local gradients: d(a − b)/da = 1, d(a − b)/db = −1.
        """
        raise NotImplementedError

    def __rsub__(self, other: float) -> Value:
        """other − self, for a number on the left (3 − v)."""
        raise NotImplementedError

    def __mul__(self, other: Value | float) -> Value:
        """self · other, where other is a Value or a number.

        Local gradients: d(a·b)/da = b, d(a·b)/db = a.
        """
        raise NotImplementedError

    def __rmul__(self, other: float) -> Value:
        """other · self, for a number on the left (3 * v)."""
        raise NotImplementedError

    def __truediv__(self, other: Value | float) -> Value:
        """self / other, where other is a Value or a number.

        Local gradients: d(a/b)/da = 1/b, d(a/b)/db = −a/b².
        """
        raise NotImplementedError

    def __rtruediv__(self, other: float) -> Value:
        """other / self, for a number on the left (3 / v)."""
        raise NotImplementedError

    # ----------------------------------------------------------- unary operations

    def __neg__(self) -> Value:
        """−self. Local gradient: −1."""
        raise NotImplementedError

    def __pow__(self, exponent: float) -> Value:
        """self ** exponent, where exponent is a plain int or float (not a Value).

        Local gradient: d(a**k)/da = k · a**(k − 1).
        """
        raise NotImplementedError

    def exp(self) -> Value:
        """e ** self. Local gradient: exp(a), the output itself."""
        raise NotImplementedError

    def log(self) -> Value:
        """Natural logarithm of self (self.data > 0). Local gradient: 1/a."""
        raise NotImplementedError

    def tanh(self) -> Value:
        """Hyperbolic tangent. Local gradient: 1 − tanh(a)²."""
        raise NotImplementedError

    def relu(self) -> Value:
        """max(self, 0). Local gradient: 1 where a > 0, else 0 (0 at a == 0, like torch)."""
        raise NotImplementedError

    def sigmoid(self) -> Value:
        """1 / (1 + e**−self). Local gradient: σ(a)·(1 − σ(a)).

        Tip: math.exp(1000) overflows; for a < 0, e**a / (1 + e**a) is the same number, safely.
        """
        raise NotImplementedError

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
        raise NotImplementedError


def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph exactly once, each after all of its inputs; root last.

    Follow .inputs from root. A node reached along two paths appears once.
    Must not recurse (graphs can be 100 000 nodes deep): keep your own stack
    of nodes still to visit, and a set of the nodes already seen.
    """
    raise NotImplementedError
