import numpy as np
import pytest

from rae.errors import ConfigError
from rae.evaluation import MASK_NAMES, bottom_half_mask, make_mask, random_mask, right_half_mask


def loop_mask(predicate, height=28, width=28):
    mask = np.zeros(height * width, dtype=bool)
    for r in range(height):
        for c in range(width):
            mask[r * width + c] = predicate(r, c)
    return mask


def test_right_half_is_columns_14_to_27_pixel_by_pixel():
    mask = right_half_mask()
    assert mask.dtype == bool and mask.shape == (784,)
    np.testing.assert_array_equal(mask, loop_mask(lambda r, c: c >= 14))
    assert mask.sum() == 392
    assert mask.reshape(28, 28)[:, 14:].all() and not mask.reshape(28, 28)[:, :14].any()


def test_right_half_is_not_the_second_half_of_the_flat_vector():
    second_half = np.arange(784) >= 392
    assert not np.array_equal(right_half_mask(), second_half)
    np.testing.assert_array_equal(bottom_half_mask(), second_half)


def test_bottom_half_is_rows_14_to_27():
    np.testing.assert_array_equal(bottom_half_mask(), loop_mask(lambda r, c: r >= 14))


def test_odd_sizes_split_at_integer_half():
    np.testing.assert_array_equal(right_half_mask(3, 5), loop_mask(lambda r, c: c >= 2, 3, 5))
    np.testing.assert_array_equal(bottom_half_mask(3, 5), loop_mask(lambda r, c: r >= 1, 3, 5))


def test_random_mask_is_seeded_and_has_the_requested_size():
    mask = random_mask(0.3, seed=7)
    assert mask.dtype == bool and mask.sum() == round(0.3 * 784)
    np.testing.assert_array_equal(mask, random_mask(0.3, seed=7))
    assert not np.array_equal(mask, random_mask(0.3, seed=8))


def test_make_mask_dispatches_by_name():
    assert MASK_NAMES == ("right-half", "bottom-half", "random")
    np.testing.assert_array_equal(make_mask(), right_half_mask())
    np.testing.assert_array_equal(make_mask("bottom-half"), bottom_half_mask())
    np.testing.assert_array_equal(make_mask("random", fraction=0.25, seed=3), random_mask(0.25, 3))


def test_make_mask_rejects_unknown_names_and_fractions():
    with pytest.raises(ConfigError, match="right-half, bottom-half, random"):
        make_mask("left-half")
    for fraction in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ConfigError):
            make_mask("random", fraction=fraction)
