"""Lesson 02-chain-rule: local derivatives, backpropagation by hand through one neuron, the backward
of each Value operation, topological order and the full backward pass.

Expected gradients are numerical derivatives (five-point stencil) of the same expression computed
with plain floats; for whole graphs they are also checked against :mod:`bplib.autograd`. The probes
build small graphs of :class:`bplib.autograd.Value` nodes (the learner's functions read only
``data``, ``grad``, ``_children`` and ``_backward``, which the notebook's ``Value`` shares), call the
learner's function on them and return plain numbers or node names.
"""

import math

from bplib.autograd import Value, topological_order
from bplib.grading import Case, Exercise, Mistake, compare_values
from bplib.probes.chain_rule import (
    build,
    probe_backward,
    probe_binary,
    probe_topological_order,
    probe_unary,
)


def numerical_derivative(f, x, h=1e-3):
    """Five-point stencil: error O(h^4), so about 1e-12 here, far below the checks' tolerance."""
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


# --- local_derivatives --------------------------------------------------------------------------

BINARY = {"x + y": lambda x, y: x + y, "x * y": lambda x, y: x * y, "x / y": lambda x, y: x / y}
UNARY = {"x ** 3": lambda x: x ** 3, "tanh(x)": math.tanh, "exp(x)": math.exp}


def reference_local_derivatives(x, y):
    out = {key: (numerical_derivative(lambda t, f=f: f(t, y), x),
                 numerical_derivative(lambda t, f=f: f(x, t), y)) for key, f in BINARY.items()}
    out.update({key: numerical_derivative(f, x) for key, f in UNARY.items()})
    return out


def local_derivatives_cases(rng, hidden):
    points = [(2.0, 5.0), (-0.5, 3.0), (1.5, -2.0)]
    if hidden:
        points += [(float(rng.uniform(-2, 2)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 3)))
                   for _ in range(4)]
    return [Case((x, y), reference_local_derivatives(x, y), f"x = {x:.4g}, y = {y:.4g}")
            for x, y in points]


def _entry_is(key, wrong, part=None):
    """A Mistake test: the learner's entry ``key`` (or its element ``part``) is wrong and equals
    ``wrong(x, y)``. The test's ``key`` says which entry it is about."""
    def test(got, x, y):
        right = reference_local_derivatives(x, y)[key]
        value, right = (got[key], right) if part is None else (got[key][part], right[part])
        return (not math.isclose(value, right, rel_tol=1e-6, abs_tol=1e-8)
                and math.isclose(value, wrong(x, y), rel_tol=1e-6, abs_tol=1e-9))
    test.key = key
    return test


