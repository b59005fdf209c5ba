"""The price of a general autodiff engine: bplib.tensor (lesson 10's reference Tensor) against a
hand-written backward pass (lessons 3 and 8) and bplib's layers, on lesson 8's 64-256-10 network.

    .venv/bin/python benchmarks/bench_tensor.py

Prints, measured side by side in one run (interleaved medians, one BLAS thread):

* one gradient computation (forward + backward, no update) at several batch sizes, and the ratios
  engine / hand-written and layers / hand-written;
* where the engine's time goes at lesson 8's batch of 64;
* what the reference cycles of the closures cost at a large batch (finished graphs wait for the
  garbage collector, so new arrays cannot reuse their memory);
* a whole training as in lesson 8 (30 epochs, batches of 64, Adam), CPU seconds.

No target is asserted: lesson 10 explains the overhead (Python per operation, graph traversals,
a zero-filled gradient per node, the unneeded gradient of the input, reference cycles) rather than
promising a ratio.
"""

import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import interleaved_medians, one_blas_thread  # noqa: E402

from bplib.data import load_digits  # noqa: E402
from bplib.losses import SoftmaxCrossEntropyLoss  # noqa: E402
from bplib.network import mlp  # noqa: E402
from bplib.optim import Adam  # noqa: E402
from bplib.tensor import Tensor, softmax_cross_entropy, topological_order  # noqa: E402
from bplib.train import fit  # noqa: E402

BATCH_SIZES = [1, 8, 64, 512, 2048]


def hand_written(x, labels, W1, b1, W2, b2):
    """Lesson 3's backward pass, written out: loss and (dW1, db1, dW2, db2); no gradient of x."""
    n = len(x)
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    s = h @ W2 + b2
    shifted = s - s.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    ds = np.exp(log_probs)
    ds[np.arange(n), labels] -= 1
    ds /= n
    dz = (ds @ W2.T) * (z > 0)
    return -log_probs[np.arange(n), labels].mean(), (x.T @ dz, dz.sum(axis=0), h.T @ ds, ds.sum(axis=0))


def engine_loss(x, labels, W1, b1, W2, b2):
    """The same network on bplib.tensor (W1 ... b2 are Tensors)."""
    return softmax_cross_entropy((Tensor(x) @ W1 + b1).relu() @ W2 + b2, labels)


def engine_step(x, labels, tensors):
    loss = engine_loss(x, labels, *tensors)
    loss.zero_grad()
    loss.backward()


def layers_step(model, loss, x, labels):
    loss.forward(model.forward(x), labels)
    model.backward(loss.backward(), need_dx=False)


class TensorParameters:
    """Tensors as a model for bplib's optimisers (as in lesson 10)."""

    def __init__(self, **tensors):
        self.tensors = tensors

    def parameters(self):
        for name, tensor in self.tensors.items():
            yield name, tensor.data, tensor.grad


def gradient_timings(Z, y):
    model = mlp([64, 256, 10], rng=0)
    weights = [p for _, p, _ in model.parameters()]
    tensors = [Tensor(w) for w in weights]
    loss = SoftmaxCrossEntropyLoss()
    print("one gradient (forward + backward), 64-256-10 network, median of interleaved repeats")
    print(f"{'batch':>6} {'engine':>10} {'hand-written':>13} {'bplib layers':>13} {'engine/hand':>12} "
          f"{'layers/hand':>12}")
    for n in BATCH_SIZES:
        x, labels = Z[np.arange(n) % len(Z)], y[np.arange(n) % len(y)]
        number = 50 if n <= 64 else 5
        t = interleaved_medians({"engine": lambda x=x, labels=labels: engine_step(x, labels, tensors),
                                 "hand": lambda x=x, labels=labels: hand_written(x, labels, *weights),
                                 "layers": lambda x=x, labels=labels: layers_step(model, loss, x, labels)},
                                repeats=9, number=number)
        print(f"{n:6d} {t['engine'] * 1e6:8.0f}µs {t['hand'] * 1e6:11.0f}µs {t['layers'] * 1e6:11.0f}µs "
              f"{t['engine'] / t['hand']:12.2f} {t['layers'] / t['hand']:12.2f}")
    return weights, tensors


