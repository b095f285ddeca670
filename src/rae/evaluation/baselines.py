"""The paper's "GMM (pixels)" row (MNIST: -185.37 nats): the log p(x) estimator with
no autoencoder, a GMM fitted to the binary training pixels themselves.

Samples are drawn in pixel space and clipped into [1e-6, 1-1e-6] to serve as
Bernoulli means, then scored exactly like decoded latents. The covariance
defaults to diagonal: a full 784x784 covariance per component makes EM on 58,000
images far too slow here, and the paper does not say which it used.
"""

from rae.evaluation.log_likelihood import fit_latent_gmm, log_likelihood, sample_latents


def pixel_gmm_log_likelihood(
    x_train,
    x_test,
    *,
    n_components=75,
    covariance_type="diag",
    num_samples=5000,
    seed,
    chunk_size=1000,
    max_iter=100,
    reg_covar=1e-6,
):
    """Mean log p(x) of `x_test` under a pixel-space GMM fitted to `x_train`.

    `reg_covar` is what keeps the always-off border pixels from having zero variance.
    """
    gmm = fit_latent_gmm(
        x_train,
        n_components=n_components,
        covariance_type=covariance_type,
        seed=seed,
        max_iter=max_iter,
        reg_covar=reg_covar,
    )
    p = sample_latents(gmm, num_samples, seed)
    return log_likelihood(x_test, p, chunk_size=chunk_size)