QUOTIENT_DY = "d(x/y)/dy = -x / y**2"
LOCAL_MISTAKES = (
    Mistake("d(x*y)/dx = y and d(x*y)/dy = x: each input's derivative is the OTHER input.",
            test=_entry_is("x * y", lambda x, y: x, part=0)),
    Mistake("d(x*y)/dy = x: each input's derivative is the OTHER input.",
            test=_entry_is("x * y", lambda x, y: y, part=1)),
    Mistake("d(x + y)/dy = 1, like d(x + y)/dx.", test=_entry_is("x + y", lambda x, y: 0.0, part=1)),
    Mistake(f"the sign of d(x/y)/dy is wrong: {QUOTIENT_DY}. Write x/y = x * y**-1: the power rule "
            "gives d(y**-1)/dy = -1 * y**-2, and the minus comes from that exponent -1 (raising y "
            "lowers x/y when x > 0).", test=_entry_is("x / y", lambda x, y: x / y ** 2, part=1)),
    Mistake(f"the numerator of d(x/y)/dy is wrong: {QUOTIENT_DY}. The factor x is missing: "
            "x/y = x * y**-1, and x stays as a constant factor when you nudge y.",
            test=_entry_is("x / y", lambda x, y: -1 / y ** 2, part=1)),
    Mistake(f"the denominator of d(x/y)/dy is wrong: {QUOTIENT_DY}. The power of y goes DOWN by "
            "one, from y**-1 to y**-2.", test=_entry_is("x / y", lambda x, y: -x / y, part=1)),
    Mistake(f"the numerator of d(x/y)/dy is wrong: {QUOTIENT_DY}. In the quotient rule "
            "(u/v)' = (u' v - u v') / v**2 with u = x, v = y and y the variable, u' = 0 and v' = 1, "
            "so the numerator is 0 * y - x * 1 = -x.",
            test=_entry_is("x / y", lambda x, y: (y - x) / y ** 2, part=1)),
    Mistake("d(x/y)/dx and d(x/y)/dy are swapped: d/dx = 1/y, d/dy = -x / y**2.",
            test=_entry_is("x / y", lambda x, y: -x / y ** 2, part=0)),
    Mistake("d(x**3)/dx = 3 * x**2 (bring the power down, then lower it by one).",
            test=_entry_is("x ** 3", lambda x, y: 3 * x)),
    Mistake("d(x**3)/dx = 3 * x**2: the power goes down by one.",
            test=_entry_is("x ** 3", lambda x, y: 3 * x ** 3)),
    Mistake("d(x**3)/dx = 3 * x**2: the factor 3 is missing.",
            test=_entry_is("x ** 3", lambda x, y: x ** 2)),
    Mistake("d tanh(x)/dx = 1 - tanh(x)**2: the tanh is squared.",
            test=_entry_is("tanh(x)", lambda x, y: 1 - math.tanh(x))),
    Mistake("d tanh(x)/dx = 1 - tanh(x)**2, with tanh(x), not x, squared.",
            test=_entry_is("tanh(x)", lambda x, y: 1 - x ** 2)),
    Mistake("exp is its own derivative: d exp(x)/dx = exp(x).",
            test=_entry_is("exp(x)", lambda x, y: x * math.exp(x - 1))))


def compare_local_derivatives(got, case):
    """Each entry by its key, as the learner writes it, and d/dx, d/dy for the two parts of a pair."""
    expected = case.expected
    if not isinstance(got, dict):
        return (f"should return a dict with the keys {_keys(expected)}; you returned "
                f"{_describe(got)}")
    for key, right in expected.items():
        if key not in got:
            return f'the key "{key}" is missing (the keys are {_keys(expected)}, written exactly like that)'
        value = got[key]
        if isinstance(right, tuple):
            if not (isinstance(value, tuple) and len(value) == 2):
                return f'"{key}" should be a pair (d/dx, d/dy); you returned {_describe(value)}'
            parts = [(f'"{key}", d/dx', value[0], right[0]), (f'"{key}", d/dy', value[1], right[1])]
        else:
            parts = [(f'"{key}", d/dx', value, right)]
        for name, g, e in parts:
            problem = compare_values(g, e, (), 1e-6, 1e-8)
            if problem:
                hint = next((m.hint for m in LOCAL_MISTAKES
                             if m.test.key == key and _applies(m, got, case.args)), None)
                return f"{name}: {problem}" + (f"\n  Hint: {hint}" if hint else "")
    return None


def _applies(mistake, got, args):
    try:
        return bool(mistake.test(got, *args))
    except Exception:  # noqa: BLE001 - a mistake about another entry, or of another type
        return False


def _keys(expected):
    return ", ".join(f'"{key}"' for key in expected)


def _describe(value):
    if isinstance(value, tuple):
        return f"a sequence of {len(value)} values"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


LOCAL_DERIVATIVES = Exercise(
    "local_derivatives", ("local_derivatives",), local_derivatives_cases, rtol=1e-6, atol=1e-8,
    implemented_by=("bplib.autograd.Value",), compare=compare_local_derivatives)


# --- neuron_gradients: backpropagation by hand, with a weight used along two paths ---------------

def neuron_loss(x, w, b, t, lam):
    """L = (sigmoid(w x + b) - t)**2 + lam w**2: one sigmoid neuron, squared error, weight decay."""
    z = w * x + b
    s = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    return (s - t) ** 2 + lam * w ** 2


NEURON_INPUTS = ("x", "w", "b", "t")


def reference_neuron_gradients(x, w, b, t, lam):
    point = {"x": x, "w": w, "b": b, "t": t}
    return {f"d{name}": numerical_derivative(
        lambda v, name=name: neuron_loss(**{**point, name: v}, lam=lam), point[name])
        for name in NEURON_INPUTS}


