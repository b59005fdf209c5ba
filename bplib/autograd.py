"""Scalar reverse-mode automatic differentiation: the chain rule, one node at a time.

Every operation makes a new :class:`Value` ``out`` and, right below the line that computes it, a
``_backward`` closure that applies the chain rule locally::

    out = Value(a.data * b.data, (a, b), "*")
    def _backward():                  # dLoss/da = dLoss/dout * dout/da = out.grad * b
        a.grad += out.grad * b.data
        b.grad += out.grad * a.data

``root.backward()`` sets ``root.grad = 1`` and calls every ``_backward`` in reverse topological
order, so a node passes its gradient on only after *all* the nodes it feeds have passed theirs.

Gradients **accumulate** (``+=``): a node used twice (``b = a + a``) receives the sum of the
gradients along both paths, which is exactly the multivariate chain rule. The flip side: a second
``backward()`` adds onto what the first left in *every* node, the intermediate ones included, so
the gradients come out too large (not simply doubled, except in a one-operation graph). Call
:meth:`Value.zero_grad` on the root before calling ``backward()`` again.

At a singular point an operation raises an error that names the operation and the value, as
Python's own arithmetic would, never an inf or NaN that spreads silently: ``ZeroDivisionError`` for
``a / 0`` and ``0 ** -k``, and in ``backward()`` for a derivative that is infinite there (``a ** 0.5``
at ``a = 0``); ``ValueError`` for a result that is not a real number (``(-4) ** 0.5``, ``log(0)``);
``OverflowError`` for ``exp`` of more than about 709.
"""

import math

__all__ = ["Value", "topological_order"]


class Value:
    """A scalar with a gradient. ``data`` is the number, ``grad`` is dLoss/d(this value).

    ``label`` names the node in drawings (``draw_graph``); ``op`` is the operation that made it.
    """

    __slots__ = ("data", "grad", "label", "op", "_children", "_backward")

    def __init__(self, data, children=(), op="", label=""):
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value(data): expected a number, got {type(data).__name__}") from None
        self.grad = 0.0
        self.label = label
        self.op = op
        self._children = tuple(children)
        self._backward = _no_backward

    @property
    def children(self):
        """The Values this one was computed from (its inputs in the graph)."""
        return self._children

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # --- arithmetic: each forward, then its local chain rule ---------------------------------

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(a * b)/da = b, d(a * b)/db = a
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError("Value ** exponent: the exponent must be a plain number (int or float)")
        a = self.data
        if a == 0 and exponent < 0:
            raise ZeroDivisionError(f"{self._where(f'{self.label} ** {exponent:g}')}0 ** {exponent:g} is "
                                    "undefined (it divides by zero)")
        if a < 0 and not float(exponent).is_integer():
            raise ValueError(f"{self._where(f'{self.label} ** {exponent:g}')}({a:g}) ** {exponent:g} is "
                             "not a real number")
        out = Value(a ** exponent, (self,), f"**{exponent:g}")

        def _backward():  # d(a ** k)/da = k * a ** (k - 1)
            if exponent == 0:
                return  # a ** 0 = 1 everywhere (also 0 ** 0 here): its derivative is 0
            if a == 0 and exponent < 1:
                name = self.label or "a"
                raise ZeroDivisionError(
                    f"backward through {name} ** {exponent:g} at {name} = 0: the derivative "
                    f"{exponent:g} * {name} ** {exponent - 1:g} is infinite there (the curve is "
                    f"vertical at 0). Keep the input away from 0, e.g. ({name} + 1e-12) ** {exponent:g}.")
            self.grad += out.grad * exponent * a ** (exponent - 1)
        out._backward = _backward
        return out

    def exp(self):
        try:
            value = math.exp(self.data)
        except OverflowError:  # above log(1.8e308) = 709.78
            raise OverflowError(f"{self._where(f'exp({self.label})')}exp({self.data:g}) is too large "
                                "for a float (the largest is about exp(709.78) = 1.8e308)") from None
        out = Value(value, (self,), "exp")

        def _backward():  # d exp(a)/da = exp(a)
            self.grad += out.grad * out.data
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number: {self._where(f'log({self.label})')}"
                             f"log({self.data:g}) is undefined")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d log(a)/da = 1 / a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += out.grad * (1.0 - out.data ** 2)
        out._backward = _backward
        return out

    def sigmoid(self):
        x = self.data  # stable for large |x|: never exp of a large positive number
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():  # d sigmoid(a)/da = s * (1 - s)
            self.grad += out.grad * out.data * (1.0 - out.data)
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # d relu(a)/da = 1 if a > 0 else 0 (we pick 0 at the kink a = 0)
            self.grad += out.grad * (1.0 if self.data > 0 else 0.0)
        out._backward = _backward
        return out

    # Everything else is built from the operations above, so it needs no backward of its own.
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-_as_value(other))

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {self._name()} / {other._name()}"
                                    + (f" with {other.label} = 0" if other.label else ""))
        return self * other ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def _name(self):
        """How messages refer to this value: its label, else its number."""
        return self.label or f"{self.data:g}"

    def _where(self, expression):
        """"x ** 0.5 with x = -4: " for a labelled value (``expression`` names it), else ""."""
        return f"{expression} with {self.label} = {self.data:g}: " if self.label else ""

    # --- the backward pass ---------------------------------------------------------------------

    def backward(self):
        """Fill ``grad`` of every node this one depends on with d(self)/d(node).

        Gradients accumulate in every node: call :meth:`zero_grad` before a second ``backward()``.
        """
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            node._backward()

    def zero_grad(self):
        """Set ``grad = 0`` on this node and every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0

    def draw(self, **kwargs):
        """Draw the graph ending at this node (values and gradients), as SVG for Jupyter."""
        from bplib.graph_drawing import draw_graph

        return draw_graph(self, **kwargs)


def topological_order(root):
    """Every node ``root`` depends on, each listed after all of its children (inputs).

    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node._children) if id(child) not in visited)
    return order


def _no_backward():
    pass


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)
