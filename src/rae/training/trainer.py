"""`train(config, run_dir)`: fit the RAE and leave a resumable run directory."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from rae.config import Config
from rae.data import DataSplits, load_config_splits
from rae.errors import RunDirError
from rae.evaluation.masks import make_mask
from rae.model import build_autoencoder, summed_bce
from rae.rundir import RunDir, create_run_dir, open_run_dir, read_json, write_json_atomic
from rae.training.callbacks import EpochCheckpoints, LearningRateLogger, StopOnNonFiniteLoss


@dataclass(frozen=True)
class TrainResult:
    run: RunDir
    epochs_completed: int
    best_epoch: int
    best_val_bce: float
    wall_time_s: float


def steps_per_epoch(config: Config, splits: DataSplits) -> int:
    """Batches per epoch, the last one partial: also the LR schedule's decay period."""
    return math.ceil(len(splits.train.x) / config.train.batch_size)


def build_compiled_model(config: Config, batches_per_epoch: int) -> keras.Model:
    """The RAE compiled with the seed's optimizer: SGD + momentum, exponential decay, clipping."""
    input_mask = None
    if config.train.input_mask is not None:
        input_mask = make_mask(config.train.input_mask, fraction=config.eval.mask_fraction, seed=config.seed)
    model = build_autoencoder(config.model, seed=config.seed, input_mask=input_mask,
                              input_mask_probability=config.train.input_mask_probability)
    schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=config.train.learning_rate,
        decay_steps=batches_per_epoch,
        decay_rate=config.train.lr_decay_per_epoch,
    )
    optimizer = keras.optimizers.SGD(
        learning_rate=schedule,
        momentum=config.train.momentum,
        global_clipnorm=config.train.clip_global_norm,
    )
    # `loss` adds the decoder's L2 terms (model.losses) to the summed BCE; the
    # `bce` metric is the reconstruction term alone, the figure the paper reports.
    model.compile(
        optimizer=optimizer,
        loss=summed_bce,
        metrics=[keras.metrics.MeanMetricWrapper(summed_bce, name="bce")],
        steps_per_execution=config.train.steps_per_execution,
    )
    return model


def training_callbacks(config: Config, run: RunDir, resuming: bool) -> list[keras.callbacks.Callback]:
    """The callbacks every training run has: NaN guard, history, best/last checkpoints, resume state."""
    callbacks = [
        StopOnNonFiniteLoss(last_good=str(run.last_checkpoint)),
        LearningRateLogger(),
        # CSV before the backup: a crash between the two repeats a history row
        # on resume rather than losing one.
        keras.callbacks.CSVLogger(str(run.history), append=resuming),
        EpochCheckpoints(run.last_checkpoint, run.best_checkpoint, monitor="val_bce",
                         best_so_far=_best_val_bce_so_far(run) if resuming else math.inf),
        keras.callbacks.BackupAndRestore(str(run.backup)),
    ]
    if config.train.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(run.tensorboard)))
    return callbacks


def _best_val_bce_so_far(run: RunDir) -> float:
    """The lowest validation BCE the history holds, so that a resumed run's `best` only improves."""
    if not run.history.exists() or len(run.history.read_text().splitlines()) < 2:  # no epoch logged
        return math.inf
    return _best_epoch(run.history)[1]


def fit_arguments(config: Config, splits: DataSplits) -> dict:
    """The data and batching of `model.fit`, shared with the throughput benchmark so that it
    times exactly what `train` runs."""
    return {
        "x": splits.train.x,
        "y": splits.train.x,
        "batch_size": config.train.batch_size,
        "shuffle": True,
        "validation_data": (splits.validation.x, splits.validation.x),
    }


def _progress_verbosity(quiet: bool) -> int:
    if quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def _best_epoch(history_csv: Path) -> tuple[int, float, int]:
    """(best epoch 1-based, its val_bce, epochs logged) from the CSV history."""
    rows = np.genfromtxt(history_csv, delimiter=",", names=True, ndmin=1)
    val_bce = np.asarray(rows["val_bce"], dtype=float)
    best = int(np.nanargmin(val_bce))
    return int(rows["epoch"][best]) + 1, float(val_bce[best]), int(rows["epoch"][-1]) + 1


def train(
    config: Config,
    out: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    quiet: bool = False,
    splits: DataSplits | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainResult:
    """Train `config` into the run directory `out`.

    With `resume`, `out` must hold an earlier run: its saved config is used and
    training continues from the last completed epoch. `splits` lets a caller that
    already loaded the data (e.g. `reproduce`) skip loading it again; `callbacks`
    run before the built-in ones (history, checkpoints, resume state).
    """
    if resume:
        run = open_run_dir(out)
        config = run.load_config()
        if run.is_trained:
            return _result_from_summary(run)
    else:
        run = create_run_dir(out, config, overwrite=overwrite)

    keras.utils.set_random_seed(config.seed)
    if splits is None:
        splits = load_config_splits(config)
    model = build_compiled_model(config, steps_per_epoch(config, splits))

    start = time.perf_counter()
    model.fit(
        **fit_arguments(config, splits),
        epochs=config.train.epochs,
        callbacks=[*callbacks, *training_callbacks(config, run, resuming=resume)],
        verbose=_progress_verbosity(quiet),
    )
    wall_time = time.perf_counter() - start
    if not run.history.exists():
        raise RunDirError(f"training wrote no history to {run.history}")
    best_epoch, best_val_bce, epochs_completed = _best_epoch(run.history)
    summary = {
        "epochs_completed": epochs_completed,
        "best_epoch": best_epoch,
        "best_val_bce": best_val_bce,
        # After a resume this is the time of the final, resumed part only.
        "wall_time_s": wall_time,
        "resumed": resume,
        "train_images": int(len(splits.train.x)),
        "validation_images": int(len(splits.validation.x)),
    }
    write_json_atomic(run.train_summary, summary)
    return _result_from_summary(run)


def _result_from_summary(run: RunDir) -> TrainResult:
    summary = read_json(run.train_summary)
    return TrainResult(
        run=run,
        epochs_completed=summary["epochs_completed"],
        best_epoch=summary["best_epoch"],
        best_val_bce=summary["best_val_bce"],
        wall_time_s=summary["wall_time_s"],
    )