def neuron_cases(rng, hidden):
    points = [(2.0, -0.5, 0.5, 0.8, 0.1), (-1.5, 1.2, -0.3, 0.0, 0.5)]
    if hidden:
        points += [tuple(float(v) for v in (*rng.uniform(-2, 2, 3), rng.uniform(0, 1),
                                            rng.uniform(0.05, 1))) for _ in range(4)]
    return [Case(p, reference_neuron_gradients(*p),
                 "x = {:.4g}, w = {:.4g}, b = {:.4g}, t = {:.4g}, lam = {:.4g}".format(*p))
            for p in points]


def analytic_neuron(x, w, b, t, lam, ds_dz=None, de=None, decay=None, dt_sign=-1.0, dx_factor=None,
                    paths=("main", "decay")):
    """Hand backprop of the neuron with one step changed (for recognising mistakes)."""
    z = w * x + b
    s = 1 / (1 + math.exp(-z))
    e = s - t
    de = 2 * e if de is None else de(e)
    dz = de * (s * (1 - s) if ds_dz is None else ds_dz(s, z))
    decay = 2 * lam * w if decay is None else decay(lam, w)
    dw = (dz * x if "main" in paths else 0.0) + (decay if "decay" in paths else 0.0)
    return {"dx": dz * (w if dx_factor is None else dx_factor(x, w)), "dw": dw, "db": dz,
            "dt": dt_sign * de}


def _neuron(**options):
    return lambda *args: analytic_neuron(*args, **options)


NEURON_GRADIENTS = Exercise(
    "neuron_gradients", ("neuron_gradients",), neuron_cases, rtol=1e-6, atol=1e-8,
    implemented_by=("bplib.autograd.Value",),
    mistakes=(
        Mistake("w is used twice, in w * x and in lam * w**2, so its gradient is the SUM over both "
                "paths: dw = dz * x + 2 * lam * w. You kept only the path through the neuron.",
                _neuron(paths=("main",))),
        Mistake("w is used twice, in w * x and in lam * w**2, so its gradient is the SUM over both "
                "paths: dw = dz * x + 2 * lam * w. You kept only the weight-decay path.",
                _neuron(paths=("decay",))),
        Mistake("the local derivative of lam * w**2 is 2 * lam * w (the power rule).",
                _neuron(decay=lambda lam, w: lam * w)),
        Mistake("the sigmoid's local derivative is s * (1 - s), with s = sigmoid(z) (lesson 1's "
                "table); 1 - s**2 is tanh's.", _neuron(ds_dz=lambda s, z: 1 - s ** 2)),
        Mistake("the sigmoid's local derivative is s * (1 - s), not s.", _neuron(ds_dz=lambda s, z: s)),
        Mistake("the sigmoid's local derivative is s * (1 - s) with s = sigmoid(z), the OUTPUT; "
                "z * (1 - z) uses its input.", _neuron(ds_dz=lambda s, z: z * (1 - z))),
        Mistake("d(e**2)/de = 2 * e: the factor 2 is missing.", _neuron(de=lambda e: e)),
        Mistake("e = s - t, so de/dt = -1: dt = -de. Your dt has the wrong sign.", _neuron(dt_sign=1.0)),
        Mistake("d(w * x)/dx = w, the OTHER input: dx = dz * w.",
                _neuron(dx_factor=lambda x, w: x))))


# --- one operation's backward: add, mul, power, tanh, exp ---------------------------------------

def expected_binary(f, x, y, dout, grad_a, grad_b, same):
    if same:  # both paths from a to out: the total derivative of f(a, a)
        grad = grad_a + dout * numerical_derivative(lambda t: f(t, t), x)
        return {"out.data": f(x, x), "a.grad": grad, "b.grad": grad}
    return {"out.data": f(x, y),
            "a.grad": grad_a + dout * numerical_derivative(lambda t: f(t, y), x),
            "b.grad": grad_b + dout * numerical_derivative(lambda t: f(x, t), y)}


