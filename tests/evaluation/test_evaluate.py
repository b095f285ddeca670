"""The evaluation pipeline: metrics wired to the right arrays, files written, runs repeatable."""

import json

import numpy as np
import pytest

from rae.config import EvalConfig
from rae.data import DataSplits, Split, get_spec
from rae.evaluation.evaluate import compute_metrics, evaluate_run
from rae.rundir import RunDir


class ConstantDecoderModel:
    """A decoder that ignores z (always q) and an encoder that leaks the label."""

    def __init__(self, q, label_of):
        self.q, self.label_of = q, label_of

    def encode(self, x):
        labels = self.label_of(x)
        return np.eye(10, dtype=np.float32)[labels] + 0.01 * x[:, :10]

    def decode(self, z):
        return np.tile(self.q, (len(z), 1))

    def reconstruct(self, x):
        return self.decode(self.encode(x))


def synthetic_splits(rng, n_train=500, n_test=200):
    def split(n):
        y = rng.integers(0, 10, n)
        x = (rng.random((n, 784)) < 0.3).astype(np.float32)
        x[:, 700:710] = np.eye(10, dtype=np.float32)[y]  # the label, readable from the image
        return Split(x, y.astype(np.int64))

    return DataSplits(split(n_train), split(50), split(n_test), get_spec("mnist"), ())


def test_metrics_are_wired_to_the_right_arrays():
    rng = np.random.default_rng(0)
    splits = synthetic_splits(rng)
    q = rng.uniform(0.05, 0.95, 784).astype(np.float32)
    model = ConstantDecoderModel(q, label_of=lambda x: np.argmax(x[:, 700:710], axis=1))
    config = EvalConfig(gmm_components=3, num_samples=50, iterative_steps=2, completion_samples=64,
                        completion_methods=("one-pass", "iterative", "prior-search"))
    results = compute_metrics(model, splits, config, seed=0)
    x = splits.test.x.astype(np.float64)
    q64 = q.astype(np.float64)
    exact = (x * np.log(q64) + (1 - x) * np.log(1 - q64)).sum(axis=1)
    metrics = results["metrics"]
    # A decoder that ignores z: BCE is -log p(x|q) and log p(x) is log p(x|q) exactly (log S cancels).
    assert metrics["bce"] == pytest.approx(-exact.mean(), rel=1e-5)
    assert metrics["log_likelihood"] == pytest.approx(exact.mean(), rel=1e-5)
    right = np.tile(np.arange(28) >= 14, 28)
    assert metrics["masked_mse"] == pytest.approx(((x - q64) ** 2)[:, right].sum(axis=1).mean(), rel=1e-5)
    assert metrics["classification_error"] == 0.0
    assert results["masked_mse_iterative"]["values"] == pytest.approx([metrics["masked_mse"]] * 2, rel=1e-6)
    # Every decoded sample is q, so the posterior mean over samples is q as well.
    assert results["completion"] == pytest.approx({m: metrics["masked_mse"] for m in ("one-pass", "iterative",
                                                                                       "prior-search")}, rel=1e-5)
    protocol = results["protocol"]
    assert protocol["masked_pixels"] == 392 and protocol["num_samples"] == 50 and protocol["mask"] == "right-half"


def test_evaluate_run_writes_results_and_is_deterministic(trained_run):
    first = evaluate_run(trained_run)
    run = RunDir(trained_run)
    saved = json.loads(run.results_json.read_text())
    assert saved["metrics"] == first["metrics"]
    assert set(saved["metrics"]) == {"bce", "log_likelihood", "classification_error", "masked_mse"}
    assert saved["checkpoint"] == "checkpoints/best.keras"
    with np.load(run.artifacts) as artifacts:
        assert artifacts["images"].shape == (16, 784) and artifacts["gmm_samples"].shape == (64, 784)
        assert artifacts["test_latents"].shape == (10000, 20) and artifacts["mask"].sum() == 392
        np.testing.assert_array_equal(artifacts["masked_inputs"][:, artifacts["mask"]], 0)
    assert {"keras", "numpy", "scikit-learn"} <= set(saved["versions"])
    assert saved["protocol"]["gmm_components"] == 5 and saved["protocol"]["masked_pixels"] == 392
    assert len(saved["masked_mse_iterative"]["values"]) == 3
    assert set(saved["completion"]) == {"one-pass", "iterative", "prior-search", "map"}
    assert saved["completion"]["one-pass"] == saved["metrics"]["masked_mse"]
    # Inference under the prior uses the observed half; it must beat the zero-filled single pass.
    assert saved["completion"]["map"] < saved["completion"]["one-pass"]
    assert len(saved["map_objective"]) == 3 + 1 and saved["map_objective"][-1] >= saved["map_objective"][0]
    table = run.results_md.read_text()
    assert "paper RAE" in table and "60.946" in table and "M-MSE" in table
    again = evaluate_run(trained_run)
    assert again["metrics"] == first["metrics"]


def test_evaluate_run_takes_another_mask_and_a_baseline(trained_run):
    results = evaluate_run(trained_run, eval_config=EvalConfig(mask="bottom-half", gmm_components=3,
                                                                num_samples=100, completion_methods=("one-pass",)),
                           baselines=["gmm-pixels"])
    assert results["protocol"]["mask"] == "bottom-half"
    assert results["masked_mse_iterative"] is None and list(results["completion"]) == ["one-pass"]
    assert np.isfinite(results["baselines"]["gmm_pixels_log_likelihood"])
