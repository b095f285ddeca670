"""The speed record of `rae`: one table of training throughput, metric times and a full trial.

    python benchmarks/run.py [--rounds 6] [--no-trial] [--json-out FILE]

Every figure comes from a fresh subprocess, because the Keras backend is fixed at
import. Training throughput runs once per backend (`train_throughput.py`): inside
that process the trainers alternate epoch by epoch, so the ratios against the
trainer before issue #6 and against the hand-written JAX step are paired and hold
to a few percent although this machine drifts by 10-20% over minutes. The ratio
between the two backends comes from two processes and is only as good as that drift.

The full trial (50 epochs + all four metrics, exactly as `rae reproduce` runs one)
runs once, on the faster Keras backend, and gives the wall time, the peak resident
memory and the time of every evaluation step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
BACKENDS = ("tensorflow", "jax")
TRAINER_LABELS = {
    "rae": "rae trainer (defaults)",
    "before": "rae trainer before #6 (steps_per_execution 1)",
    "fit-loop": "rae's fit loop alone (no validation, no checkpoints)",
    "peer": "hand-written jitted JAX step (yardstick; no validation, no checkpoints)",
}
RATIO_LABELS = {"rae_over_before": "rae / before #6", "rae_over_peer": "rae / hand-written JAX step",
                "fit_loop_over_peer": "rae's fit loop alone / hand-written JAX step"}
# Issue #6's targets: TensorFlow 1.2x its own speed before the issue; the faster backend
# (JAX here) at least as fast as the minimal hand-written step.
RATIO_TARGETS = {("tensorflow", "rae_over_before"): 1.2, ("jax", "rae_over_peer"): 1.0}
TRIAL_TARGETS = {"wall_s": 300.0, "peak_rss_mib": 3072.0, "log_likelihood": 10.0}


def run_json(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a benchmark script with --json and return the object on its last stdout line."""
    command = [sys.executable, str(BENCHMARKS / script), *args, "--json"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"run.py: error: {' '.join(command[1:])} failed: {tail[0]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def faster_backend(throughput: dict[str, dict[str, Any]]) -> str:
    return max(throughput, key=lambda backend: throughput[backend]["trainers"]["rae"]["samples_per_s"])


def _verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "**missed**"


def format_report(report: dict[str, Any]) -> str:
    throughput = report["throughput"]
    lines = ["## Training throughput (MNIST, 58,000 images, batch 200; median over paired rounds)", "",
             "| backend | trainer | samples/s | model GFLOP/s | fraction of numpy matmul |",
             "|---|---|---:|---:|---:|"]
    for backend, result in throughput.items():
        for name, t in result["trainers"].items():
            lines.append(f"| {backend} | {TRAINER_LABELS[name]} | {t['samples_per_s']:,.0f} | "
                         f"{t['model_gflops']:.1f} | {t['fraction_of_matmul']:.2f} |")
    lines += ["", "| backend | numpy float32 matmul at the model's shapes |", "|---|---:|"]
    lines += [f"| {backend} | {result['matmul_gflops']:.1f} GFLOP/s |" for backend, result in throughput.items()]
    lines += ["", "| ratio (paired, one process) | measured | target | |", "|---|---:|---:|---|"]
    for backend, result in throughput.items():
        for key, value in result["ratios"].items():
            target = RATIO_TARGETS.get((backend, key))
            verdict = f">= {target} | {_verdict(value, target)}" if target else " | "
            lines.append(f"| {backend}: {RATIO_LABELS[key]} | {value:.3f}x | {verdict} |")
    if all(backend in throughput for backend in BACKENDS):
        jax_over_tf = (throughput["jax"]["trainers"]["rae"]["samples_per_s"]
                       / throughput["tensorflow"]["trainers"]["rae"]["samples_per_s"])
        lines.append(f"| rae on jax / rae on tensorflow (two processes) | {jax_over_tf:.3f}x | | |")
    trial = report.get("trial")
    if trial:
        # Decoding the S GMM samples is part of the estimator's cost.
        log_likelihood_s = trial["metric_s"].get("log_likelihood", float("nan")) + trial["metric_s"].get(
            "decode_samples", 0.0)
        lines += ["", f"## One full MNIST trial on {trial['backend']} ({trial['epochs']} epochs + evaluation)", "",
                  "| figure | value | target | |", "|---|---:|---:|---|",
                  f"| wall time | {trial['wall_s']:.1f} s | <= 300 s | "
                  f"{_verdict(trial['wall_s'], TRIAL_TARGETS['wall_s'], False)} |",
                  f"| training | {trial['train_s']:.1f} s | | |",
                  f"| evaluation | {trial['evaluate_s']:.1f} s | | |",
                  f"| peak resident memory | {trial['peak_rss_mib']:,.0f} MiB | <= 3,072 MiB | "
                  f"{_verdict(trial['peak_rss_mib'], TRIAL_TARGETS['peak_rss_mib'], False)} |",
                  f"| log p(x), 10,000 x 5,000 | {log_likelihood_s:.2f} s | <= 10 s | "
                  f"{_verdict(log_likelihood_s, TRIAL_TARGETS['log_likelihood'], False)} |",
                  "", "| evaluation step | seconds |", "|---|---:|"]
        lines += [f"| {name} | {seconds:.2f} |" for name, seconds in trial["metric_s"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="paired rounds per backend after a warm-up round")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--no-trial", action="store_true", help="skip the full trial")
    parser.add_argument("--trial-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for the full trial, e.g. train.epochs=2 (repeatable)")
    parser.add_argument("--json-out", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()

    report: dict[str, Any] = {"throughput": {}}
    for backend in args.backends:
        print(f"training throughput on {backend} ({args.rounds} paired rounds) ...", file=sys.stderr, flush=True)
        report["throughput"][backend] = run_json("train_throughput.py", ["--rounds", str(args.rounds)],
                                                 {"KERAS_BACKEND": backend})
    if not args.no_trial:
        backend = faster_backend(report["throughput"])
        print(f"full trial on {backend} ...", file=sys.stderr, flush=True)
        report["trial"] = run_json("full_trial.py", [f"--set={item}" for item in args.trial_set],
                                   {"KERAS_BACKEND": backend})
    print(format_report(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