def expected_unary(f, x, dout, grad_a, *parameters):
    return {"out.data": f(x, *parameters),
            "a.grad": grad_a + dout * numerical_derivative(lambda t: f(t, *parameters), x)}


def binary_cases(f, name):
    def cases(rng, hidden):
        args = [(2.0, -3.0, 1.0, 0.0, 0.0, False, f"{name}(a, b) with a = 2, b = -3, out.grad = 1"),
                (2.0, -3.0, 1.5, 0.5, -1.0, False,
                 "out.grad = 1.5, and a.grad = 0.5, b.grad = -1 already hold gradients from elsewhere"),
                (3.0, 3.0, 1.0, 0.0, 0.0, True, f"{name}(a, a): the same node on both sides")]
        if hidden:
            for same in (False, False, True, True):
                x, y = (float(v) for v in rng.uniform(-3, 3, 2))
                dout, grad_a, grad_b = (float(v) for v in rng.normal(0, 2, 3))
                args.append((x, y, dout, grad_a, grad_b, same,
                             f"{name}(a, a)" if same else f"{name}(a, b), random values"))
        return [Case(a[:6], expected_binary(f, *a[:6]), a[6]) for a in args]
    return cases


def unary_cases(f, name, parameters=((),)):
    def cases(rng, hidden):
        def call(p):
            return f"{name}(a{''.join(f', {v:g}' for v in p)})"
        args = [(0.5, 1.0, 0.0, *parameters[0], f"{call(parameters[0])} at a = 0.5, out.grad = 1"),
                (-1.0, 2.0, 0.5, *parameters[-1], f"{call(parameters[-1])} at a = -1, out.grad = 2, "
                 "and a.grad = 0.5 already holds a gradient")]
        if hidden:
            for _ in range(4):
                p = parameters[int(rng.integers(len(parameters)))]
                fractional = bool(p) and p[0] != int(p[0])  # a ** 0.5 needs a > 0
                x = float(rng.uniform(0.5, 3) * (1 if fractional else rng.choice([-1, 1])))
                dout, grad_a = (float(v) for v in rng.normal(0, 2, 2))
                args.append((x, dout, grad_a, *p, f"{call(p)} at a = {x:.4g}, random out.grad"))
        return [Case(a[:-1], expected_unary(f, *a[:-1]), a[-1]) for a in args]
    return cases


def wrong_op(forward, local, overwrite=False, ignore_dout=False, name="op"):
    """An operation on bplib Values whose backward has a typical bug (for recognising mistakes)."""
    def op(*inputs):
        values, parameters = inputs, ()
        if not isinstance(inputs[-1], Value):
            values, parameters = inputs[:-1], inputs[-1:]
        out = Value(forward(*(v.data for v in values), *parameters), values, name)

        def _backward():
            locals_ = local(out.data, *(v.data for v in values), *parameters)
            for v, d in zip(values, locals_):
                v.grad = (0.0 if overwrite else v.grad) + (1.0 if ignore_dout else out.grad) * d
        out._backward = _backward
        return out
    return op


def _mistakes(probe, forward, right_local, wrong_locals):
    """The bugs every op can have (=, forgotten out.grad) plus op-specific wrong local derivatives."""
    def answer(op):
        return lambda *args: probe(op, *args)
    common = (
        Mistake("accumulate with +=, never =: a node can receive gradient from several places "
                "(here it already held some, or was used twice).",
                answer(wrong_op(forward, right_local, overwrite=True))),
        Mistake("multiply by out.grad: dLoss/da = dLoss/dout * dout/da (the chain rule).",
                answer(wrong_op(forward, right_local, ignore_dout=True))))
    return common + tuple(Mistake(hint, answer(wrong_op(forward, local))) for hint, local in wrong_locals)


def op_exercise(name, probe, forward, right_local, cases, wrong_locals, implemented_by):
    return Exercise(name, (name,), cases, probe=probe, rtol=1e-6, atol=1e-8,
                    mistakes=_mistakes(probe, forward, right_local, wrong_locals),
                    implemented_by=implemented_by)


