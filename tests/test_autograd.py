import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bplib.autograd import Value, topological_order
from bplib.gradcheck import relative_error
from bplib.graph_drawing import draw_graph

# An expression is a tree over the three inputs a, b, c; a tree may use an input many times
# (reused nodes), which is exactly where a wrong (non-accumulating) backward goes wrong.
UNARY = {
    "neg": lambda v: -v, "square": lambda v: v ** 2, "cube": lambda v: v ** 3,
    "tanh": lambda v: v.tanh(), "sigmoid": lambda v: v.sigmoid(), "relu": lambda v: v.relu(),
    "exp_tanh": lambda v: v.tanh().exp(), "log1p_sq": lambda v: (v * v + 1).log(),
    "inv": lambda v: 1 / (v * v + 1), "scale": lambda v: 3 * v - 1,
}
BINARY = {"add": lambda u, v: u + v, "sub": lambda u, v: u - v, "mul": lambda u, v: u * v,
          "div": lambda u, v: u / (v * v + 1), "rsub": lambda u, v: 2 - u * v}

expressions = st.recursive(
    st.sampled_from(["a", "b", "c"]),
    lambda inner: st.one_of(st.tuples(st.sampled_from(sorted(UNARY)), inner),
                            st.tuples(st.sampled_from(sorted(BINARY)), inner, inner)),
    max_leaves=8)


def evaluate(tree, inputs):
    if isinstance(tree, str):
        return inputs[tree]
    if len(tree) == 2:
        return UNARY[tree[0]](evaluate(tree[1], inputs))
    return BINARY[tree[0]](evaluate(tree[1], inputs), evaluate(tree[2], inputs))


def relu_inputs(root):
    return [n.children[0].data for n in topological_order(root) if n.op == "relu"]


