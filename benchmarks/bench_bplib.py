"""bplib speed: a training step against a hand-written NumPy reference, tiny-network steps (the
widgets rely on them), the cost of gradient checks, and the import time.

    .venv/bin/python benchmarks/bench_bplib.py
"""

import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved_medians, one_blas_thread, verdict  # noqa: E402

from bplib import gradcheck  # noqa: E402
from bplib.losses import MSELoss, SoftmaxCrossEntropyLoss  # noqa: E402
from bplib.network import mlp  # noqa: E402
from bplib.optim import SGD  # noqa: E402

SIZES = [784, 256, 256, 10]
BATCH = 128


def reference_step(params, grads, x, y, learning_rate):
    """What a careful engineer writes by hand: the same maths, no framework, no checks, gradient
    buffers allocated once (as bplib's layers do)."""
    W1, b1, W2, b2, W3, b3 = params
    dW1, db1, dW2, db2, dW3, db3 = grads
    n = x.shape[0]
    h1 = x @ W1
    h1 += b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ W2
    h2 += b2
    a2 = np.maximum(h2, 0)
    logits = a2 @ W3
    logits += b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(n), y]).mean()
    dlogits = p
    dlogits[np.arange(n), y] -= 1
    dlogits /= n
    np.matmul(a2.T, dlogits, out=dW3)
    np.sum(dlogits, axis=0, out=db3)
    dh2 = (dlogits @ W3.T) * (h2 > 0)
    np.matmul(a1.T, dh2, out=dW2)
    np.sum(dh2, axis=0, out=db2)
    dh1 = (dh2 @ W2.T) * (h1 > 0)
    np.matmul(x.T, dh1, out=dW1)  # no dx: nobody needs the gradient of the data
    np.sum(dh1, axis=0, out=db1)
    for param, grad in zip(params, grads):
        param -= learning_rate * grad
    return loss


def raw_matmuls(params, grads, x, buffers):
    """Only the eight matrix products of a step, into preallocated outputs: the hardware floor."""
    W1, _, W2, _, W3, _ = params
    dW1, _, dW2, _, dW3, _ = grads
    h1, h2, out, d2, d1 = buffers
    np.matmul(x, W1, out=h1)
    np.matmul(h1, W2, out=h2)
    np.matmul(h2, W3, out=out)
    np.matmul(h2.T, out, out=dW3)
    np.matmul(out, W3.T, out=d2)
    np.matmul(h1.T, d2, out=dW2)
    np.matmul(d2, W2.T, out=d1)
    np.matmul(x.T, d1, out=dW1)


def training_step(model, loss, optimizer, x, y):
    loss.forward(model.forward(x), y)
    model.backward(loss.backward(), need_dx=False)
    optimizer.step()


def time_mlp_step(dtype):
    """Median seconds of one bplib step, the reference step and the raw matmuls, side by side."""
    rng = np.random.default_rng(0)
    model = mlp(SIZES, activation="relu", rng=0, dtype=dtype)
    reference = [p.copy() for _, p, _ in model.parameters()]
    grads = [np.zeros_like(p) for p in reference]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, 10, BATCH)
    buffers = [np.empty((BATCH, n), dtype) for n in (256, 256, 10, 256, 256)]
    loss, optimizer = SoftmaxCrossEntropyLoss(), SGD(model, learning_rate=1e-3)
    return interleaved_medians({
        "bplib": lambda: training_step(model, loss, optimizer, x, y),
        "reference": lambda: reference_step(reference, grads, x, y, 1e-3),
        "raw": lambda: raw_matmuls(reference, grads, x, buffers)}, repeats=31, number=5)


def bench_mlp_step():
    results = {}
    for dtype in (np.float64, np.float32):
        ours, ref, raw = time_mlp_step(dtype).values()
        results[dtype.__name__] = ours
        print(f"MLP 784-256-256-10, batch 128, one step, {dtype.__name__}: bplib {ours * 1e3:.2f} ms, "
              f"reference {ref * 1e3:.2f} ms, ratio {ours / ref:.3f} (target <= 1.10: "
              f"{verdict(ours / ref, 1.10)}); the reference runs at {raw / ref:.0%} of raw matmul speed")
    f32_over_f64 = results["float32"] / results["float64"]
    print(f"float32 step / float64 step: {f32_over_f64:.3f} (target <= 0.55: {verdict(f32_over_f64, 0.55)})")