ADD = op_exercise(
    "add", probe_binary, lambda x, y: x + y, lambda out, x, y: (1.0, 1.0),
    binary_cases(lambda x, y: x + y, "add"),
    [("both inputs get out.grad: d(a + b)/db = 1 too.", lambda out, x, y: (1.0, 0.0)),
     ("the local derivatives of a + b are 1 and 1 (that is mul's rule, b and a).",
      lambda out, x, y: (y, x)),
     ("both inputs get ALL of out.grad, not half each: d(a + b)/da = d(a + b)/db = 1.",
      lambda out, x, y: (0.5, 0.5))],
    ("bplib.autograd.Value.__add__",))

MUL = op_exercise(
    "mul", probe_binary, lambda x, y: x * y, lambda out, x, y: (y, x),
    binary_cases(lambda x, y: x * y, "mul"),
    [("d(a*b)/da = b: each input gets out.grad times the OTHER input's data.",
      lambda out, x, y: (x, y)),
     ("the local derivative is the other input's data, not out.data.",
      lambda out, x, y: (out, out)),
     ("d(a*b)/da = b, not 1 (1 is the rule for a + b).", lambda out, x, y: (1.0, 1.0))],
    ("bplib.autograd.Value.__mul__",))

POWER = op_exercise(
    "power", probe_unary, lambda x, k: x ** k, lambda out, x, k: (k * x ** (k - 1),),
    unary_cases(lambda x, k: x ** k, "power", parameters=((3.0,), (2.0,), (-1.0,), (0.5,), (4.0,))),
    [("d(a**k)/da = k * a**(k - 1): lower the power by one.", lambda out, x, k: (k * x ** k,)),
     ("d(a**k)/da = k * a**(k - 1): the factor k is missing.", lambda out, x, k: (x ** (k - 1),)),
     ("operator precedence: `k * a.data ** k - 1` subtracts 1 from the product. Put the exponent "
      "in parentheses: k * a.data ** (k - 1).", lambda out, x, k: (k * x ** k - 1,))],
    ("bplib.autograd.Value.__pow__",))

TANH = op_exercise(
    "tanh", probe_unary, math.tanh, lambda out, x: (1 - out ** 2,),
    unary_cases(math.tanh, "tanh"),
    [("d tanh(a)/da = 1 - tanh(a)**2 = 1 - out.data**2: square the OUTPUT, not a.data.",
      lambda out, x: (1 - x ** 2,)),
     ("d tanh(a)/da = 1 - out.data**2: the square is missing.", lambda out, x: (1 - out,))],
    ("bplib.autograd.Value.tanh",))

EXP = op_exercise(
    "exp", probe_unary, math.exp, lambda out, x: (out,),
    unary_cases(math.exp, "exp"),
    [("d exp(a)/da = exp(a), which is out.data (not a.data).", lambda out, x: (x,)),
     ("d exp(a)/da = exp(a) = out.data: no second exp.", lambda out, x: (math.exp(out),))],
    ("bplib.autograd.Value.exp",))


# --- topological_order ----------------------------------------------------------------------------

def _violation(order, children):
    """The first (node, child) with the child listed after the node, or None."""
    position = {name: i for i, name in enumerate(order)}
    for name in order:
        for child in children[name]:
            if position[child] > position[name]:
                return name, child
    return None


def compare_topological_order(got, case):
    edges, root = case.args
    children = dict(edges)
    if not isinstance(got, tuple):
        return (f"should return a list of the graph's nodes (Value objects); you returned {got!r}"
                + (" -- did you forget the `return` statement?" if got is None else ""))
    if "?" in got:
        return ("your list contains something that is not a node of this graph: return the Value "
                "objects themselves")
    repeated = sorted({name for name in got if got.count(name) > 1})
    if repeated:
        return (f"node {repeated[0]!r} appears {got.count(repeated[0])} times; each node must appear "
                "once. It is reachable along several paths: remember which nodes you have visited "
                "(a set) and skip them.")
    missing = [name for name in children if name not in got]
    if missing:
        return (f"{len(missing)} of the {len(children)} nodes are missing (e.g. {missing[0]!r}): list "
                "every node the root depends on, from the inputs up to the root itself.")
    if _violation(got, children) is None:
        return None
    if _violation(got[::-1], children) is None:
        return ("the order is reversed: children (inputs) first, the root last. backward() then "
                "walks this list backwards.")
    node, child = _violation(got, children)
    return (f"{node!r} comes before {child!r}, one of its children: every node must come after ALL "
            "its children. Add a node to the list only after all its children are in it (depth-first "
            "search); a breadth-first order from the root does not guarantee this.")