@settings(max_examples=300)
@given(tree=expressions, values=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_value_gradients_match_numerical(tree, values):
    leaves = dict(zip("abc", (Value(v, label=k) for k, v in zip("abc", values))))
    out = evaluate(tree, leaves)
    assume(all(abs(z) > 1e-2 for z in relu_inputs(out)))  # no ReLU kink within the step
    assume(abs(out.data) < 1e6)
    out.backward()
    h = 1e-4
    for name in "abc":
        def at(delta, name=name):
            shifted = {k: Value(v + (delta if k == name else 0.0)) for k, v in zip("abc", values)}
            return evaluate(tree, shifted).data
        # five-point stencil (error O(h^4)), independent of Value.backward
        numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
        analytic = leaves[name].grad
        # 0 is measurable only when the input is unused (then the difference is exactly 0 too);
        # at a stationary point the numerical side is round-off, ~1e-13.
        assume(abs(analytic) >= 1e-4 or analytic == numeric == 0.0)
        assert relative_error(np.array([analytic]), np.array([numeric])) <= 1e-7, (tree, name)


def test_reused_node_accumulates_along_both_paths():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    x = Value(2.0)
    y = x * x  # dy/dx = 2x, from the two uses
    y.backward()
    assert x.grad == 4.0
    p, q = Value(1.5), Value(-2.0)
    shared = p * q
    z = shared + shared.tanh()  # shared feeds z twice
    z.backward()
    dshared = 1 + (1 - math.tanh(-3.0) ** 2)
    assert p.grad == pytest.approx(dshared * -2.0) and q.grad == pytest.approx(dshared * 1.5)


def test_backward_twice_accumulates_and_zero_grad_resets():
    a, b = Value(2.0), Value(5.0)
    c = a * b
    c.backward()
    c.backward()
    assert a.grad == 10.0  # twice 5: gradients add up, as documented
    c.zero_grad()
    assert a.grad == b.grad == c.grad == 0.0
    c.backward()
    assert a.grad == 5.0


def test_forward_values_of_every_operation():
    a, b = Value(2.0), Value(-3.0)
    assert (a + b).data == -1 and (a - b).data == 5 and (a * b).data == -6
    assert (a / b).data == pytest.approx(-2 / 3) and (a ** 3).data == 8 and (-a).data == -2
    assert (1 - a).data == -1 and (1 / a).data == 0.5 and (2 + a).data == 4 and (2 * a).data == 4
    assert a.exp().data == pytest.approx(math.exp(2)) and a.log().data == pytest.approx(math.log(2))
    assert b.tanh().data == pytest.approx(math.tanh(-3))
    assert b.sigmoid().data == pytest.approx(1 / (1 + math.exp(3)))
    assert b.relu().data == 0 and a.relu().data == 2
    assert Value(-1000.0).sigmoid().data == 0.0 and Value(1000.0).sigmoid().data == 1.0  # no overflow


def test_topological_order_lists_children_first():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    order = topological_order(d)
    assert order[-1] is d
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for child in node.children:
            assert position[id(child)] < position[id(node)]
    assert len(order) == 4  # each node once, although a is used twice


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_clear_errors():
    with pytest.raises(TypeError, match="expected a number"):
        Value("two")
    with pytest.raises(ValueError, match="log of a non-positive number"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="exponent must be a plain number"):
        Value(2.0) ** Value(3.0)


def test_drawing_shows_every_node_with_value_and_gradient():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    loss = (a * b).tanh()
    loss.label = "L"
    loss.backward()
    svg = draw_graph(loss)._repr_svg_()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 4 and svg.count("<circle") == 2  # a, b, a*b, L; ops * and tanh
    assert f"grad {a.grad:.4g}" in svg and "a | data 2" in svg and ">tanh<" in svg
    assert "grad" not in draw_graph(loss, show_grad=False).svg
    assert loss.draw().svg == svg


def test_drawing_shows_both_edges_of_a_reused_node():
    a = Value(3.0, label="a")
    b = a + a
    c = b * a
    c.backward()
    svg = draw_graph(c).svg
    arrows = [part.split('"')[1] for part in svg.split("<path d=")[1:] if "marker-end" in part]
    assert len(arrows) == 6  # a -> (+) twice, (+) -> b, b -> (*), a -> (*), (*) -> c
    assert len(set(arrows)) == len(arrows)  # no two arrows drawn on top of each other


# --- singular points: each error names the operation and the value ------------------------------

def test_division_by_a_zero_value_names_the_division():
    for make in (lambda: 1 / Value(0.0), lambda: Value(3.0) / Value(0.0, label="b"),
                 lambda: Value(3.0) / 0.0):
        with pytest.raises(ZeroDivisionError) as error:
            make()
        message = str(error.value)
        assert "division by zero" in message and "cannot be raised" not in message
    with pytest.raises(ZeroDivisionError, match=r"3 / b with b = 0"):
        Value(3.0) / Value(0.0, label="b")


def test_negative_power_of_zero_names_the_power():
    with pytest.raises(ZeroDivisionError, match=r"0 \*\* -2 is undefined"):
        Value(0.0) ** -2
    with pytest.raises(ZeroDivisionError, match=r"^w \*\* -1 with w = 0: 0 \*\* -1 is undefined"):
        Value(0.0, label="w") ** -1


def test_backward_through_a_square_root_at_zero_names_the_operation_and_value():
    x = Value(0.0, label="x")
    y = x ** 0.5  # the forward value is fine: sqrt(0) = 0
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError) as error:
        (y * 3).backward()
    message = str(error.value)
    assert "x ** 0.5" in message and "x = 0" in message and "infinite" in message
    assert "cannot be raised" not in message


def test_powers_of_zero_with_a_finite_derivative_backpropagate():
    for exponent, expected in [(0, 0.0), (1, 1.0), (2, 0.0), (1.5, 0.0), (3, 0.0)]:
        x = Value(0.0)
        (x ** exponent).backward()
        assert x.grad == expected, exponent


def test_a_fractional_power_of_a_negative_number_is_refused_by_name():
    with pytest.raises(ValueError, match=r"\(-4\) \*\* 0.5 is not a real number"):
        Value(-4.0) ** 0.5
    assert (Value(-2.0) ** 2.0).data == 4.0  # whole exponents are fine


def test_exp_overflow_names_the_value():
    with pytest.raises(OverflowError, match=r"exp\(800\) is too large"):
        Value(800.0).exp()
