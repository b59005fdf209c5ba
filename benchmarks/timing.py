"""Shared timing helpers for the benchmarks: medians of interleaved repeats, one BLAS thread.

Benchmarks print measured ratios side by side in one run; they assert nothing (timing thresholds
in tests are flaky on shared machines). Targets are printed next to the figures.
"""

import statistics
import time

from threadpoolctl import threadpool_limits


def one_blas_thread():
    """Limit BLAS/OpenMP to one thread for the rest of the process (returns the limiter)."""
    return threadpool_limits(limits=1)


def interleaved_medians(functions, repeats=15, number=1, warmup=2):
    """Median seconds per call of each function, timing them in alternation so that a slow
    moment of the machine hurts all of them alike. ``functions``: dict name -> callable."""
    for fn in functions.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def verdict(value, target, smaller_is_better=True):
    ok = value <= target if smaller_is_better else value >= target
    return "meets target" if ok else "MISSES target"