# Fixed graphs: a node used twice, and nodes reachable along paths of different lengths.
FIXED_GRAPHS = [
    ((("a", ()), ("b", ("a", "a")), ("c", ("b", "a"))), "c"),
    ((("a", ()), ("b", ("a", "a")), ("c", ("a", "b"))), "c"),
    ((("x", ()), ("w", ()), ("wx", ("w", "x")), ("b", ()), ("z", ("wx", "b")), ("h", ("z",)),
      ("t", ()), ("e", ("h", "t")), ("L", ("e",))), "L"),
    ((("x", ()), ("y", ()), ("p", ("x", "y")), ("q", ("x", "y")), ("r", ("p", "q")), ("s", ("r",)),
      ("L", ("s", "p"))), "L"),
]


def random_graph(rng):
    """A random DAG: a few inputs, then nodes of 1 or 2 children drawn mostly from recent nodes."""
    names = [f"x{i}" for i in range(int(rng.integers(1, 5)))]
    edges = [(name, ()) for name in names]
    for i in range(int(rng.integers(4, 30))):
        recent = names[-5:] if rng.random() < 0.7 else names
        children = tuple(str(c) for c in rng.choice(recent, size=int(rng.integers(1, 3))))
        names.append(f"n{i}")
        edges.append((f"n{i}", children))
    reachable, stack = set(), [names[-1]]
    children = dict(edges)
    while stack:
        name = stack.pop()
        if name not in reachable:
            reachable.add(name)
            stack.extend(children[name])
    return tuple(e for e in edges if e[0] in reachable), names[-1]


def topological_order_cases(rng, hidden):
    graphs = FIXED_GRAPHS + ([random_graph(rng) for _ in range(5)] if hidden else [])
    return [Case(graph, None, f"{len(graph[0])} nodes, root {graph[1]!r}: "
                 + "; ".join(f"{n} <- {', '.join(c)}" for n, c in graph[0] if c)[:200])
            for graph in graphs]


TOPOLOGICAL_ORDER = Exercise(
    "topological_order", ("topological_order",), topological_order_cases,
    probe=probe_topological_order, compare=compare_topological_order,
    implemented_by=("bplib.autograd.topological_order",))


# --- backward --------------------------------------------------------------------------------------

# op -> its forward on floats (the probes build the same ops with bplib's Value)
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
       "**2": lambda a: a ** 2, "**3": lambda a: a ** 3, "tanh": math.tanh, "exp": math.exp}


def evaluate(program, inputs):
    """Every value the program computes, with plain floats: {name: value}, inputs included."""
    values = dict(inputs)
    for target, op, operands in program:
        values[target] = OPS[op](*(values[name] for name in operands))
    return values


def reference_backward(program, inputs, calls):
    """bplib.autograd's gradients (``calls`` backward passes without zero_grad in between)."""
    leaves, root = build(program, inputs)
    for _ in range(calls):
        root.backward()
    return {f"{name}.grad": leaf.grad for name, leaf in leaves.items()}


def numerical_backward(program, inputs):
    values, root = dict(inputs), program[-1][0]
    return {f"{name}.grad": numerical_derivative(
        lambda t, name=name: evaluate(program, {**values, name: t})[root], values[name]) for name in values}


def describe(program):
    def step(target, op, operands):
        if len(operands) == 2:
            return f"{target} = {operands[0]} {op} {operands[1]}"
        return f"{target} = {operands[0]}{op}" if op.startswith("**") else f"{target} = {op}({operands[0]})"
    return "; ".join(step(*s) for s in program)


NEURON = ((("wx", "*", ("w", "x")), ("z", "+", ("wx", "b")), ("h", "tanh", ("z",)),
           ("e", "-", ("h", "t")), ("L", "**2", ("e",))),
          (("x", 2.0), ("w", -0.5), ("b", 0.5), ("t", 0.8)))
