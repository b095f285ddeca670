"""Reconstruction BCE, the paper's first metric (nats, summed over pixels)."""

import numpy as np

from rae.errors import ConfigError


# The protocol clips reconstructions to [1e-7, 1 - 1e-7] before the log.
BCE_CLIP = 1e-7


def bce_per_image(x, x_hat, eps=BCE_CLIP):
    """Bernoulli negative log-likelihood of each image under its reconstruction.

    Computed in float64 so that the clip bound 1 - eps is not rounded away, as it
    would be in float32 (whose spacing just below 1 is 6e-8).
    """
    if not 0.0 < eps < 0.5:
        raise ConfigError(f"eps must be in (0, 0.5), got {eps}")
    x = np.asarray(x, dtype=np.float64)
    x_hat = np.asarray(x_hat, dtype=np.float64)
    if x.ndim != 2 or x.shape != x_hat.shape:
        raise ValueError(f"x {x.shape} and x_hat {x_hat.shape} must be equal (n, d) arrays")
    p = np.clip(x_hat, eps, 1.0 - eps)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum(axis=1)


def bce(x, x_hat, eps=BCE_CLIP):
    """Mean over images of `bce_per_image`: the number the paper reports."""
    return float(bce_per_image(x, x_hat, eps).mean())
