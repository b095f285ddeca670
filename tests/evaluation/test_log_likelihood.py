import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.mixture import GaussianMixture

from rae.errors import ConfigError
from rae.evaluation import (
    bernoulli_log_likelihood_matrix,
    class_balanced_subset,
    fit_latent_gmm,
    log_likelihood,
    log_likelihood_per_image,
    sample_latents,
)

CLIP = 1e-6


def binary_images(n, d=784, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.2).astype(np.float32)


def test_a_decoder_that_ignores_z_gives_the_exact_bernoulli_log_likelihood():
    # Every sample is the same q, so logsumexp adds log S and the estimator must remove it.
    rng = np.random.default_rng(1)
    x = binary_images(6)
    q = rng.random(784)
    q[:10], q[10:20] = 0.0, 1.0
    qc = np.clip(q, CLIP, 1 - CLIP)
    exact = (x * np.log(qc) + (1 - x) * np.log(1 - qc)).sum(axis=1)
    p = np.tile(q, (5000, 1)).astype(np.float32)
    np.testing.assert_allclose(log_likelihood_per_image(x, p), exact, rtol=1e-6)
    assert log_likelihood(x, p) == pytest.approx(exact.mean(), rel=1e-6)


def test_one_matching_sample_among_far_ones_gives_its_likelihood_minus_log_s():
    x = binary_images(1)
    S = 100
    p = np.tile(1.0 - x, (S, 1))  # every pixel wrong ...
    p[37] = x[0]  # ... except in one sample, x's own (clipped) probabilities
    own = 784 * math.log(1 - CLIP)
    far = 784 * math.log(CLIP)
    expected = own + math.log1p((S - 1) * math.exp(far - own)) - math.log(S)
    assert log_likelihood_per_image(x, p)[0] == pytest.approx(expected, rel=1e-9)


def brute_force(x, p):
    matrix = []
    for image in x.tolist():
        row = []
        for probs in p.tolist():
            total = 0.0
            for xd, pd in zip(image, probs):
                pd = min(max(pd, CLIP), 1 - CLIP)
                total += xd * math.log(pd) + (1 - xd) * math.log(1 - pd)
            row.append(total)
        matrix.append(row)
    per_image = []
    for row in matrix:
        top = max(row)
        per_image.append(top + math.log(sum(math.exp(v - top) for v in row)) - math.log(len(row)))
    return np.array(matrix), np.array(per_image)


def test_matrix_and_chunked_estimate_equal_a_double_loop():
    rng = np.random.default_rng(2)
    x = binary_images(7, seed=3)
    p = rng.random((11, 784)) ** 3
    p[0, :5] = 0.0
    p[1, :5] = 1.0
    matrix, per_image = brute_force(x, p)
    np.testing.assert_allclose(bernoulli_log_likelihood_matrix(x, p), matrix, rtol=1e-10)
    np.testing.assert_allclose(log_likelihood_per_image(x, p, chunk_size=3), per_image, rtol=1e-10)


def test_chunk_size_does_not_change_the_estimate():
    rng = np.random.default_rng(4)
    x = binary_images(50)
    p = rng.random((40, 784)).astype(np.float32)
    reference = log_likelihood_per_image(x, p, chunk_size=1000)
    for chunk_size in (1, 7, 50):
        np.testing.assert_allclose(log_likelihood_per_image(x, p, chunk_size=chunk_size), reference, rtol=1e-12)
    with pytest.raises(ConfigError):
        log_likelihood_per_image(x, p, chunk_size=0)


def test_class_balanced_subset_draws_equally_from_every_class():
    labels = np.repeat(np.arange(5), [30, 40, 50, 60, 70])
    idx = class_balanced_subset(labels, 100, seed=0)
    assert len(np.unique(idx)) == 100
    np.testing.assert_array_equal(np.bincount(labels[idx]), [20] * 5)
    np.testing.assert_array_equal(idx, class_balanced_subset(labels, 100, seed=0))
    assert not np.array_equal(idx, class_balanced_subset(labels, 100, seed=1))
    with pytest.raises(ConfigError):
        class_balanced_subset(labels, 101, seed=0)  # not a multiple of 5
    with pytest.raises(ConfigError):
        class_balanced_subset(labels, 200, seed=0)  # class 0 has only 30


