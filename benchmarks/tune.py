"""Tune the three values the paper never published, on the validation split only.

The paper tuned the learning rate, the decoder L2 strength and the init scale on
2,000 validation images. This does the same in two stages: a grid over
(learning rate, init scale) at a fixed L2, then the L2 strength at the best pair.
Every candidate is trained for --epochs and scored with the four metrics of the
protocol computed on the *validation* images (the test split is never read), and
candidates are ranked by their mean rank over the four metrics (ties: the better
log p(x)). The decoder's L2
penalty is part of the model, so lambda = 0 is scored for reference but cannot be
chosen.

    python benchmarks/tune.py --out runs/tune [--epochs 20]

Each candidate is a normal run directory, so an interrupted search resumes.
The table and the choice are printed and written to <out>/tune.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from rae.config import Config  # noqa: E402
from rae.data import load_config_splits  # noqa: E402
from rae.evaluation.evaluate import compute_metrics  # noqa: E402
from rae.model.inference import InferenceModel  # noqa: E402
from rae.reporting.paper import METRICS  # noqa: E402
from rae.rundir import write_json_atomic  # noqa: E402
from rae.training import train  # noqa: E402

STAGE_1 = [(lr, init) for lr in (0.01, 0.03, 0.1) for init in (0.01, 0.05)]
STAGE_1_L2 = 1e-4
STAGE_2_L2 = (0.0, 1e-3)


def score(config: Config, out: Path, splits) -> dict:
    name = f"lr{config.train.learning_rate:g}-init{config.model.init_stddev:g}-l2{config.model.decoder_l2:g}"
    run_path = out / name
    cached = run_path / "validation_metrics.json"
    if cached.exists():
        return json.loads(cached.read_text())
    result = train(config, run_path, overwrite=True, quiet=True, splits=splits)
    # The protocol's metrics with the validation images standing in for the test set.
    validation_as_test = dataclasses.replace(splits, test=splits.validation)
    metrics = compute_metrics(InferenceModel.load(result.run.best_checkpoint), validation_as_test, config.eval,
                              config.seed)["metrics"]
    record = {"name": name, "learning_rate": config.train.learning_rate, "init_stddev": config.model.init_stddev,
              "decoder_l2": config.model.decoder_l2, "best_epoch": result.best_epoch, **metrics}
    write_json_atomic(cached, record)
    print(json.dumps(record), flush=True)
    return record


def rank(records: list[dict]) -> list[dict]:
    ranks = np.zeros(len(records))
    for metric, better in METRICS.items():
        values = np.array([r[metric] for r in records])
        order = np.argsort(values if better == "lower" else -values)
        ranks[order] += np.arange(len(records))
    for record, r in zip(records, ranks / len(METRICS)):
        record["mean_rank"] = float(r)
    # Ties go to the better validation log p(x), the generative metric.
    return sorted(records, key=lambda r: (r["mean_rank"], -r["log_likelihood"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/tune"))
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    base = Config().replace(**{
        "seed": args.seed, "data.dataset": args.dataset, "train.epochs": args.epochs,
        # Cheaper evaluation for ranking: the paper's 18k-image GMM subset, no iterative completion.
        "eval.gmm_subset": 18000, "eval.completion_methods": ["one-pass"],
    })
    splits = load_config_splits(base)

    def candidate(lr, init, l2):
        return base.replace(**{"train.learning_rate": lr, "model.init_stddev": init, "model.decoder_l2": l2})

    stage_1 = [score(candidate(lr, init, STAGE_1_L2), args.out, splits) for lr, init in STAGE_1]
    best = rank(stage_1)[0]
    stage_2 = [score(candidate(best["learning_rate"], best["init_stddev"], l2), args.out, splits) for l2 in STAGE_2_L2]
    table = rank(stage_1 + stage_2)
    print(f"\n{'candidate':<28} {'rank':>5} " + " ".join(f"{m:>21}" for m in METRICS))
    for r in table:
        print(f"{r['name']:<28} {r['mean_rank']:>5.2f} " + " ".join(f"{r[m]:>21.3f}" for m in METRICS))
    chosen = next(r for r in table if r["decoder_l2"] > 0)
    write_json_atomic(args.out / "tune.json", {"epochs": args.epochs, "seed": args.seed, "ranked": table,
                                               "chosen": chosen})
    print(f"\nchosen: {chosen['name']}")


if __name__ == "__main__":
    main()
