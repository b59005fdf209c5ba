import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

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