def lean_tiny_step(params, x, y, ones):
    """The 2-16-16-1 ReLU step written as lean as NumPy allows: no objects, no checks."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = x @ W1
    h1 += b1
    a1 = np.maximum(h1, 0)
    h2 = a1 @ W2
    h2 += b2
    a2 = np.maximum(h2, 0)
    out = a2 @ W3
    out += b3
    dout = (out - y) * (2 / out.size)
    dW3, db3 = a2.T @ dout, ones @ dout
    da2 = dout @ W3.T
    da2 *= h2 > 0
    dW2, db2 = a1.T @ da2, ones @ da2
    da1 = da2 @ W2.T
    da1 *= h1 > 0
    dW1, db1 = x.T @ da1, ones @ da1
    for param, grad in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
        param -= 0.01 * grad


def time_tiny_network(activation, data):
    model = mlp([2, 16, 16, 1], activation=activation, rng=0)
    loss, optimizer = MSELoss(), SGD(model, learning_rate=0.01)
    lean_params = [p.copy() for _, p, _ in model.parameters()]
    (x100, y100), (x200, y200) = data[100], data[200]
    ones = np.ones(200)

    def hundred_steps():
        for _ in range(100):
            training_step(model, loss, optimizer, x100, y100)
    functions = {"100 steps": hundred_steps,
                 "200-point step": lambda: training_step(model, loss, optimizer, x200, y200)}
    if activation == "relu":
        functions["lean 200-point step"] = lambda: lean_tiny_step(lean_params, x200, y200, ones)
    return interleaved_medians(functions, repeats=31, number=3)


def bench_tiny_network():
    rng = np.random.default_rng(0)
    data = {n: (rng.standard_normal((n, 2)), rng.standard_normal((n, 1))) for n in (100, 200)}
    for activation in ("relu", "tanh"):
        times = time_tiny_network(activation, data)
        per_step = times["200-point step"]
        print(f"2-16-16-1 {activation} net, 100 points, 100 full-batch steps: "
              f"{times['100 steps'] * 1e3:.2f} ms (target <= 10 ms: {verdict(times['100 steps'], 0.010)})")
        line = (f"2-16-16-1 {activation} net, one 200-point step: {per_step * 1e6:.1f} us, so "
                f"{0.050 / per_step:.0f} steps fit in 50 ms (target >= 600: "
                f"{verdict(0.050 / per_step, 600, False)})")
        if activation == "relu":
            lean = times["lean 200-point step"]
            line += (f"; lean hand-written NumPy in the same run: {lean * 1e6:.1f} us "
                     f"({0.050 / lean:.0f} steps), bplib / lean = {per_step / lean:.2f}")
        print(line)


def bench_gradient_checks():
    rng = np.random.default_rng(0)
    model = mlp(SIZES, activation="relu", rng=0)
    x, y = rng.standard_normal((BATCH, SIZES[0])), rng.integers(0, 10, BATCH)
    loss = SoftmaxCrossEntropyLoss()

    def backprop():
        loss.forward(model.forward(x), y)
        model.backward(loss.backward(), need_dx=False)
    times = interleaved_medians({
        "backprop": backprop,
        "forward": lambda: loss.forward(model.forward(x), y),
        "directional": lambda: gradcheck.directional_check(model, loss, x, y, rng=1),
        "sparse20": lambda: gradcheck.sparse_check(model, loss, x, y, k=20, rng=1)}, repeats=25)
    report = gradcheck.directional_check(model, loss, x, y, rng=1)
    sparse = gradcheck.sparse_check(model, loss, x, y, k=20, rng=1)
    d, s = times["directional"] / times["backprop"], times["sparse20"] / times["backprop"]
    print(f"one backprop (forward + backward) of 784-256-256-10: {times['backprop'] * 1e3:.2f} ms")
    floor = 1 + 2 * times["forward"] / times["backprop"]
    print(f"directional check: {d:.2f}x one backprop (target <= 2: {verdict(d, 2.0)}); "
          f"its relative error {report.max_relative_error:.1e}, passed={report.passed}; the method's "
          f"own floor, one backprop + two forward passes, is {floor:.2f}x here")
    print(f"20-entry sparse check: {s:.1f}x one backprop (target <= 25: {verdict(s, 25.0)}); "
          f"max relative error {sparse.max_relative_error:.1e}, passed={sparse.passed}")


def bench_import():
    def run(code):
        return subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                              text=True, check=True).stderr
    def total_us(log, module):
        for line in log.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3 and parts[2] == module:
                return int(parts[1])
        return 0
    samples = sorted(total_us(run("import bplib"), "bplib") for _ in range(5))
    core = sorted(total_us(run("import bplib.network"), "bplib.network") for _ in range(5))
    print(f"import bplib: {samples[2] / 1e3:.1f} ms (median of 5; target <= 100 ms: "
          f"{verdict(samples[2] / 1e6, 0.100)}); import bplib.network (loads NumPy too): "
          f"{core[2] / 1e3:.1f} ms")
    loaded = subprocess.run([sys.executable, "-c", "import sys, bplib.train, bplib.gradcheck; print("
                             "[m for m in ('matplotlib', 'ipywidgets') if m in sys.modules])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    print(f"plotting/widget modules loaded by the NumPy core: {loaded}")


if __name__ == "__main__":
    with one_blas_thread():
        bench_mlp_step()
        bench_tiny_network()
        bench_gradient_checks()
    bench_import()
