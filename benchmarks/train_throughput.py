"""Training throughput of `rae` on one Keras backend, paired in one process.

    KERAS_BACKEND=tensorflow python benchmarks/train_throughput.py [--rounds 6] [--json]
    KERAS_BACKEND=jax        python benchmarks/train_throughput.py [--rounds 6] [--json]

This machine's speed drifts by 10-20% from minute to minute, so figures from
different processes cannot be compared to a few percent. Here every trainer runs
in the same process, one epoch each in turn, round after round (after a warm-up
round that compiles everything), and each ratio is the median over rounds of the
ratio within a round:

- `rae`: the trainer exactly as `rae train` runs it (`train.fit_arguments` and
  `train.training_callbacks`: validation, NaN guard, history, best/last
  checkpoints and resume state every epoch), with the default config;
- `before`: the trainer before issue #6: `steps_per_execution = 1` and two Keras
  ModelCheckpoints (best and last) in place of `EpochCheckpoints`;
- `fit-loop`: `rae`'s model and `fit` without validation and without callbacks, which
  separates the training loop itself from the per-epoch work a real run adds;
- `peer` (JAX only): the hand-written jitted step of `peers/jax_train_step.py`, which
  neither validates nor checkpoints.

Each round also measures numpy's float32 matmul GFLOP/s at the model's own layer
shapes, the ceiling the achieved model GFLOP/s is compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_peak import matmul_gflops, model_flops_per_sample  # noqa: E402
from rae.config import Config  # noqa: E402
from rae.data import DataSplits, load_splits  # noqa: E402
from rae.rundir import RunDir, create_run_dir  # noqa: E402
from rae.training.callbacks import EpochCheckpoints  # noqa: E402
from rae.training.trainer import (  # noqa: E402
    build_compiled_model,
    fit_arguments,
    steps_per_epoch,
    training_callbacks,
)


TRAINERS = ("rae", "before", "fit-loop", "peer")


class EpochTimer(keras.callbacks.Callback):
    """Placed last, so that each epoch it times spans every other callback's epoch-end work."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


class KerasTrainer:
    """A compiled RAE, its fit arguments and callbacks; each call times one epoch.

    A real run is one `fit` over every epoch, so its epochs after the first pay none of
    `fit`'s set-up (data adapter, callback list, validation iterator). Each call therefore
    runs a two-epoch `fit` and times its second epoch; timing one-epoch fits would charge
    that set-up, about 2% of an epoch here, to every epoch.
    """

    def __init__(self, model: keras.Model, fit_arguments: dict, callbacks: list) -> None:
        self.model, self.fit_arguments, self.callbacks = model, fit_arguments, callbacks
        self.samples_per_epoch = len(fit_arguments["x"])
        self.epoch = 0

    def run_epoch(self) -> float:
        timer = EpochTimer()
        self.model.fit(**self.fit_arguments, initial_epoch=self.epoch, epochs=self.epoch + 2,
                       callbacks=[*self.callbacks, timer], verbose=0)
        self.epoch += 2
        return timer.seconds[-1]


def keras_trainer(name: str, config: Config, splits: DataSplits, workdir: Path) -> KerasTrainer:
    """The `rae`, `before` or `fit-loop` trainer (see the module docstring)."""
    if name == "before":
        config = config.replace(**{"train.steps_per_execution": 1})
    keras.utils.set_random_seed(config.seed)
    model = build_compiled_model(config, steps_per_epoch(config, splits))
    arguments = fit_arguments(config, splits)
    if name == "fit-loop":
        return KerasTrainer(model, {k: v for k, v in arguments.items() if k != "validation_data"}, [])
    run = create_run_dir(workdir / name, config)
    callbacks = training_callbacks(config, run, resuming=False)
    if name == "before":
        callbacks = callbacks_before_issue_6(callbacks, run)
    return KerasTrainer(model, arguments, callbacks)


