"""Which pixels pattern completion hides.

A mask is a flat boolean vector over the row-major image (pixel (r, c) is flat
index r * width + c), True where the pixel is hidden. The paper hides the RIGHT
half of the image (columns width//2 .. width-1), which is not the second half of
the flat vector (that would be the bottom half).
"""

import numpy as np

from rae.errors import ConfigError

MASK_NAMES = ("right-half", "bottom-half", "random")


def _check_size(height, width):
    if height < 2 or width < 2:
        raise ConfigError(f"image size must be at least 2x2, got {height}x{width}")


def right_half_mask(height=28, width=28):
    """The paper's mask: columns width//2 and beyond, in every row."""
    _check_size(height, width)
    cols = np.arange(width) >= width // 2
    return np.tile(cols, height)


def bottom_half_mask(height=28, width=28):
    """Rows height//2 and beyond, in every column."""
    _check_size(height, width)
    rows = np.arange(height) >= height // 2
    return np.repeat(rows, width)


def random_mask(fraction, seed, height=28, width=28):
    """A fixed, seeded set of round(fraction * pixels) pixels, the same for every image."""
    _check_size(height, width)
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"mask fraction must be in (0, 1), got {fraction}")
    size = height * width
    count = round(fraction * size)
    if not 0 < count < size:
        raise ConfigError(f"mask fraction {fraction} hides {count} of {size} pixels")
    mask = np.zeros(size, dtype=bool)
    mask[np.random.default_rng(seed).choice(size, size=count, replace=False)] = True
    return mask


def make_mask(name="right-half", *, fraction=0.5, seed=0, height=28, width=28):
    """The mask a config names; `fraction` and `seed` only matter for `random`."""
    if name == "right-half":
        return right_half_mask(height, width)
    if name == "bottom-half":
        return bottom_half_mask(height, width)
    if name == "random":
        return random_mask(fraction, seed, height, width)
    raise ConfigError(f"unknown mask {name!r}; choose one of: {', '.join(MASK_NAMES)}")
