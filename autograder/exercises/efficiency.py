"""Lesson 06-efficiency-and-scale: count_forward_calls, forward_flops, gradient_flops,
time_gradients, activation_memory_bytes.

bplib implements none of them, so no exercise has ``implemented_by`` names: answers may use bplib.

Networks are ``bplib.network.mlp(sizes)``: Linear layers of the given sizes with an activation
between them. The cost model counts only the matrix products (2 FLOPs per multiply-add).
"""

import math

import numpy as np

from bplib.grading import Case, Exercise, Mistake
from bplib.probes.efficiency import count_runs, time_probe

# --- trusted references -------------------------------------------------------------------------


def reference_num_parameters(sizes):
    """Weights and biases of mlp(sizes): sum of D_in * D_out + D_out over the layers."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def reference_forward_flops(sizes, batch):
    """FLOPs of the matrix products of one forward pass: 2 N D_in D_out per Linear layer."""
    return sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def reference_gradient_flops(sizes, batch):
    """Cost model of the two ways to get every parameter's gradient (matrix products only).

    backward: dW = x.T @ dout (2 N D_in D_out) in every layer, dx = dout @ W.T (2 N D_in D_out) in
    every layer but the first (the gradient of the data is not needed). Central differences run
    two forward passes per parameter.
    """
    forward = reference_forward_flops(sizes, batch)
    backward = 2 * forward - 2 * batch * sizes[0] * sizes[1]
    return {"forward": forward, "backward": backward, "backprop": forward + backward,
            "finite_differences": 2 * reference_num_parameters(sizes) * forward}


def reference_activation_memory_bytes(sizes, batch, dtype=np.float64):
    """Bytes of the hidden activations kept from the forward pass for the backward pass."""
    return batch * np.dtype(dtype).itemsize * sum(sizes[1:-1])


def _int_sizes(values):
    return [int(v) for v in values]


# --- count_forward_calls ------------------------------------------------------------------------

def _reference_count(model, run):
    calls = 0
    original = model.forward

    def counting_forward(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    model.forward = counting_forward
    try:
        run()
    finally:
        model.forward = original
    return calls


def count_cases(rng, hidden):
    settings = [([2, 3, 1], 4, 3, "0.W"), ([4, 8, 8, 3], 8, 0, "2.b")]
    if hidden:
        for _ in range(3):
            sizes = _int_sizes(rng.integers(1, 7, size=rng.integers(2, 5)))
            layer = int(rng.integers(0, len(sizes) - 1))
            settings.append((sizes, int(rng.integers(1, 9)), int(rng.integers(0, 10)),
                             f"{2 * layer}.{'W' if rng.random() < 0.5 else 'b'}"))
    cases = []
    for i, (sizes, batch, k, parameter) in enumerate(settings):
        seed = int(rng.integers(0, 2**31)) if hidden else i
        args = (sizes, batch, seed, k, parameter)
        cases.append(Case(args, count_runs(_reference_count, *args),
                          f"network {'-'.join(map(str, sizes))}, {k} plain forward calls, the "
                          f"numerical gradient of parameter {parameter}"))
    return cases


def _layer_counts(sizes, batch, seed, k, parameter):
    """What counting every layer's forward (instead of the network's) gives."""
    layers = 2 * len(sizes) - 3
    counts = count_runs(_reference_count, sizes, batch, seed, k, parameter)
    return tuple(layers * c for c in counts[:4]) + (True,)


COUNT_FORWARD_CALLS = Exercise(
    "count_forward_calls", ("count_forward_calls",), count_cases, probe=count_runs,
    outputs=("calls during k plain forward calls", "calls during the numerical gradient of one "
             "parameter", "calls during one backprop step", "calls during the numerical gradient "
             "of every parameter", "model.forward restored afterwards"),
    mistakes=(
        Mistake("put the original method back when run() is done (model.forward = original, in a "
                "`finally:` block), so the model is left as you found it.",
                test=lambda got, *args: isinstance(got, tuple) and len(got) == 5 and got[4] is False),
        Mistake("count calls of model.forward (one per pass through the whole network), not the "
                "forward of each layer.", answer=_layer_counts),
        Mistake("the count is 0: read the counter after calling run(), and make the wrapper "
                "change the counter you return (nonlocal, or a list/dict you mutate).",
                test=lambda got, *args: isinstance(got, tuple) and tuple(got[:4]) == (0, 0, 0, 0)),
    ))


# --- forward_flops ------------------------------------------------------------------------------

def _random_network(rng):
    return _int_sizes(rng.integers(1, 1025, size=rng.integers(2, 7))), int(rng.integers(1, 513))


def flops_settings(rng, hidden):
    settings = [([2, 3, 1], 1), ([4, 16, 16, 3], 8), ([784, 256, 256, 10], 128)]
    return settings + ([_random_network(rng) for _ in range(4)] if hidden else [])


def _label(sizes, batch):
    return f"sizes {sizes}, batch {batch}"


def forward_flops_cases(rng, hidden):
    return [Case((sizes, batch), reference_forward_flops(sizes, batch), _label(sizes, batch))
            for sizes, batch in flops_settings(rng, hidden)]


def _with_bias(sizes, batch):
    return reference_forward_flops(sizes, batch) + batch * sum(sizes[1:])


FORWARD_FLOPS = Exercise(
    "forward_flops", ("forward_flops",), forward_flops_cases,
    mistakes=(
        Mistake("a multiply-add is 2 FLOPs: (N, D) @ (D, M) costs 2 * N * D * M.",
                lambda sizes, batch: reference_forward_flops(sizes, batch) // 2),
        Mistake("every example of the batch goes through every layer: multiply by the batch size N.",
                lambda sizes, batch: reference_forward_flops(sizes, 1)),
        Mistake("count only the matrix products, not the bias additions.", _with_bias),
        Mistake("each layer's weight matrix is D_in x D_out, two consecutive sizes, not D x D: "
                "pair them with zip(sizes[:-1], sizes[1:]).",
                lambda sizes, batch: sum(2 * batch * d * d for d in sizes[1:])),
    ))


# --- gradient_flops -----------------------------------------------------------------------------

def gradient_flops_cases(rng, hidden):
    return [Case((sizes, batch), reference_gradient_flops(sizes, batch), _label(sizes, batch))
            for sizes, batch in flops_settings(rng, hidden)]


def _variant(sizes, batch, backward=None, parameters=None, per_parameter=2):
    forward = reference_forward_flops(sizes, batch)
    backward = reference_gradient_flops(sizes, batch)["backward"] if backward is None else backward
    parameters = reference_num_parameters(sizes) if parameters is None else parameters
    return {"forward": forward, "backward": backward, "backprop": forward + backward,
            "finite_differences": per_parameter * parameters * forward}


GRADIENT_FLOPS = Exercise(
    "gradient_flops", ("gradient_flops",), gradient_flops_cases,
    mistakes=(
        Mistake("the first layer's dx = dout @ W.T is the gradient with respect to the data, which "
                "training never uses: backprop skips it, so leave out 2 * N * D_0 * D_1.",
                lambda s, n: _variant(s, n, backward=2 * reference_forward_flops(s, n))),
        Mistake("the backward pass of a Linear layer has TWO matrix products: dW = x.T @ dout and "
                "dx = dout @ W.T (except dx in the first layer).",
                lambda s, n: _variant(s, n, backward=reference_forward_flops(s, n))),
        Mistake("central differences run TWO forward passes per parameter, L(w + h) and L(w - h).",
                lambda s, n: _variant(s, n, per_parameter=1)),
        Mistake("P counts every parameter: the biases too (D_in * D_out + D_out per layer).",
                lambda s, n: _variant(s, n, parameters=sum(a * b for a, b in zip(s[:-1], s[1:])))),
    ))


# --- time_gradients -----------------------------------------------------------------------------

def time_cases(rng, hidden):
    # Tiny first layers (2-4% of the parameters): timing the first parameter's finite differences
    # alone is far too short, even on a busy machine.
    settings = [([1, 6, 12, 12, 2], 8), ([2, 4, 10, 10, 3], 4)]
    if hidden:
        settings += [([int(rng.integers(2, 4))] + _int_sizes(rng.integers(6, 11, size=3))
                      + [int(rng.integers(2, 4))], int(rng.integers(2, 9))) for _ in range(2)]
    cases = []
    for i, (sizes, batch) in enumerate(settings):
        seed = int(rng.integers(0, 2**31)) if hidden else i
        costs = reference_gradient_flops(sizes, batch)
        expected = {"parameters": reference_num_parameters(sizes),
                    "predicted_ratio": costs["finite_differences"] / costs["backprop"]}
        cases.append(Case((sizes, batch, seed), expected,
                          f"network {'-'.join(map(str, sizes))} "
                          f"({expected['parameters']} parameters), batch {batch}"))
    return cases


def _time_compare(got, case):
    """Judge timings by robust properties, relative to the fastest forward pass the probe saw."""
    result = got.get("result") if isinstance(got, dict) else None
    if not (isinstance(result, tuple) and len(result) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in result)):
        return ("should return two numbers, (finite_difference_seconds, backprop_seconds); "
                f"you returned {result!r}"[:300])
    fd, bp = result
    if not (math.isfinite(fd) and math.isfinite(bp) and fd > 0 and bp > 0):
        return f"times must be positive numbers of seconds; you returned ({fd!r}, {bp!r})"
    forward, parameters = got["forward_seconds"], case.expected["parameters"]
    if got.get("forward_calls", 0) < 2 * parameters:
        return (f"your time_gradients ran the model's forward pass {got.get('forward_calls', 0)} "
                f"time(s), but one finite-difference gradient of all {parameters} parameters runs "
                f"2P = {2 * parameters} of them: time the real computation (finite_difference_gradients "
                "and backprop_gradients), do not predict it from one forward pass.")
    if got.get("backward_calls", 0) < 1:
        return ("your time_gradients never ran the model's backward pass: time a whole backprop "
                "gradient (backprop_gradients: a forward pass AND a backward pass).")
    passes = fd / forward
    if fd < bp:
        return (f"finite differences ({fd:.2e} s) came out faster than backprop ({bp:.2e} s): did "
                "you return the two times in the wrong order?")
    if passes < 0.6 * 2 * parameters:
        return (f"your finite-difference time ({fd:.2e} s) is only as long as {passes:.0f} forward "
                f"passes, but the numerical gradient of all {parameters} parameters runs "
                f"2P = {2 * parameters} of them. Time the gradient of EVERY parameter array (loop "
                "over model.parameters()), once per repeat, and do not divide by P.")
    if passes > 30 * 2 * parameters:
        return (f"your finite-difference time ({fd:.3g}) is {passes:.0f} forward passes long, far "
                f"more than the 2P = {2 * parameters} it needs: return seconds (time.perf_counter() "
                "differences), the median of the repeats, not their sum or milliseconds.")
    if bp < 0.3 * forward:
        return (f"your backprop time ({bp:.2e} s) is shorter than one forward pass ({forward:.2e} "
                "s): time a whole backprop gradient, forward pass AND backward pass.")
    if fd / bp < 3:
        return (f"your measured ratio finite differences / backprop is only {fd / bp:.1f}; for "
                f"{parameters} parameters the cost model predicts about "
                f"{case.expected['predicted_ratio']:.0f}. Check what each timing covers.")
    return None


TIME_GRADIENTS = Exercise("time_gradients", ("time_gradients",), time_cases, probe=time_probe,
                          compare=_time_compare)


# --- activation_memory_bytes --------------------------------------------------------------------

def memory_cases(rng, hidden):
    settings = [([2, 3, 1], 1, np.float64), ([4, 16, 16, 3], 5, np.float64),
                ([784, 256, 256, 10], 128, np.float32)]
    if hidden:
        dtypes = [np.float16, np.float32, np.float64]
        settings += [(*_random_network(rng), dtypes[int(rng.integers(0, 3))]) for _ in range(4)]
    return [Case((sizes, batch, dtype), reference_activation_memory_bytes(sizes, batch, dtype),
                 f"sizes {sizes}, batch {batch}, {np.dtype(dtype).name}")
            for sizes, batch, dtype in settings]


def _numbers(sizes, batch, dtype):
    return batch * sum(sizes[1:-1])


ACTIVATION_MEMORY_BYTES = Exercise(
    "activation_memory_bytes", ("activation_memory_bytes",), memory_cases,
    mistakes=(
        Mistake("count only the hidden layers, sizes[1:-1]: the input x exists anyway (the data) "
                "and the output goes on to the loss.",
                lambda s, n, d: n * np.dtype(d).itemsize * sum(s)),
        Mistake("count only the hidden layers, sizes[1:-1]: the input x is the data, which exists "
                "anyway.", lambda s, n, d: n * np.dtype(d).itemsize * sum(s[:-1])),
        Mistake("that is the number of values; multiply by the bytes per value, "
                "np.dtype(dtype).itemsize.", _numbers),
        Mistake("use the bytes per value of the given dtype (np.dtype(dtype).itemsize: 8 for "
                "float64, 4 for float32, 2 for float16).",
                lambda s, n, d: 8 * _numbers(s, n, d)),
        Mistake("itemsize is already in bytes: do not multiply by 8 (that gives bits).",
                lambda s, n, d: 8 * reference_activation_memory_bytes(s, n, d)),
        Mistake("every example of the batch has its own activations: multiply by the batch size.",
                lambda s, n, d: reference_activation_memory_bytes(s, 1, d)),
    ))


EXERCISES = [COUNT_FORWARD_CALLS, FORWARD_FLOPS, GRADIENT_FLOPS, TIME_GRADIENTS,
             ACTIVATION_MEMORY_BYTES]
