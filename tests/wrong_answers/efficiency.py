WRONG = {
    "count_forward_calls": {
        "never restores forward": '''
def count_forward_calls(model, run):
    calls = 0
    original = model.forward

    def counting_forward(*args, **kwargs):
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    model.forward = counting_forward
    run()
    return calls
''',
        "counts every layer": '''
def count_forward_calls(model, run):
    calls = [0]
    originals = [layer.forward for layer in model.layers]
    for layer, original in zip(model.layers, originals):
        def counting_forward(x, original=original):
            calls[0] += 1
            return original(x)
        layer.forward = counting_forward
    try:
        run()
    finally:
        for layer, original in zip(model.layers, originals):
            layer.forward = original
    return calls[0]
''',
        "reads the count before running": '''
def count_forward_calls(model, run):
    calls = [0]
    original = model.forward

    def counting_forward(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    model.forward = counting_forward
    result = calls[0]
    try:
        run()
    finally:
        model.forward = original
    return result
''',
        "forgot nonlocal": '''
def count_forward_calls(model, run):
    calls = 0
    original = model.forward

    def counting_forward(*args, **kwargs):
        calls += 1
        return original(*args, **kwargs)

    model.forward = counting_forward
    try:
        run()
    finally:
        model.forward = original
    return calls
''',
        "formula instead of counting": '''
def count_forward_calls(model, run):
    run()
    return 2 * model.num_parameters()
''',
    },
    "forward_flops": {
        "multiply-adds, not FLOPs": '''
def forward_flops(sizes, batch):
    return sum(batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))
''',
        "forgot the batch": '''
def forward_flops(sizes, batch):
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
''',
        "counts the biases": '''
def forward_flops(sizes, batch):
    return sum(2 * batch * a * b + batch * b for a, b in zip(sizes[:-1], sizes[1:]))
''',
        "one square matrix per layer": '''
def forward_flops(sizes, batch):
    return sum(2 * batch * d * d for d in sizes[1:])
''',
    },
    "gradient_flops": {
        "first layer's dx included": '''
def gradient_flops(sizes, batch):
    forward = forward_flops(sizes, batch)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"forward": forward, "backward": 2 * forward, "backprop": 3 * forward,
            "finite_differences": 2 * n_params * forward}
''',
        "backward as cheap as forward": '''
def gradient_flops(sizes, batch):
    forward = forward_flops(sizes, batch)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"forward": forward, "backward": forward, "backprop": 2 * forward,
            "finite_differences": 2 * n_params * forward}
''',
        "one pass per parameter": '''
def gradient_flops(sizes, batch):
    forward = forward_flops(sizes, batch)
    backward = 2 * forward - 2 * batch * sizes[0] * sizes[1]
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"forward": forward, "backward": backward, "backprop": forward + backward,
            "finite_differences": n_params * forward}
''',
        "weights only": '''
def gradient_flops(sizes, batch):
    forward = forward_flops(sizes, batch)
    backward = 2 * forward - 2 * batch * sizes[0] * sizes[1]
    n_params = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return {"forward": forward, "backward": backward, "backprop": forward + backward,
            "finite_differences": 2 * n_params * forward}
''',
    },
    "time_gradients": {
        "swapped": '''
def time_gradients(model, loss, x, y, repeats=3):
    def median_time(fn):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    return (median_time(lambda: backprop_gradients(model, loss, x, y)),
            median_time(lambda: finite_difference_gradients(model, loss, x, y)))
''',
        "per parameter": '''
def time_gradients(model, loss, x, y, repeats=3):
    n = model.num_parameters()
    start = time.perf_counter()
    finite_difference_gradients(model, loss, x, y)
    fd = (time.perf_counter() - start) / n
    start = time.perf_counter()
    backprop_gradients(model, loss, x, y)
    bp = (time.perf_counter() - start) / n
    return fd, bp
''',
        "milliseconds": '''
def time_gradients(model, loss, x, y, repeats=3):
    start = time.perf_counter()
    finite_difference_gradients(model, loss, x, y)
    fd = time.perf_counter() - start
    start = time.perf_counter()
    backprop_gradients(model, loss, x, y)
    bp = time.perf_counter() - start
    return fd * 1000, bp * 1000
''',
        "only the first parameter": '''
def time_gradients(model, loss, x, y, repeats=3):
    name, first, _ = next(iter(model.parameters()))
    start = time.perf_counter()
    numerical_gradient(lambda: loss.forward(model.forward(x), y), first)
    fd = time.perf_counter() - start
    start = time.perf_counter()
    backprop_gradients(model, loss, x, y)
    bp = time.perf_counter() - start
    return fd, bp
''',
        "predicted from one forward pass": '''
def time_gradients(model, loss, x, y, repeats=3):
    # times nothing but a forward pass; the cost model (2P forward passes for finite
    # differences, about 3 for backprop) "predicts" the rest
    best = float("inf")
    for _ in range(40):
        start = time.perf_counter()
        loss.forward(model.forward(x), y)
        best = min(best, time.perf_counter() - start)
    return 2 * model.num_parameters() * best, 3 * best
''',
        "gradient of the input": '''
def time_gradients(model, loss, x, y, repeats=3):
    start = time.perf_counter()
    numerical_gradient(lambda: loss.forward(model.forward(x), y), x)
    fd = time.perf_counter() - start
    start = time.perf_counter()
    backprop_gradients(model, loss, x, y)
    bp = time.perf_counter() - start
    return fd, bp
''',
    },
    "activation_memory_bytes": {
        "every layer": '''
def activation_memory_bytes(sizes, batch, dtype=np.float64):
    return batch * np.dtype(dtype).itemsize * sum(sizes)
''',
        "numbers, not bytes": '''
def activation_memory_bytes(sizes, batch, dtype=np.float64):
    return batch * sum(sizes[1:-1])
''',
        "always 8 bytes": '''
def activation_memory_bytes(sizes, batch, dtype=np.float64):
    return batch * 8 * sum(sizes[1:-1])
''',
        "bits": '''
def activation_memory_bytes(sizes, batch, dtype=np.float64):
    return 8 * batch * np.dtype(dtype).itemsize * sum(sizes[1:-1])
''',
        "forgot the batch": '''
def activation_memory_bytes(sizes, batch, dtype=np.float64):
    return np.dtype(dtype).itemsize * sum(sizes[1:-1])
''',
    },
}