def breakdown(Z, y, weights, tensors):
    x, labels = Z[:64], y[:64]
    loss = engine_loss(x, labels, *tensors)
    nodes = topological_order(loss)
    W1, b1, W2, b2 = weights
    dz = np.ones((64, 256))
    t = interleaved_medians({
        "forward (builds the graph)": lambda: engine_loss(x, labels, *tensors),
        "zero_grad": loss.zero_grad,
        "topological_order": lambda: topological_order(loss),
        "backward (sort + every _backward)": loss.backward,
        "the gradient of x alone": lambda: dz @ W1.T,
        "hand-written forward (logits)": lambda: np.maximum(x @ W1 + b1, 0) @ W2 + b2,
        "hand-written forward + backward": lambda: hand_written(x, labels, *weights),
    }, repeats=9, number=50)
    print(f"\nwhere the engine's time goes, batch 64: {len(nodes)} nodes, "
          f"{sum(node.grad.nbytes for node in nodes) / 1e3:.0f} kB of gradient arrays per step")
    for name, seconds in t.items():
        print(f"  {name:36s} {seconds * 1e6:8.0f} µs")


def cycles(Z, y, tensors, n=2048):
    """One engine step at batch ``n``, as it runs (finished graphs wait for the cyclic garbage
    collector) and with a collection before each step (not timed), interleaved."""
    x, labels = Z[np.arange(n) % len(Z)], y[np.arange(n) % len(y)]
    samples = {"as it runs": [], "collected before each step": []}
    for _ in range(9):
        for mode, times in samples.items():
            for _ in range(4):
                if mode != "as it runs":
                    gc.collect()
                start = time.perf_counter()
                engine_step(x, labels, tensors)
                times.append(time.perf_counter() - start)
    default, collected = (statistics.median(t) for t in samples.values())
    print(f"\nreference cycles, engine step at batch {n} (medians): as it runs {default * 1e3:.1f} ms, "
          f"with the previous graphs collected {collected * 1e3:.1f} ms, ratio {default / collected:.2f}")


def training(X, y):
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std == 0, 1.0, std)
    Z = (X - mean) / std

    def with_layers():
        model = mlp([64, 256, 10], rng=0)
        fit(model, SoftmaxCrossEntropyLoss(), Adam(model, learning_rate=2e-3), Z, y, epochs=30,
            batch_size=64, rng=0, progress=False)

    def with_engine():
        rng, order_rng = np.random.default_rng(0), np.random.default_rng(0)
        params = {"W1": Tensor(rng.standard_normal((64, 256)) * np.sqrt(2 / 64)), "b1": Tensor(np.zeros(256)),
                  "W2": Tensor(rng.standard_normal((256, 10)) * np.sqrt(2 / 256)), "b2": Tensor(np.zeros(10))}
        optimizer = Adam(TensorParameters(**params), learning_rate=2e-3)
        for _ in range(30):
            order = order_rng.permutation(len(Z))
            for start in range(0, len(Z), 64):
                batch = order[start:start + 64]
                loss = engine_loss(Z[batch], y[batch], *params.values())
                loss.zero_grad()
                loss.backward()
                optimizer.step()

    seconds = {"engine": [], "layers": []}
    for _ in range(3):  # interleaved, CPU time
        for name, run in (("engine", with_engine), ("layers", with_layers)):
            start = time.process_time()
            run()
            seconds[name].append(time.process_time() - start)
    engine, layers = (float(np.median(seconds[k])) for k in ("engine", "layers"))
    print(f"\nlesson 8's training ({len(Z)} images, 30 epochs, batches of 64, Adam), CPU seconds, "
          "median of 3:")
    print(f"  bplib.tensor engine {engine:.2f} s, bplib layers {layers:.2f} s, ratio {engine / layers:.2f}")


def main():
    one_blas_thread()
    X, y = load_digits()
    X, y = X[:1348], y[:1348]
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / np.where(std == 0, 1.0, std)
    weights, tensors = gradient_timings(Z, y)
    breakdown(Z, y, weights, tensors)
    cycles(Z, y, tensors)
    training(X, y)


if __name__ == "__main__":
    main()
