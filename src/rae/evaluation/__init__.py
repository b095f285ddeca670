"""The paper's four metrics as pure functions over numpy arrays and model callables."""

from rae.evaluation.baselines import pixel_gmm_log_likelihood
from rae.evaluation.bce import bce, bce_per_image
from rae.evaluation.classification import classification_error
from rae.evaluation.completion import (
    IterativeCompletion,
    complete_iterative,
    complete_one_pass,
    masked_mse,
    masked_mse_per_image,
)
from rae.evaluation.log_likelihood import (
    COVARIANCE_TYPES,
    bernoulli_log_likelihood_matrix,
    class_balanced_subset,
    fit_latent_gmm,
    log_likelihood,
    log_likelihood_per_image,
    sample_latents,
)
from rae.evaluation.masks import (
    MASK_NAMES,
    bottom_half_mask,
    make_mask,
    random_mask,
    right_half_mask,
)

__all__ = [
    "COVARIANCE_TYPES",
    "MASK_NAMES",
    "IterativeCompletion",
    "bce",
    "bce_per_image",
    "bernoulli_log_likelihood_matrix",
    "bottom_half_mask",
    "class_balanced_subset",
    "classification_error",
    "complete_iterative",
    "complete_one_pass",
    "fit_latent_gmm",
    "log_likelihood",
    "log_likelihood_per_image",
    "make_mask",
    "masked_mse",
    "masked_mse_per_image",
    "pixel_gmm_log_likelihood",
    "random_mask",
    "right_half_mask",
    "sample_latents",
]
