"""Completion by inference: prior search over decoded GMM samples, and MAP refinement of z.

No training here: tiny hand-built Keras decoders with fixed weights and small
sklearn GMMs, on 4x4 images (right half = 8 of 16 pixels masked) or 28x28 ones.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from rae.errors import ConfigError
from rae.evaluation.inference_completion import (
    _gmm_log_density,
    _objective,
    _value_and_grad,
    complete_map,
    complete_prior_search,
    gmm_log_density,
    gmm_params,
    map_objective,
    observed_log_likelihood_matrix,
)
from rae.evaluation.log_likelihood import PROBABILITY_CLIP
from rae.evaluation.masks import right_half_mask

SMALL_MASK = right_half_mask(4, 4)
SMALL_D = 16
LATENT = 2
REPO = Path(__file__).resolve().parents[2]

# Exact checks run a float64 decoder. Only TensorFlow computes it in float64 throughout: JAX
# has no float64 without x64, and with x64 Keras's BatchNormalization still computes in float32.
needs_float64 = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="needs a float64 decoder (TensorFlow backend)"
)


# --------------------------------------------------------------------------- helpers


def binary_images(n, d, seed):
    return (np.random.default_rng(seed).random((n, d)) < 0.4).astype(np.float32)


def soft_samples(s, d, seed, scale=0.7):
    """Bernoulli means away from 0 and 1, so that the weights are not all on one sample."""
    logits = scale * np.random.default_rng(seed).standard_normal((s, d))
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def brute_force_prior_search(x, mask, p):
    """The definition, one image and one sample at a time."""
    p_clip = np.clip(p.astype(np.float64), PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    completion = x.astype(np.float64).copy()
    best = []
    for i in range(len(x)):
        loglik = np.empty(len(p))
        for s in range(len(p)):
            total = 0.0
            for j in range(x.shape[1]):
                if not mask[j]:
                    total += np.log(p_clip[s, j]) if x[i, j] == 1 else np.log(1 - p_clip[s, j])
            loglik[s] = total
        weights = np.exp(loglik - loglik.max())
        weights /= weights.sum()
        best.append(int(np.argmax(loglik)))
        for j in np.flatnonzero(mask):
            completion[i, j] = sum(weights[s] * p[s, j] for s in range(len(p)))
    return completion, np.array(best)


def tiny_decoder(dtype="float32", seed=0):
    """z (2) -> Dense 8 tanh -> BatchNorm -> Dropout 0.5 -> Dense 16 sigmoid, fixed weights.

    BatchNorm's moving statistics are far from a batch's, and Dropout is strong:
    running the decoder in training mode would change (and randomize) every result.
    """
    rng = np.random.default_rng(seed)
    inputs = keras.Input((LATENT,), dtype=dtype)
    h = keras.layers.Dense(8, activation="tanh", dtype=dtype, name="hidden")(inputs)
    h = keras.layers.BatchNormalization(dtype=dtype, name="bn")(h)
    h = keras.layers.Dropout(0.5, dtype=dtype)(h)
    outputs = keras.layers.Dense(SMALL_D, activation="sigmoid", dtype=dtype, name="out")(h)
    model = keras.Model(inputs, outputs)
    model.get_layer("hidden").set_weights([rng.normal(0, 2.0, (LATENT, 8)), rng.normal(0, 0.5, 8)])
    model.get_layer("bn").set_weights(
        [rng.uniform(0.5, 1.5, 8), rng.normal(0, 0.3, 8), rng.normal(0, 0.5, 8), rng.uniform(0.2, 2.0, 8)]
    )
    model.get_layer("out").set_weights([rng.normal(0, 1.5, (8, SMALL_D)), rng.normal(0, 0.5, SMALL_D)])
    return model


def latent_gmm(covariance_type="full"):
    """A 3-component GMM fitted on 60 sigmoid-range latents in three clusters."""
    rng = np.random.default_rng(1)
    centers = np.array([[0.2, 0.3], [0.7, 0.8], [0.8, 0.2]])
    z = np.clip(centers[rng.integers(3, size=60)] + 0.08 * rng.standard_normal((60, LATENT)), 0.01, 0.99)
    return GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(z)


@pytest.fixture(scope="module")
def decoder():
    return tiny_decoder()


@pytest.fixture(scope="module")
def gmm():
    return latent_gmm()


@pytest.fixture(scope="module")
def map_case(decoder, gmm):
    """Images drawn from the tiny model itself, and starting latents in (0, 1)."""
    rng = np.random.default_rng(2)
    z_true = np.clip(gmm.sample(12)[0], 0.02, 0.98).astype(np.float32)
    p = decoder.predict(z_true, verbose=0)
    x = (rng.random(p.shape) < p).astype(np.float32)
    z_init = rng.uniform(0.1, 0.9, (12, LATENT)).astype(np.float32)
    return x, z_init


# --------------------------------------------------------------------------- prior search


def test_prior_search_never_changes_an_observed_pixel_and_ignores_masked_input():
    mask = right_half_mask()
    x = binary_images(9, 784, 0)
    p = soft_samples(30, 784, 1)
    result = complete_prior_search(x, mask, p, chunk_size=4)
    np.testing.assert_array_equal(result.completion[:, ~mask], x[:, ~mask])
    assert result.completion.dtype == np.float32 and result.completion.shape == x.shape
    # Whatever sits under the mask in the input is not looked at.
    noisy = np.where(mask, np.random.default_rng(3).random(x.shape).astype(np.float32), x)
    np.testing.assert_array_equal(complete_prior_search(noisy, mask, p, chunk_size=4).completion[:, mask],
                                  result.completion[:, mask])


def test_prior_search_picks_out_the_sample_that_matches_the_observed_half():
    mask = right_half_mask()
    x = binary_images(6, 784, 4)
    p = np.random.default_rng(5).random((40, 784)).astype(np.float32)
    where = np.array([3, 17, 39, 0, 22, 8])
    p[where] = np.clip(x, PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    result = complete_prior_search(x, mask, p, chunk_size=4)
    np.testing.assert_array_equal(result.best_sample, where)
    np.testing.assert_allclose(result.completion[:, mask], p[where][:, mask], atol=1e-5)
    np.testing.assert_allclose(result.effective_samples, 1.0, atol=1e-6)
    # Without the matching samples the completion is far from the truth: the match did the work.
    others = np.delete(p, where, axis=0)
    assert np.abs(complete_prior_search(x, mask, others).completion[:, mask] - x[:, mask]).mean() > 0.2


def test_prior_search_matches_a_brute_force_loop_over_images_and_samples():
    x = binary_images(7, SMALL_D, 6)
    p = soft_samples(11, SMALL_D, 7)
    expected, best = brute_force_prior_search(x, SMALL_MASK, p)
    result = complete_prior_search(x, SMALL_MASK, p, chunk_size=3)
    np.testing.assert_allclose(result.completion, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.best_sample, best)
    # The weights are spread (a real average, not one sample), so the average is what was checked.
    assert result.effective_samples.min() > 1.5


def test_prior_search_result_does_not_depend_on_the_chunk_size():
    mask = right_half_mask()
    x = binary_images(23, 784, 8)
    p = soft_samples(50, 784, 9, scale=0.2)
    reference = complete_prior_search(x, mask, p, chunk_size=1000)
    for chunk_size in (1, 5, 22):
        result = complete_prior_search(x, mask, p, chunk_size=chunk_size)
        np.testing.assert_allclose(result.completion, reference.completion, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(result.best_sample, reference.best_sample)
        np.testing.assert_allclose(result.effective_samples, reference.effective_samples, rtol=1e-9)


def test_masked_pixels_of_a_sample_do_not_influence_its_weight():
    x = binary_images(8, SMALL_D, 10)
    p = soft_samples(13, SMALL_D, 11)
    changed = p.copy()
    changed[:, SMALL_MASK] = np.random.default_rng(12).random((13, int(SMALL_MASK.sum())))
    loglik = observed_log_likelihood_matrix(x, SMALL_MASK, p)
    np.testing.assert_array_equal(observed_log_likelihood_matrix(x, SMALL_MASK, changed), loglik)
    # So the completion is the SAME weights applied to the changed masked pixels.
    weights = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    result = complete_prior_search(x, SMALL_MASK, changed)
    np.testing.assert_allclose(result.completion[:, SMALL_MASK], weights @ changed[:, SMALL_MASK], atol=1e-6)
    np.testing.assert_array_equal(result.best_sample, complete_prior_search(x, SMALL_MASK, p).best_sample)


def test_prior_search_is_deterministic_and_checks_its_inputs():
    x = binary_images(10, SMALL_D, 13)
    p = soft_samples(20, SMALL_D, 14)
    first = complete_prior_search(x, SMALL_MASK, p, chunk_size=3)
    second = complete_prior_search(x, SMALL_MASK, p, chunk_size=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError):
        complete_prior_search(x, SMALL_MASK, p, chunk_size=0)
    with pytest.raises(ValueError):
        complete_prior_search(x, SMALL_MASK, p[:, :-1])
    with pytest.raises(ValueError):
        complete_prior_search(x, SMALL_MASK.astype(int), p)


# --------------------------------------------------------------------------- the GMM prior and the objective


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied", "spherical"])
def test_gmm_log_density_equals_sklearn_score_samples(covariance_type):
    gmm = latent_gmm(covariance_type)
    z = np.random.default_rng(15).uniform(-0.5, 1.5, (25, LATENT))
    np.testing.assert_allclose(gmm_log_density(gmm, z), gmm.score_samples(z), rtol=1e-10, atol=1e-10)
    # And in float32, as the MAP objective computes it.
    value = _objective(
        lambda z, training: keras.ops.zeros((z.shape[0], SMALL_D)),
        gmm_params(gmm),
        np.zeros((25, SMALL_D), np.float32),
        ~SMALL_MASK,
        keras.ops.convert_to_tensor(z.astype(np.float32)),
        "float32",
    )
    loglik_of_zero_means = SMALL_D / 2 * np.log1p(-PROBABILITY_CLIP)  # x = 0, p = eps on observed pixels
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(value), gmm.score_samples(z) + loglik_of_zero_means, rtol=1e-5, atol=1e-4
    )


def test_map_objective_is_the_observed_pixel_likelihood_plus_the_gmm_log_density(decoder, gmm, map_case):
    x, z = map_case
    p = decoder.predict(z, verbose=0).astype(np.float64)  # predict: inference mode
    p = PROBABILITY_CLIP + (1 - 2 * PROBABILITY_CLIP) * p
    observed = ~SMALL_MASK
    loglik = (x[:, observed] * np.log(p[:, observed]) + (1 - x[:, observed]) * np.log(1 - p[:, observed])).sum(1)
    expected = loglik + gmm.score_samples(z)
    np.testing.assert_allclose(map_objective(decoder, gmm, x, SMALL_MASK, z), expected, rtol=1e-5, atol=1e-4)
    # Masked pixels of x are not part of it.
    flipped = np.where(SMALL_MASK, 1 - x, x)
    np.testing.assert_array_equal(map_objective(decoder, gmm, flipped, SMALL_MASK, z),
                                  map_objective(decoder, gmm, x, SMALL_MASK, z))


@needs_float64
def test_objective_gradient_matches_finite_differences(gmm):
    decoder64 = tiny_decoder("float64")
    rng = np.random.default_rng(16)
    x = binary_images(5, SMALL_D, 17).astype(np.float64)
    z = rng.uniform(0.15, 0.85, (5, LATENT))
    params = gmm_params(gmm)

    def objective(z):
        return _objective(decoder64, params, np.where(SMALL_MASK, 0.0, x), ~SMALL_MASK, z, "float64")

    values, grad = _value_and_grad(objective, z)
    np.testing.assert_allclose(values, map_objective(decoder64, gmm, x, SMALL_MASK, z), rtol=1e-12)
    h = 1e-6
    numeric = np.empty_like(z)
    for k in range(LATENT):
        step = np.zeros_like(z)
        step[:, k] = h
        numeric[:, k] = (map_objective(decoder64, gmm, x, SMALL_MASK, z + step)
                         - map_objective(decoder64, gmm, x, SMALL_MASK, z - step)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5)
    # Both terms matter here: neither the prior's gradient nor the likelihood's alone would pass.
    prior_grad = _value_and_grad(lambda z: _gmm_log_density(z, params, "float64"), z)[1]
    scale = np.abs(numeric).max()
    assert np.abs(prior_grad - numeric).max() > 0.1 * scale
    assert np.abs(prior_grad).max() > 0.1 * scale


# --------------------------------------------------------------------------- MAP


@needs_float64
@pytest.mark.parametrize("latent_activation", ["sigmoid", "relu"])
def test_map_ascends_the_objective_monotonically_for_a_small_step(latent_activation, gmm, map_case):
    decoder64 = tiny_decoder("float64")
    x, z_init = map_case
    result = complete_map(decoder64, gmm, x, SMALL_MASK, z_init, steps=25, step_size=2e-3,
                          optimizer="gradient", latent_activation=latent_activation, keep_best=False)
    assert result.objective.shape == (26,)
    assert np.all(np.diff(result.objective) > 0)
    assert result.objective[-1] > result.objective[0] + 0.1
    np.testing.assert_allclose(result.final_objective.mean(), result.objective[-1], rtol=1e-10)
    np.testing.assert_allclose(result.final_objective, map_objective(decoder64, gmm, x, SMALL_MASK, result.z),
                               rtol=1e-9)
    if latent_activation == "sigmoid":
        assert np.all((result.z > 0) & (result.z < 1))
    else:
        assert np.all(result.z >= 0)


def test_map_with_adam_rises_and_keeps_each_images_best_iterate(decoder, gmm, map_case):
    x, z_init = map_case
    result = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=40, step_size=0.1, chunk_size=5)
    assert result.objective[-1] > result.objective[0] + 1.0
    start = map_objective(decoder, gmm, x, SMALL_MASK, z_init)
    assert np.all(result.final_objective >= start - 1e-4)
    np.testing.assert_allclose(result.final_objective, map_objective(decoder, gmm, x, SMALL_MASK, result.z),
                               rtol=1e-5, atol=1e-4)
    # The completion is the decoded z (inference mode) on the masked pixels.
    decoded = decoder.predict(result.z, verbose=0)
    np.testing.assert_allclose(result.completion[:, SMALL_MASK], decoded[:, SMALL_MASK], atol=1e-6)


def test_map_never_changes_an_observed_pixel_and_ignores_masked_input(decoder, gmm, map_case):
    x, z_init = map_case
    result = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=5)
    np.testing.assert_array_equal(result.completion[:, ~SMALL_MASK], x[:, ~SMALL_MASK])
    flipped = np.where(SMALL_MASK, 1 - x, x)
    other = complete_map(decoder, gmm, flipped, SMALL_MASK, z_init, steps=5)
    np.testing.assert_array_equal(other.completion[:, SMALL_MASK], result.completion[:, SMALL_MASK])


def test_map_with_zero_steps_decodes_the_starting_latents(decoder, gmm, map_case):
    x, z_init = map_case
    result = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=0)
    np.testing.assert_allclose(result.z, z_init, atol=1e-6)
    decoded = decoder.predict(z_init, verbose=0)
    np.testing.assert_allclose(result.completion[:, SMALL_MASK], decoded[:, SMALL_MASK], atol=1e-6)
    assert result.objective.shape == (1,)


def test_map_is_deterministic_and_chunking_changes_nothing_but_rounding(decoder, gmm, map_case):
    x, z_init = map_case
    first = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=10, chunk_size=5)
    second = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=10, chunk_size=5)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    whole = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=10, chunk_size=100)
    np.testing.assert_allclose(whole.completion, first.completion, atol=1e-5)
    np.testing.assert_allclose(whole.objective, first.objective, rtol=1e-5)


def test_map_checks_its_settings(decoder, gmm, map_case):
    x, z_init = map_case
    for kwargs in ({"steps": -1}, {"step_size": 0.0}, {"optimizer": "sgd"}, {"latent_activation": "tanh"},
                   {"chunk_size": 0}):
        with pytest.raises(ConfigError):
            complete_map(decoder, gmm, x, SMALL_MASK, z_init, **kwargs)
    with pytest.raises(ValueError):
        complete_map(decoder, gmm, x, SMALL_MASK, z_init[:, :1])


_JAX_SCRIPT = """
import json, numpy as np, keras
from rae.evaluation.masks import right_half_mask
from rae.evaluation.inference_completion import complete_map
from tests.evaluation.test_inference_completion import tiny_decoder, latent_gmm, binary_images
assert keras.backend.backend() == "jax"
x = binary_images(6, 16, 20)
z0 = np.random.default_rng(21).uniform(0.1, 0.9, (6, 2)).astype(np.float32)
r = complete_map(tiny_decoder(), latent_gmm(), x, right_half_mask(4, 4), z0, steps=15, step_size=0.05)
print(json.dumps({"objective": r.objective.tolist(), "z": r.z.tolist()}))
"""


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None or keras.backend.backend() != "tensorflow",
    reason="compares the JAX backend (in a subprocess) with TensorFlow (here)",
)
def test_map_gives_the_same_answer_on_the_jax_backend(decoder, gmm):
    python_path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": python_path}
    out = subprocess.run([sys.executable, "-c", _JAX_SCRIPT], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    jax_result = json.loads(out.stdout.strip().splitlines()[-1])
    x = binary_images(6, 16, 20)
    z0 = np.random.default_rng(21).uniform(0.1, 0.9, (6, 2)).astype(np.float32)
    here = complete_map(decoder, gmm, x, SMALL_MASK, z0, steps=15, step_size=0.05)
    np.testing.assert_allclose(jax_result["objective"], here.objective, rtol=1e-4)
    np.testing.assert_allclose(jax_result["z"], here.z, atol=1e-4)


def test_map_compiled_and_eager_agree(decoder, gmm, map_case):
    x, z_init = map_case
    compiled = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=8, chunk_size=5, compile=True)
    eager = complete_map(decoder, gmm, x, SMALL_MASK, z_init, steps=8, chunk_size=5, compile=False)
    np.testing.assert_allclose(compiled.objective, eager.objective, rtol=1e-5)
    np.testing.assert_allclose(compiled.z, eager.z, atol=1e-5)
    np.testing.assert_allclose(compiled.completion, eager.completion, atol=1e-5)