def callbacks_before_issue_6(callbacks: list, run: RunDir) -> list:
    """The trainer's callbacks with its checkpoints as they were before #6: two Keras
    ModelCheckpoints, each serializing the model, in the place of `EpochCheckpoints`."""
    before = []
    for callback in callbacks:
        if isinstance(callback, EpochCheckpoints):
            before += [keras.callbacks.ModelCheckpoint(str(run.best_checkpoint), monitor="val_bce", mode="min",
                                                       save_best_only=True),
                       keras.callbacks.ModelCheckpoint(str(run.last_checkpoint))]
        else:
            before.append(callback)
    return before


def make_trainers(config: Config, splits: DataSplits, workdir: Path, names: list[str]) -> dict:
    trainers = {}
    for name in names:
        if name == "peer":
            from peers.jax_train_step import PeerTrainer

            trainers[name] = PeerTrainer(splits.train.x, seed=config.seed)
        else:
            trainers[name] = keras_trainer(name, config, splits, workdir)
    return trainers


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median over rounds of (samples/s of one trainer) / (samples/s of another), from epoch seconds."""
    return statistics.median(d / n for n, d in zip(numerator, denominator))


def summarize(seconds: dict[str, list[float]], samples: dict[str, int], peaks: list[float],
              flops_per_sample: float) -> dict:
    trainers = {}
    for name, times in seconds.items():
        per_round = [samples[name] / t for t in times]
        trainers[name] = {
            "samples_per_s": statistics.median(per_round),
            "model_gflops": statistics.median(per_round) * flops_per_sample / 1e9,
            "fraction_of_matmul": statistics.median(s * flops_per_sample / 1e9 / p for s, p in zip(per_round, peaks)),
            "epoch_s": times,
        }
    ratios = {}
    if "rae" in seconds and "before" in seconds:
        ratios["rae_over_before"] = paired_ratio(seconds["rae"], seconds["before"])
    for name in ("rae", "fit-loop"):
        if name in seconds and "peer" in seconds:
            ratios[f"{name.replace('-', '_')}_over_peer"] = paired_ratio(seconds[name], seconds["peer"])
    return {"trainers": trainers, "ratios": ratios, "matmul_gflops": statistics.median(peaks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds after the warm-up round")
    parser.add_argument("--trainers", nargs="+", choices=TRAINERS,
                        help="default: all, but peer only on JAX")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    backend = keras.backend.backend()
    names = args.trainers or [name for name in TRAINERS if name != "peer" or backend == "jax"]

    config = Config()
    splits = load_splits(config.data.dataset, seed=config.seed)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        trainers = make_trainers(config, splits, Path(tmp), names)
        for trainer in trainers.values():  # warm-up: compilation, first checkpoint writes
            trainer.run_epoch()
        for index in range(args.rounds):
            for name, trainer in trainers.items():
                seconds[name].append(trainer.run_epoch())
            peaks.append(matmul_gflops(config.model, config.train.batch_size, seconds=1.0))
            print(f"round {index + 1}/{args.rounds}: " + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in seconds.items()),
                  file=sys.stderr, flush=True)
    samples = {name: trainer.samples_per_epoch for name, trainer in trainers.items()}
    report = {"backend": backend, "rounds": args.rounds,
              **summarize(seconds, samples, peaks, model_flops_per_sample(config.model))}
    if args.json:
        print(json.dumps(report))
        return
    print(f"backend {backend}, {args.rounds} rounds, numpy matmul {report['matmul_gflops']:.1f} GFLOP/s")
    for name, figures in report["trainers"].items():
        print(f"  {name:<8} {figures['samples_per_s']:>8,.0f} samples/s  {figures['model_gflops']:6.1f} GFLOP/s  "
              f"{figures['fraction_of_matmul']:.2f} of matmul")
    for name, value in report["ratios"].items():
        print(f"  {name:<16} {value:.3f}x")


if __name__ == "__main__":
    main()
