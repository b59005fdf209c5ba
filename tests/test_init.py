import numpy as np
import pytest

from bplib import init


@pytest.mark.parametrize("name, variance", [
    ("xavier_uniform", 2 / (300 + 200)), ("xavier_normal", 2 / (300 + 200)),
    ("he_normal", 2 / 300), ("he_uniform", 2 / 300), ("small", 1e-4), ("large", 1.0)])
def test_initialiser_variance(name, variance):
    w = init.get(name)((300, 200), rng=0)
    assert w.shape == (300, 200) and w.dtype == np.float64
    assert w.var() == pytest.approx(variance, rel=0.03)
    assert abs(w.mean()) < 0.05 * np.sqrt(variance)


def test_seeded_and_dtype():
    a = init.he_normal((5, 4), rng=1)
    np.testing.assert_array_equal(a, init.he_normal((5, 4), rng=1))
    assert not np.array_equal(a, init.he_normal((5, 4), rng=2))
    assert init.xavier_uniform((5, 4), rng=np.random.default_rng(0), dtype=np.float32).dtype == np.float32
    assert np.all(init.zeros((2, 3)) == 0)


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown initialiser 'lecun'; choose one of .*'he'"):
        init.get("lecun")
    custom = lambda shape, rng=None, dtype=np.float64: np.ones(shape, dtype)  # noqa: E731
    assert init.get(custom) is custom
