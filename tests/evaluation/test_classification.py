import numpy as np
import pytest

from rae.evaluation import classification_error


def clusters(n_classes, per_class, seed, spread=0.1):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 5, (n_classes, 20))
    y = np.repeat(np.arange(n_classes), per_class)
    return centres[y] + rng.normal(0, spread, (len(y), 20)), y


@pytest.mark.parametrize("n_classes", [10, 101])
def test_separable_latents_have_zero_error(n_classes):
    z_train, y_train = clusters(n_classes, 20, seed=0)
    z_test, y_test = clusters(n_classes, 10, seed=1)
    assert classification_error(z_train, y_train, z_test, y_test, seed=0) == 0.0


def test_label_independent_latents_are_near_chance():
    rng = np.random.default_rng(2)
    z_train, z_test = rng.random((2000, 20)), rng.random((2000, 20))
    y_train, y_test = rng.integers(0, 10, 2000), rng.integers(0, 10, 2000)
    error = classification_error(z_train, y_train, z_test, y_test, seed=0)
    assert 80 < error < 95


def test_error_is_a_percentage_and_deterministic():
    z_train, y_train = clusters(10, 30, seed=3, spread=6.0)
    z_test, y_test = clusters(10, 30, seed=4, spread=6.0)
    error = classification_error(z_train, y_train, z_test, y_test, seed=0)
    assert 0 < error < 100
    assert error == classification_error(z_train, y_train, z_test, y_test, seed=0)
    correct = round((100 - error) / 100 * len(y_test))
    assert error == pytest.approx(100 * (1 - correct / len(y_test)))
