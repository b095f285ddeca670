import numpy as np

from rae.evaluation import log_likelihood, pixel_gmm_log_likelihood


def test_pixel_gmm_scores_below_the_true_generating_model():
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 64)) < 0.3
    flip = 0.05

    def draw(n):
        picked = prototypes[rng.integers(0, 4, n)]
        return (picked ^ (rng.random((n, 64)) < flip)).astype(np.float32)

    x_train, x_test = draw(800), draw(200)
    truth = log_likelihood(x_test, np.where(prototypes, 1 - flip, flip))
    estimate = pixel_gmm_log_likelihood(x_train, x_test, n_components=4, num_samples=500, seed=0)
    assert np.isfinite(estimate)
    assert estimate < truth < 0
    assert estimate == pixel_gmm_log_likelihood(x_train, x_test, n_components=4, num_samples=500, seed=0)
