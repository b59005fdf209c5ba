import hashlib
from importlib import resources

import numpy as np
import pytest

from bplib import data

GENERATORS = [data.spiral, data.moons, data.circles, data.xor]


@pytest.mark.parametrize("make", GENERATORS, ids=lambda f: f.__name__)
def test_classification_sets_are_seeded_and_well_formed(make):
    X, y = make(rng=0)
    X2, y2 = make(rng=0)
    X3, _ = make(rng=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, X3)
    assert X.ndim == 2 and X.shape[1] == 2 and X.dtype == np.float64
    assert y.shape == (len(X),) and y.dtype.kind == "i"
    assert set(np.unique(y)) == set(range(y.max() + 1))


def test_spiral_class_counts():
    X, y = data.spiral(n_per_class=50, n_classes=4, rng=0)
    assert X.shape == (200, 2) and np.bincount(y).tolist() == [50] * 4


def test_regression_shapes():
    X, y = data.regression_1d(n=30, rng=0)
    assert X.shape == y.shape == (30, 1)


def test_digits_are_the_bundled_real_data():
    digest = hashlib.sha256(resources.files("bplib.datasets").joinpath("digits.csv.gz").read_bytes())
    assert digest.hexdigest() == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and sorted(np.unique(y)) == list(range(10))
    assert np.bincount(y).min() >= 170  # about 180 of each digit


def test_train_test_split_is_stratified_disjoint_and_seeded():
    X, y = data.load_digits()
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.2, rng=0)
    assert len(X_train) + len(X_test) == len(X)
    rows = {tuple(r) for r in X_train}
    assert not any(tuple(r) in rows for r in X_test)  # no image is in both parts
    np.testing.assert_allclose(np.bincount(y_test) / len(y_test), np.bincount(y) / len(y), atol=0.01)
    again = data.train_test_split(X, y, test_fraction=0.2, rng=0)
    np.testing.assert_array_equal(again[1], X_test)
    with pytest.raises(ValueError, match="X has 3 rows but y has 2"):
        data.train_test_split(np.zeros((3, 1)), np.zeros(2))


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