FIXED_PROGRAMS = [
    ((("b", "+", ("a", "a")), ("c", "*", ("b", "a"))), (("a", 3.0),)),
    NEURON,
    ((("p", "*", ("x", "y")), ("q", "tanh", ("p",)), ("r", "+", ("q", "p")), ("L", "*", ("r", "r"))),
     (("x", 0.7), ("y", -1.2))),
]


def random_program(rng):
    """A random expression over 1-3 inputs in which nodes are often reused; values stay moderate."""
    while True:
        inputs = tuple((f"x{i}", float(rng.uniform(-1.5, 1.5))) for i in range(int(rng.integers(1, 4))))
        names, program = [n for n, _ in inputs], []
        for i in range(int(rng.integers(3, 9))):
            op = str(rng.choice(list(OPS)))
            arity = 2 if op in "+-*" else 1
            operands = tuple(str(n) for n in rng.choice(names[-4:], size=arity))
            program.append((f"n{i}", op, operands))
            names.append(f"n{i}")
        program = tuple(program)
        try:
            if max(abs(v) for v in evaluate(program, inputs).values()) < 20:
                return program, inputs
        except OverflowError:  # e.g. exp of a large number: draw again
            pass


def _case(program, inputs, calls=1):
    """The case, or None if the numerical derivatives are not accurate enough to judge by."""
    numerical = numerical_backward(program, inputs)
    exact = reference_backward(program, inputs, 1)
    if not all(math.isclose(numerical[k], exact[k], rel_tol=1e-8, abs_tol=1e-9) for k in exact):
        return None
    expected = numerical if calls == 1 else reference_backward(program, inputs, calls)
    label = describe(program) + ("; backward(L) called TWICE without zero_grad" if calls > 1 else "")
    return Case((program, inputs, calls), expected, label)


def _random_case(rng, calls=1):
    while True:
        case = _case(*random_program(rng), calls=calls)
        if case is not None:
            return case


def backward_cases(rng, hidden):
    cases = [_case(p, i) for p, i in FIXED_PROGRAMS] + [_case(*NEURON, calls=2)]
    if hidden:
        cases += [_random_case(rng) for _ in range(5)] + [_random_case(rng, calls=2)]
    return cases


def _buggy_backward(program, inputs, calls, reverse=True, add_one=False):
    """bplib's backward with a typical bug: not reversed, or ``root.grad += 1``."""
    leaves, root = build(program, inputs)
    for _ in range(calls):
        root.grad = root.grad + 1.0 if add_one else 1.0
        order = topological_order(root)
        for node in reversed(order) if reverse else order:
            node._backward()
    return {f"{name}.grad": leaf.grad for name, leaf in leaves.items()}


BACKWARD = Exercise(
    "backward", ("backward",), backward_cases, probe=probe_backward, rtol=1e-6, atol=1e-8,
    implemented_by=("bplib.autograd.Value.backward",),
    mistakes=(
        Mistake("every gradient is 0: set root.grad = 1.0 first (dL/dL = 1), then call each node's "
                "_backward.", test=lambda got, *args: all(v == 0 for v in got.values())),
        Mistake("call _backward in REVERSED topological order: the root first, so that a node passes "
                "its gradient on only after it has received all of it.",
                answer=lambda *args: _buggy_backward(*args, reverse=False)),
        Mistake("set root.grad = 1.0 (with =): the root's gradient is dL/dL = 1, whatever it held "
                "before.", answer=lambda *args: _buggy_backward(*args, add_one=True)),
        Mistake("backward() must not reset gradients: it sets root.grad = 1 and otherwise only adds "
                "(+=). Resetting is zero_grad()'s job.",
                answer=lambda program, inputs, calls: reference_backward(program, inputs, 1))))


# bplib's automatic differentiation computes any derivative asked for here by hand
OFF_LIMITS = ("bplib.tensor",)

EXERCISES = [LOCAL_DERIVATIVES, NEURON_GRADIENTS, ADD, MUL, POWER, TANH, EXP, TOPOLOGICAL_ORDER,
             BACKWARD]
