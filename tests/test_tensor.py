"""bplib.tensor: every operation's gradient against an independent numerical derivative (five-point
stencil), broadcasting in every pattern NumPy allows, reused nodes, accumulation and zero_grad, and
a whole network against bplib's hand-written layers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import five_point_gradient, signed_uniform, well_conditioned

from bplib.gradcheck import relative_error
from bplib.layers import Linear, ReLU
from bplib.losses import SoftmaxCrossEntropyLoss
from bplib.network import Sequential
from bplib.tensor import Tensor, softmax_cross_entropy, topological_order, unbroadcast


def gradients_of(f, arrays, dout):
    """Analytic gradients of sum(f(*tensors).data * dout) from bplib.tensor, and the numerical ones."""
    tensors = [Tensor(a.copy()) for a in arrays]
    out = f(*tensors)
    loss = (out * dout).sum()
    loss.backward()
    numerical = [five_point_gradient(lambda: f(*[Tensor(a) for a in arrays]).data, a, dout=dout)
                 for a in arrays]
    return [t.grad for t in tensors], numerical


def assert_gradients_match(f, arrays, seed=0, tolerance=1e-7):
    rng = np.random.default_rng(seed)
    out = f(*[Tensor(a) for a in arrays])
    dout = signed_uniform(rng, out.shape, 0.5, 2.0)
    analytic, numerical = gradients_of(f, arrays, dout)
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        assert a.shape == arrays[i].shape, f"input {i}: grad {a.shape} vs data {arrays[i].shape}"
        if well_conditioned(a, n):
            assert relative_error(a, n) <= tolerance, f"input {i}: relative error {relative_error(a, n):.1e}"
        else:  # tiny entries (e.g. a product of two small numbers): round-off sets the scale
            np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-9, err_msg=f"input {i}")


# Pairs of shapes that broadcast, covering every rule: same shape, a missing leading axis, axes of
# length 1 on either side or both, a scalar, and 3-D arrays.
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 1), (1, 4)),
                   ((3, 4), ()), ((), (2, 3)), ((2, 3, 4), (3, 1)), ((2, 1, 4), (3, 1)),
                   ((4,), (2, 3, 4)), ((1, 1), (2, 3))]
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "rsub": lambda a, b: 2.0 - a * b,
          "rdiv": lambda a, b: 1.5 / b + a}


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_operations_with_broadcasting(op, shapes):
    rng = np.random.default_rng(len(op))
    arrays = [np.asarray(signed_uniform(rng, shape, 0.3, 2.0)) for shape in shapes]
    assert_gradients_match(BINARY[op], arrays)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 5), m=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_matmul_gradients_are_lesson_3s(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=(n, d)), rng.normal(size=(d, m))
    assert_gradients_match(lambda a, b: a @ b, [x, W], seed)
    dout = rng.normal(size=(n, m))
    a, b = Tensor(x), Tensor(W)
    out = a @ b
    out.grad = dout
    out._backward()
    np.testing.assert_allclose(a.grad, dout @ W.T)
    np.testing.assert_allclose(b.grad, x.T @ dout)


def test_matmul_takes_matrices_only():
    with pytest.raises(ValueError, match="2-D"):
        Tensor(np.ones(3)) @ Tensor(np.ones((3, 2)))


REDUCTIONS = [(None, False), (0, False), (1, False), (-1, True), ((0, 2), False), ((0, 2), True),
              (1, True), (None, True)]


@pytest.mark.parametrize("axis, keepdims", REDUCTIONS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_over_any_axis(name, axis, keepdims):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4))
    assert_gradients_match(lambda a: getattr(a, name)(axis=axis, keepdims=keepdims), [x])
    expected = getattr(x, name)(axis=axis, keepdims=keepdims)
    assert getattr(Tensor(x), name)(axis, keepdims).shape == expected.shape


@pytest.mark.parametrize("f", [lambda a: a.reshape(4, 6), lambda a: a.reshape(-1), lambda a: a.T,
                               lambda a: a.transpose((1, 2, 0)), lambda a: a.transpose((2, 0, 1)),
                               lambda a: a.reshape(6, 4).T * a.reshape(4, 6)],
                         ids=["reshape", "flatten", "T", "cycle", "inverse cycle", "both, reused"])
def test_shape_operations(f):
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    assert_gradients_match(f, [x])


UNARY = {"exp": lambda a: a.exp(), "log": lambda a: (a * a + 0.5).log(), "tanh": lambda a: a.tanh(),
         "relu": lambda a: a.relu(), "neg": lambda a: -a}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_elementwise_functions(name, seed):
    x = signed_uniform(np.random.default_rng(seed), (3, 4), 0.05, 2.0)  # away from relu's kink
    assert_gradients_match(UNARY[name], [x], seed)


def test_relu_takes_zero_as_the_derivative_at_the_kink():
    a = Tensor(np.array([-1.0, 0.0, 2.0]))
    a.relu().sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.1, 5.0))
def test_softmax_cross_entropy_is_lesson_3s(n, c, seed, scale):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(0, scale, (n, c)), rng.integers(0, c, n)
    reference = SoftmaxCrossEntropyLoss()
    loss = softmax_cross_entropy(Tensor(logits), labels)
    assert abs(loss.data - reference.forward(logits, labels)) <= 1e-12 * max(1.0, abs(loss.data))
    z = Tensor(logits)
    out = softmax_cross_entropy(z, labels)
    out.backward()
    np.testing.assert_allclose(z.grad, reference.backward(), rtol=1e-12, atol=1e-15)
    numerical = five_point_gradient(lambda: softmax_cross_entropy(Tensor(logits), labels).data, logits)
    assert relative_error(z.grad, numerical) <= 1e-7 or not well_conditioned(z.grad, numerical)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    z = Tensor(logits)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss = softmax_cross_entropy(z, np.array([0, 0]))
        loss.backward()
    assert np.isclose(loss.data, 1600.0 / 2)
    np.testing.assert_allclose(z.grad, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-300)


def test_softmax_cross_entropy_scales_with_the_upstream_gradient():
    logits = np.random.default_rng(0).normal(size=(4, 3))
    z = Tensor(logits)
    loss = softmax_cross_entropy(z, np.array([0, 1, 2, 0]))
    (loss * 3.0).backward()
    once = Tensor(logits)
    softmax_cross_entropy(once, np.array([0, 1, 2, 0])).backward()
    np.testing.assert_allclose(z.grad, 3.0 * once.grad)


@pytest.mark.parametrize("grad_shape, shape, expected", [
    ((4, 3), (3,), lambda g: g.sum(axis=0)),
    ((4, 3), (4, 1), lambda g: g.sum(axis=1, keepdims=True)),
    ((4, 3), (1, 3), lambda g: g.sum(axis=0, keepdims=True)),
    ((4, 3), (), lambda g: g.sum()),
    ((2, 4, 3), (4, 1), lambda g: g.sum(axis=(0, 2))[:, None]),
    ((4, 3), (4, 3), lambda g: g),
])
def test_unbroadcast_sums_the_copies(grad_shape, shape, expected):
    grad = np.random.default_rng(5).normal(size=grad_shape)
    got = unbroadcast(grad, shape)
    assert got.shape == shape
    np.testing.assert_allclose(got, expected(grad))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_unbroadcast_is_the_adjoint_of_broadcasting(data):
    """<broadcast_to(x, S), g> = <x, unbroadcast(g, x.shape)> for every x and g: the definition of
    the gradient of broadcasting."""
    ndim = data.draw(st.integers(0, 4))
    target = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dropped = data.draw(st.integers(0, ndim))
    shape = tuple(1 if data.draw(st.booleans()) else size for size in target[dropped:])
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, g = rng.normal(size=shape), rng.normal(size=target)
    got = unbroadcast(g, shape)
    assert got.shape == shape
    assert np.isclose(np.vdot(np.broadcast_to(x, target), g), np.vdot(x, got))


def test_reused_nodes_receive_the_sum_over_paths():
    a = Tensor(np.array([1.0, -2.0, 3.0]))
    b = a * a + a        # a used three times
    c = (b * a).sum()    # and once more: c = sum(a^3 + a^2), dc/da = 3a^2 + 2a
    c.backward()
    np.testing.assert_allclose(a.grad, 3 * a.data ** 2 + 2 * a.data)
    order = topological_order(c)
    assert len(order) == len({id(node) for node in order})


def test_backward_accumulates_and_zero_grad_starts_afresh():
    rng = np.random.default_rng(6)
    x, W = Tensor(rng.normal(size=(3, 2))), Tensor(rng.normal(size=(2, 2)))
    loss = (x @ W).tanh().sum()
    loss.backward()
    once = W.grad.copy()
    loss.backward()
    assert not np.allclose(W.grad, once)  # accumulated: wrong without zero_grad
    loss.zero_grad()
    assert all(not node.grad.any() and node.grad.shape == node.shape for node in topological_order(loss))
    loss.backward()
    np.testing.assert_allclose(W.grad, once)


def test_a_network_on_tensors_has_the_gradients_of_bplibs_layers():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    model = Sequential(Linear(5, 6, rng=1), ReLU(), Linear(6, 3, rng=2))
    loss = SoftmaxCrossEntropyLoss()
    value = loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    params = {name: Tensor(param.copy()) for name, param, _ in model.parameters()}
    hidden = (Tensor(X) @ params["0.W"] + params["0.b"]).relu()
    out = softmax_cross_entropy(hidden @ params["2.W"] + params["2.b"], y)
    out.backward()
    assert np.isclose(out.data, value)
    for name, _, grad in model.parameters():
        np.testing.assert_allclose(params[name].grad, grad, rtol=1e-10, atol=1e-14)


def test_integer_data_becomes_float_and_float32_stays():
    assert Tensor([1, 2]).data.dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).data.dtype == np.float32
    with pytest.raises(TypeError):
        Tensor(Tensor(1.0))


def root_of(program, values):
    """The root's value of a lesson-10 program over the arrays ``values`` ({name: array}, read now)."""
    from bplib.probes.autodiff_on_arrays import build

    return build(program, tuple(values.items()))[1][program[-1][0]].data


@pytest.mark.parametrize("seed", range(20))
def test_the_graphs_of_lesson_10s_checks_have_the_numerical_gradients(seed):
    """The expected gradients of lesson 10's backward and zero_grad checks come from bplib.tensor on
    random graphs (reused nodes, broadcasting, @, relu, exp, ...): they must be the true ones."""
    from autograder.exercises.autodiff_on_arrays import fixed_programs, random_program, reference_backward

    rng = np.random.default_rng(seed)
    for program, inputs in [random_program(rng)] + (fixed_programs(rng) if seed < 3 else []):
        expected = reference_backward(program, inputs, 1)
        values = {name: np.array(value, dtype=float) for name, value in inputs}
        for name, array in values.items():
            numerical = five_point_gradient(lambda program=program, values=values: root_of(program, values),
                                            array)
            np.testing.assert_allclose(expected[f"{name}.grad"], numerical, rtol=1e-6, atol=1e-8,
                                       err_msg=f"{name} in {program}")
