"""Time of each metric on the full MNIST test set (10k images, S=5000, K=75, full covariance).

    python benchmarks/evaluate_speed.py [--run RUN_DIR] [--gmm-subset N]

With --run, the run's best checkpoint is evaluated (GMM timing depends on how
well-structured the latents are); without it, a freshly initialized RAE.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from rae.config import Config, EvalConfig  # noqa: E402
from rae.data import load_config_splits  # noqa: E402
from rae.evaluation.evaluate import compute_metrics  # noqa: E402
from rae.model import build_autoencoder  # noqa: E402
from rae.model.inference import InferenceModel  # noqa: E402
from rae.rundir import open_run_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a trained run directory (default: an untrained model)")
    parser.add_argument("--gmm-subset", type=int, default=None, help="fit the GMM on this many training latents")
    args = parser.parse_args()

    if args.run:
        run = open_run_dir(args.run)
        config = run.load_config()
        model = InferenceModel.load(run.require_checkpoint())
    else:
        config = Config()
        model = InferenceModel.from_autoencoder(build_autoencoder(config.model, seed=0))
    eval_config = EvalConfig(**{**vars(config.eval), "gmm_subset": args.gmm_subset})
    splits = load_config_splits(config)
    start = time.perf_counter()
    results = compute_metrics(model, splits, eval_config, config.seed)
    total = time.perf_counter() - start
    print(f"test images {len(splits.test.x)}, S={eval_config.num_samples}, K={eval_config.gmm_components} "
          f"({eval_config.gmm_covariance}), GMM fitted on {results['protocol']['gmm_fit_images']} latents")
    for name, seconds in sorted(results["timings_s"].items(), key=lambda item: -item[1]):
        print(f"{name:<24} {seconds:8.2f} s")
    print(f"{'total':<24} {total:8.2f} s")


if __name__ == "__main__":
    main()
