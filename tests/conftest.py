import os

# One BLAS thread for this process and the notebook kernels it starts: on a busy 2-core machine
# OpenBLAS's threads fight over the cores and small matrix products get 50-100x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Deterministic property tests: the same examples on every run and every machine (no flaky CI).
settings.register_profile("default", derandomize=True, deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
# A heavier, non-derandomised profile to look for rare failures: HYPOTHESIS_PROFILE=stress pytest
settings.register_profile("stress", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    """In CI (.ci/run) a missing sandbox is a failure, not a skip of every grading test."""
    if os.environ.get("BPCOURSE_REQUIRE_SANDBOX") == "1":
        from autograder import sandbox

        caps = sandbox.capabilities()
        if not caps.isolated:
            raise pytest.UsageError(f"BPCOURSE_REQUIRE_SANDBOX=1 but student code cannot be isolated here: "
                                    f"{caps.describe()}")


# --- the real-browser tests (test_browser.py, test_learner_lab.py) ---------------------------------

@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (browser_support: Debian's chromium, never a download); skipped
    without it, a failure where BPCOURSE_REQUIRE_BROWSER=1 (CI)."""
    from browser_support import chromium, missing_requirement, skip_or_fail

    reason = missing_requirement()
    if reason:
        skip_or_fail(reason)
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A fresh page (its own context) of the module's browser."""
    from browser_support import new_page

    with new_page(browser) as page:
        yield page
