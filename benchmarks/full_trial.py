"""Wall time and peak memory of one full trial: train (50 epochs) and evaluate all four metrics.

    KERAS_BACKEND=jax python benchmarks/full_trial.py [--set train.epochs=50 ...] [--json]

Runs `rae.experiment.train_and_evaluate` on MNIST in a temporary run directory,
exactly as `rae reproduce` runs each trial, and prints the training time, the
time of every evaluation step (from results.json) and the process's peak
resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from rae.config import Config, parse_override  # noqa: E402
from rae.experiment import train_and_evaluate  # noqa: E402
from rae.rundir import RunDir, read_json  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override, e.g. train.epochs=5 (repeatable)")
    parser.add_argument("--workdir", type=Path, help="keep the run here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    config = Config().replace(**dict(parse_override(item) for item in args.set))

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp) / "trial"
        results = train_and_evaluate(config, workdir, quiet=True)
        train_s = read_json(RunDir(workdir).train_summary)["wall_time_s"]
    figures = {
        "backend": keras.backend.backend(),
        "epochs": config.train.epochs,
        "wall_s": time.perf_counter() - start,
        "train_s": train_s,
        "evaluate_s": results["wall_time_s"],
        "peak_rss_mib": peak_rss_mib(),
        "metric_s": results["timings_s"],
        "metrics": results["metrics"],
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"backend {figures['backend']}, {config.train.epochs} epochs: wall {figures['wall_s']:.1f} s "
          f"(train {train_s:.1f} s, evaluate {figures['evaluate_s']:.1f} s), peak RSS {figures['peak_rss_mib']:,.0f} MiB")
    for name, seconds in results["timings_s"].items():
        print(f"  {name:<28} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
