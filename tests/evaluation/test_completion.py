import numpy as np
import pytest

from rae.errors import ConfigError
from rae.evaluation import (
    complete_iterative,
    complete_one_pass,
    make_mask,
    masked_mse,
    masked_mse_per_image,
    right_half_mask,
)

MASK = right_half_mask()


@pytest.fixture
def x():
    return (np.random.default_rng(0).random((20, 784)) < 0.3).astype(np.float32)


def identity(batch):
    return batch.copy()


def half(batch):
    return np.full_like(batch, 0.5)


def test_masked_mse_sums_squared_errors_over_masked_pixels_only():
    x = np.zeros((2, 784))
    completed = np.zeros((2, 784))
    completed[0, 14] = 0.5  # masked: counts
    completed[0, 13] = 1.0  # observed: ignored
    completed[1, [27, 28 * 27 + 27]] = 1.0  # both masked
    np.testing.assert_allclose(masked_mse_per_image(x, completed, MASK), [0.25, 2.0])
    assert masked_mse(x, completed, MASK) == pytest.approx(1.125)


def test_identity_model_scores_the_on_pixels_of_the_right_half(x):
    # The identity model returns the zeroed input, so each masked on-pixel costs 1.
    completion = complete_one_pass(identity, x, MASK)
    expected = (x[:, MASK] ** 2).sum(axis=1)
    np.testing.assert_allclose(masked_mse_per_image(x, completion, MASK), expected)
    np.testing.assert_array_equal(expected, x.reshape(-1, 28, 28)[:, :, 14:].sum(axis=(1, 2)))


def test_constant_half_model_scores_a_quarter_per_masked_pixel(x):
    completion = complete_one_pass(half, x, MASK)
    np.testing.assert_allclose(masked_mse_per_image(x, completion, MASK), 0.25 * 392)


def test_the_model_sees_zeros_in_the_mask_and_never_changes_an_observed_pixel(x):
    seen = []

    def noisy(batch):
        seen.append(batch.copy())
        return np.random.default_rng(1).random(batch.shape).astype(np.float32)

    completion = complete_one_pass(noisy, x, MASK)
    assert not seen[0][:, MASK].any()
    np.testing.assert_array_equal(seen[0][:, ~MASK], x[:, ~MASK])
    np.testing.assert_array_equal(completion[:, ~MASK], x[:, ~MASK])
    np.testing.assert_array_equal(completion[:, MASK], noisy(x)[:, MASK])


def test_iterative_step_one_is_one_pass_and_feeds_back_clamped_completions(x):
    mask = make_mask("bottom-half")
    inputs = []

    def shift(batch):
        inputs.append(batch.copy())
        return np.roll(batch, 1, axis=1) * 0.9

    result = complete_iterative(shift, x, mask, steps=4)
    assert result.masked_mse.shape == (4,)
    completion = complete_one_pass(shift, x, mask)
    assert result.masked_mse[0] == pytest.approx(masked_mse(x, completion, mask))
    for step in range(1, 4):
        completion = np.where(mask, np.roll(completion, 1, axis=1) * 0.9, x)
        assert result.masked_mse[step] == pytest.approx(masked_mse(x, completion, mask))
    np.testing.assert_array_equal(result.completion, completion)
    for fed_back in inputs[1:4]:
        np.testing.assert_array_equal(fed_back[:, ~mask], x[:, ~mask])


def test_iterative_identity_model_is_a_fixed_point(x):
    result = complete_iterative(identity, x, MASK, steps=3)
    np.testing.assert_allclose(result.masked_mse, (x[:, MASK] ** 2).sum(axis=1).mean())


def test_iterative_rejects_zero_steps(x):
    with pytest.raises(ConfigError):
        complete_iterative(identity, x, MASK, steps=0)


def test_mask_must_be_boolean(x):
    with pytest.raises(ValueError):
        masked_mse(x, x, MASK.astype(int))
