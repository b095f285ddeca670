"""Library entry points the CLI wraps: `train_and_evaluate` and `reproduce`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rae.config import COMPLETION_METHODS, Config
from rae.data import load_config_splits
from rae.evaluation.evaluate import evaluate_run
from rae.reporting.paper import METRICS
from rae.reporting.report import write_report, write_reproduce_report
from rae.reporting.tables import LOG_S_NOTE, comparison_table, completion_markdown
from rae.rundir import RunDir, library_versions, read_json, trial_dir, write_json_atomic, write_text_atomic
from rae.training import train


def train_and_evaluate(
    config: Config, workdir: str | Path, *, resume: bool = False, overwrite: bool = False, quiet: bool = False
) -> dict[str, Any]:
    """Train (or finish training) one run, evaluate it and write its report; returns results.json's content."""
    run = RunDir(Path(workdir))
    if resume and run.results_json.exists():
        return read_json(run.results_json)
    if resume and run.path.exists():
        config = run.load_config()
    splits = load_config_splits(config)
    train(config, workdir, resume=resume and run.path.exists(), overwrite=overwrite, quiet=quiet, splits=splits)
    results = evaluate_run(workdir, splits=splits, verbose=not quiet)
    write_report(workdir)
    return results


def reproduce(
    config: Config,
    out: str | Path,
    *,
    trials: int,
    quiet: bool = False,
    on_trial: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One run per seed (config.seed, config.seed+1, ...); finished trials are kept, not re-run.

    Writes summary.json, summary.md (mean ± sd beside the paper) and report.html into `out`.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results, timings = [], []
    for trial in range(trials):
        seed = config.seed + trial
        path = trial_dir(out, trial, seed)
        result = train_and_evaluate(config.replace(seed=seed), path, resume=True, quiet=quiet)
        results.append(result)
        timings.append({"train_s": read_json(RunDir(path).train_summary)["wall_time_s"],
                        "evaluate_s": result.get("wall_time_s")})
        if on_trial is not None:
            on_trial(trial, result)
    summary = summarize(config.data.dataset, results)
    summary["wall_time_s"] = timings
    summary["config"] = config.to_dict()
    summary["versions"] = library_versions()
    write_json_atomic(out / "summary.json", summary)
    write_text_atomic(out / "summary.md", summary_markdown(summary))
    write_reproduce_report(out)
    return summary


def mean_sd(values: list[float]) -> dict[str, Any]:
    """Mean and sample sd (ddof=1; 0 for a single trial) over trials."""
    array = np.asarray(values, dtype=float)
    sd = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return {"mean": float(array.mean()), "sd": sd, "values": array.tolist()}


def summarize(dataset: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric, and each completion method every trial ran, aggregated over trials."""
    methods = [m for m in COMPLETION_METHODS if all(m in r.get("completion", {}) for r in results)]
    return {
        "dataset": dataset,
        "trials": len(results),
        "seeds": [r["seed"] for r in results],
        "metrics": {key: mean_sd([r["metrics"][key] for r in results]) for key in METRICS},
        "completion": {m: mean_sd([r["completion"][m] for r in results]) for m in methods},
        "notes": sorted({note for r in results for note in r.get("notes", [])}),
    }


def summary_markdown(summary: dict[str, Any]) -> str:
    ours = {key: (value["mean"], value["sd"]) for key, value in summary["metrics"].items()}
    title = f"# rae reproduce: {summary['dataset']}, {summary['trials']} trial(s), seeds {summary['seeds']}"
    lines = [title, "", comparison_table(summary["dataset"], ours, label="rae (ours), mean ± sd"), LOG_S_NOTE + "\n"]
    if summary.get("completion"):
        completion = {method: (value["mean"], value["sd"]) for method, value in summary["completion"].items()}
        lines += completion_markdown(summary["dataset"], completion)
    for note in summary.get("notes", []):
        lines.append(f"> Note: {note}\n")
    return "\n".join(lines)
