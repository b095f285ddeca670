"""`evaluate_run(run_dir)`: the four metrics of the paper on a trained run.

Latents and reconstructions are computed once, in inference mode, and shared by
every metric that needs them. Results go to results.json (machine-readable,
with the protocol settings) and results.md, both written atomically.
"""

from __future__ import annotations

import sys
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from rae.config import EvalConfig
from rae.data import DataSplits, load_config_splits
from rae.evaluation.baselines import pixel_gmm_log_likelihood
from rae.evaluation.bce import BCE_CLIP, bce
from rae.evaluation.classification import classification_error
from rae.evaluation.completion import complete_iterative, complete_one_pass, masked_mse
from rae.evaluation.inference_completion import complete_map, complete_prior_search
from rae.evaluation.log_likelihood import (
    PROBABILITY_CLIP,
    class_balanced_subset,
    fit_latent_gmm,
    log_likelihood,
    sample_latents,
)
from rae.evaluation.masks import make_mask
from rae.errors import ConfigError
from rae.model.inference import InferenceModel
from rae.reporting.tables import results_markdown
from rae.rundir import library_versions, open_run_dir, save_npz_atomic, write_json_atomic, write_text_atomic

BASELINES = ("gmm-pixels",)
# How many test images and GMM samples artifacts.npz keeps for the figures.
FIGURE_IMAGES = 16
FIGURE_SAMPLES = 64


def derived_seed(seed: int, purpose: str) -> int:
    """A seed per purpose (GMM fit, sampling, classifier), all fixed by the run's seed."""
    return int(np.random.SeedSequence([seed, zlib.crc32(purpose.encode())]).generate_state(1)[0])