def test_fit_latent_gmm_is_seeded_and_checks_its_arguments():
    z = np.random.default_rng(5).normal(size=(300, 3))
    a = fit_latent_gmm(z, n_components=4, seed=0)
    b = fit_latent_gmm(z, n_components=4, seed=0)
    assert a.covariance_type == "full" and a.n_init == 1
    np.testing.assert_array_equal(a.means_, b.means_)
    with pytest.raises(ConfigError, match="full, diag"):
        fit_latent_gmm(z, covariance_type="banded", seed=0)
    with pytest.raises(ConfigError):
        fit_latent_gmm(z, n_components=301, seed=0)


WEIGHTS = np.array([0.2, 0.5, 0.3])
MEANS = np.array([[-3.0, 0.0, 2.0], [4.0, 1.0, -1.0], [0.0, 5.0, 0.0]])


def mixture(covariance_type):
    rng = np.random.default_rng(6)
    if covariance_type == "full":
        a = rng.normal(size=(3, 3, 3))
        covariances = a @ a.transpose(0, 2, 1) + 0.5 * np.eye(3)
    elif covariance_type == "tied":
        a = rng.normal(size=(3, 3))
        covariances = a @ a.T + 0.5 * np.eye(3)
    elif covariance_type == "diag":
        covariances = rng.uniform(0.2, 3.0, size=(3, 3))
    else:
        covariances = np.array([0.3, 1.0, 2.5])
    gmm = GaussianMixture(n_components=3, covariance_type=covariance_type, random_state=0)
    gmm.weights_, gmm.means_, gmm.covariances_ = WEIGHTS, MEANS, covariances
    return gmm


def full_covariances(gmm):
    cov = gmm.covariances_
    if gmm.covariance_type == "full":
        return cov
    if gmm.covariance_type == "tied":
        return np.broadcast_to(cov, (3, 3, 3))
    if gmm.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return cov[:, None, None] * np.eye(3)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
def test_samples_have_the_mixture_moments(covariance_type):
    gmm = mixture(covariance_type)
    samples = sample_latents(gmm, 200_000, seed=0).astype(np.float64)
    mean = WEIGHTS @ MEANS
    second = np.einsum("k,kij->ij", WEIGHTS, full_covariances(gmm) + np.einsum("ki,kj->kij", MEANS, MEANS))
    np.testing.assert_allclose(samples.mean(axis=0), mean, atol=0.03)
    np.testing.assert_allclose(np.cov(samples.T), second - np.outer(mean, mean), atol=0.1)
    # Beyond two moments: the mass of the first coordinate's marginal above 0.5.
    sd = np.sqrt(full_covariances(gmm)[:, 0, 0])
    above = WEIGHTS @ norm.sf(0.5, loc=MEANS[:, 0], scale=sd)
    assert (samples[:, 0] > 0.5).mean() == pytest.approx(above, abs=0.005)


def test_sampling_is_seeded_and_independent_of_the_estimator_state():
    gmm = mixture("full")
    first = sample_latents(gmm, 1000, seed=3)
    assert first.shape == (1000, 3) and first.dtype == np.float32
    np.testing.assert_array_equal(first, sample_latents(gmm, 1000, seed=3))
    assert not np.array_equal(first, sample_latents(gmm, 1000, seed=4))
    gmm.random_state = 123
    np.testing.assert_array_equal(first, sample_latents(gmm, 1000, seed=3))
    with pytest.raises(ConfigError):
        sample_latents(gmm, 0, seed=3)


def test_samples_of_a_fitted_gmm_land_where_its_data_is():
    rng = np.random.default_rng(7)
    z = np.concatenate([rng.normal(-5, 0.5, (400, 2)), rng.normal(5, 0.5, (400, 2))])
    gmm = fit_latent_gmm(z, n_components=2, seed=0)
    samples = sample_latents(gmm, 4000, seed=0)
    assert (samples[:, 0] > 0).mean() == pytest.approx(0.5, abs=0.04)
    assert np.abs(np.abs(samples) - 5).max() < 3.5
