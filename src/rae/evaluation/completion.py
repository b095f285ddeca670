"""Pattern completion and its score, M-MSE.

The model sees each image with the masked pixels set to 0 and fills them in; the
observed pixels of a completion are always the input's own, so the score only
measures what the model invented. `reconstruct` maps a float32 batch (n, d) to
Bernoulli means (n, d) and must run the model in inference mode.
"""

from typing import NamedTuple

import numpy as np

from rae.errors import ConfigError


def _check(x, other, mask, other_name):
    if x.ndim != 2 or x.shape != other.shape:
        raise ValueError(f"x {x.shape} and {other_name} {other.shape} must be equal (n, d) arrays")
    if mask.dtype != bool or mask.shape != (x.shape[1],):
        raise ValueError(f"mask must be a boolean vector of length {x.shape[1]}, got {mask.dtype} {mask.shape}")


def masked_mse_per_image(x, x_completed, mask):
    """SUM (not mean) of squared errors over the masked pixels, per image, as the paper scores it."""
    x = np.asarray(x, dtype=np.float64)
    x_completed = np.asarray(x_completed, dtype=np.float64)
    mask = np.asarray(mask)
    _check(x, x_completed, mask, "x_completed")
    diff = x[:, mask] - x_completed[:, mask]
    return np.einsum("ij,ij->i", diff, diff)


def masked_mse(x, x_completed, mask):
    """Mean over images of `masked_mse_per_image`: the paper's M-MSE."""
    return float(masked_mse_per_image(x, x_completed, mask).mean())


def _clamp(x, mask, output):
    output = np.asarray(output, dtype=np.float32)
    _check(x, output, mask, "the reconstruction")
    return np.where(mask, output, x)


def complete_one_pass(reconstruct, x, mask):
    """The paper's completion: zero the masked pixels and reconstruct once."""
    x = np.asarray(x, dtype=np.float32)
    mask = np.asarray(mask)
    return _clamp(x, mask, reconstruct(np.where(mask, np.float32(0.0), x)))


class IterativeCompletion(NamedTuple):
    masked_mse: np.ndarray  # (steps,): M-MSE after step 1..steps; step 1 is one pass
    completion: np.ndarray  # (n, d): the completion after the last step


def complete_iterative(reconstruct, x, mask, steps):
    """Feed each completion back in, observed pixels clamped; keep only the M-MSE curve
    and the last completion so that many steps cost no memory."""
    if steps < 1:
        raise ConfigError(f"completion steps must be at least 1, got {steps}")
    x = np.asarray(x, dtype=np.float32)
    mask = np.asarray(mask)
    completion = complete_one_pass(reconstruct, x, mask)
    curve = [masked_mse(x, completion, mask)]
    for _ in range(steps - 1):
        completion = _clamp(x, mask, reconstruct(completion))
        curve.append(masked_mse(x, completion, mask))
    return IterativeCompletion(np.array(curve), completion)