class _Timer:
    """Times each step for results.json; with `verbose`, shows each one on stderr as it runs
    (the GMM fit alone takes about a minute)."""

    def __init__(self, verbose: bool) -> None:
        self.seconds: dict[str, float] = {}
        self.verbose = verbose

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        if self.verbose:
            print(f"rae evaluate: {name} ...", end="", file=sys.stderr, flush=True)
        start = time.perf_counter()
        value = fn()
        self.seconds[name] = round(time.perf_counter() - start, 3)
        if self.verbose:
            print(f" {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)
        return value


def _completions(model, x, mask, gmm, config: EvalConfig, seed: int, latent_activation: str, timer: _Timer):
    """Each configured completion of the masked test images: {method: completion}, plus the
    iterative M-MSE curve and MAP's objective curve (None when not run)."""
    completions = {"one-pass": timer.run("masked_mse", lambda: complete_one_pass(model.reconstruct, x, mask))}
    iterative = map_objective = None
    methods = config.completion_methods
    if "iterative" in methods:
        iterative = timer.run("masked_mse_iterative",
                              lambda: complete_iterative(model.reconstruct, x, mask, config.iterative_steps))
        completions["iterative"] = iterative.completion
    if "prior-search" in methods or "map" in methods:
        z_search = sample_latents(gmm, config.completion_samples, derived_seed(seed, "completion-samples"))
        p_search = timer.run("decode_completion_samples", lambda: model.decode(z_search))
        prior = timer.run("masked_mse_prior_search",
                          lambda: complete_prior_search(x, mask, p_search, chunk_size=config.chunk_size))
        if "prior-search" in methods:
            completions["prior-search"] = prior.completion
        if "map" in methods:  # starts from each image's best prior-search sample
            refined = timer.run("masked_mse_map", lambda: complete_map(
                model.decoder, gmm, x, mask, z_search[prior.best_sample], steps=config.map_steps,
                step_size=config.map_step_size, latent_activation=latent_activation, chunk_size=config.chunk_size))
            completions["map"] = refined.completion
            map_objective = [float(v) for v in refined.objective]
    curve = None if iterative is None else {"steps": list(range(1, config.iterative_steps + 1)),
                                            "values": [float(v) for v in iterative.masked_mse]}
    return completions, curve, map_objective


def _fit_gmm(z_train, y_train, config: EvalConfig, seed: int, timer: _Timer):
    """The latent GMM prior of log p(x), on every training latent or a class-balanced subset."""
    fit_idx = (np.arange(len(z_train)) if config.gmm_subset is None
               else class_balanced_subset(y_train, config.gmm_subset, derived_seed(seed, "gmm-subset")))
    gmm = timer.run("gmm_fit", lambda: fit_latent_gmm(
        z_train[fit_idx], n_components=config.gmm_components, covariance_type=config.gmm_covariance,
        seed=derived_seed(seed, "gmm-fit")))
    return gmm, len(fit_idx)


def compute_metrics(
    model: InferenceModel,
    splits: DataSplits,
    config: EvalConfig,
    seed: int,
    baselines: Iterable[str] = (),
    artifacts: dict[str, np.ndarray] | None = None,
    latent_activation: str = "sigmoid",
    verbose: bool = False,
) -> dict[str, Any]:
    """Every metric of the protocol for one model; returns the results.json payload (without paths).

    If `artifacts` is a dict, it is filled with the arrays the figures show
    (a few test images with their reconstructions and completions, decoded GMM
    samples, the test latents), so that plotting never refits the GMM.
    """
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ConfigError(f"unknown baseline {unknown[0]!r}; choose one of: {', '.join(BASELINES)}")
    train, test = splits.train, splits.test
    height, width = splits.spec.image_shape
    timer = _Timer(verbose)

    z_train = timer.run("encode_train", lambda: model.encode(train.x))
    z_test = timer.run("encode_test", lambda: model.encode(test.x))
    x_hat = timer.run("reconstruct_test", lambda: model.decode(z_test))
    metrics = {"bce": timer.run("bce", lambda: bce(test.x, x_hat))}

    gmm, gmm_fit_images = _fit_gmm(z_train, train.y, config, seed, timer)
    z_samples = sample_latents(gmm, config.num_samples, derived_seed(seed, "gmm-sample"))
    p_samples = timer.run("decode_samples", lambda: model.decode(z_samples))
    metrics["log_likelihood"] = timer.run(
        "log_likelihood", lambda: log_likelihood(test.x, p_samples, chunk_size=config.chunk_size))

    mask = make_mask(config.mask, fraction=config.mask_fraction, seed=seed, height=height, width=width)
    completions, iterative_curve, map_objective = _completions(
        model, test.x, mask, gmm, config, seed, latent_activation, timer)
    completion_mse = {name: float(masked_mse(test.x, c, mask)) for name, c in completions.items()}
    metrics["masked_mse"] = completion_mse["one-pass"]

    metrics["classification_error"] = timer.run("classification_error", lambda: classification_error(
        z_train, train.y, z_test, test.y, seed=derived_seed(seed, "classifier"), max_iter=config.classifier_max_iter))

    if artifacts is not None:
        shown = slice(0, FIGURE_IMAGES)
        artifacts.update(
            image_shape=np.array(splits.spec.image_shape),
            images=test.x[shown],
            reconstructions=x_hat[shown],
            mask=mask,
            masked_inputs=np.where(mask, np.float32(0), test.x[shown]),
            **{f"completion_{name.replace('-', '_')}": c[shown] for name, c in completions.items()},
            gmm_samples=p_samples[:FIGURE_SAMPLES],
            test_latents=z_test,
            test_labels=test.y,
        )

    baseline_results = {}
    if "gmm-pixels" in baselines:
        baseline_results["gmm_pixels_log_likelihood"] = timer.run("gmm_pixels", lambda: pixel_gmm_log_likelihood(
            train.x, test.x, n_components=config.gmm_components, num_samples=config.num_samples,
            seed=derived_seed(seed, "gmm-pixels"), chunk_size=config.chunk_size))

    return {
        "dataset": splits.spec.name,
        "seed": seed,
        "metrics": {key: float(value) for key, value in metrics.items()},
        "completion": completion_mse,
        "map_objective": map_objective,
        "masked_mse_iterative": iterative_curve,
        "baselines": baseline_results,
        "protocol": {
            **vars(config),
            "masked_pixels": int(mask.sum()),
            "gmm_fit_images": gmm_fit_images,
            "gmm_converged": bool(gmm.converged_),
            "log_likelihood_estimator": "logsumexp_s log p(x|z_s) - log S (S = num_samples)",
            "sample_probability_clip": PROBABILITY_CLIP,
            "bce_probability_clip": BCE_CLIP,
            "test_images": int(len(test.x)),
            "train_images": int(len(train.x)),
        },
        "notes": list(splits.notes),
        "timings_s": timer.seconds,
    }


def evaluate_run(
    run_path: str | Path,
    *,
    eval_config: EvalConfig | None = None,
    baselines: Iterable[str] = (),
    splits: DataSplits | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """Evaluate the best checkpoint of a run; write results.json, results.md and artifacts.npz."""
    run = open_run_dir(run_path)
    config = run.load_config()
    checkpoint = run.require_checkpoint()
    eval_config = eval_config or config.eval
    if splits is None:
        splits = load_config_splits(config)
    start = time.perf_counter()
    artifacts: dict[str, np.ndarray] = {}
    results = compute_metrics(InferenceModel.load(checkpoint), splits, eval_config, config.seed, baselines, artifacts,
                              latent_activation=config.model.latent_activation, verbose=verbose)
    results["checkpoint"] = str(checkpoint.relative_to(run.path))
    results["wall_time_s"] = round(time.perf_counter() - start, 3)
    results["versions"] = library_versions()
    save_npz_atomic(run.artifacts, artifacts)
    write_json_atomic(run.results_json, results)
    write_text_atomic(run.results_md, results_markdown(results))
    return results
