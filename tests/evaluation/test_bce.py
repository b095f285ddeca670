import math

import numpy as np
import pytest

from rae.errors import ConfigError
from rae.evaluation import bce, bce_per_image


def brute_force_bce(x, x_hat, eps):
    totals = []
    for image, recon in zip(x.tolist(), x_hat.tolist()):
        total = 0.0
        for xd, pd in zip(image, recon):
            pd = min(max(pd, eps), 1.0 - eps)
            total -= xd * math.log(pd) + (1.0 - xd) * math.log(1.0 - pd)
        totals.append(total)
    return totals


def test_bce_matches_a_per_pixel_loop_including_clipped_predictions():
    rng = np.random.default_rng(0)
    x = (rng.random((5, 784)) < 0.3).astype(np.float32)
    x_hat = rng.random((5, 784)).astype(np.float32)
    x_hat[:, :50] = 0.0  # exact 0 and 1 predictions must be clipped, not give inf
    x_hat[:, 50:100] = 1.0
    expected = brute_force_bce(x, x_hat, 1e-7)
    np.testing.assert_allclose(bce_per_image(x, x_hat), expected, rtol=1e-12)
    assert bce(x, x_hat) == pytest.approx(np.mean(expected), rel=1e-12)


def test_a_wrong_certain_prediction_costs_minus_log_eps():
    x = np.array([[1.0, 0.0]])
    x_hat = np.array([[0.0, 0.0]], dtype=np.float32)
    assert bce(x, x_hat) == pytest.approx(-math.log(1e-7) - math.log(1 - 1e-7), rel=1e-12)


def test_bce_rejects_mismatched_shapes_and_bad_eps():
    with pytest.raises(ValueError):
        bce(np.zeros((2, 784)), np.zeros(784))
    with pytest.raises(ConfigError):
        bce(np.zeros((2, 4)), np.zeros((2, 4)), eps=0.0)
