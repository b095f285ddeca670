"""Callbacks Keras does not ship in the form training needs."""

from __future__ import annotations

import math
from pathlib import Path

import keras

from rae.errors import TrainingDivergedError
from rae.rundir import copy_atomic, save_model_atomic


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Abort at the first NaN/inf batch loss, before any epoch-end save runs.

    Keras' TerminateOnNaN only sets `stop_training`, so the epoch still ends
    and ModelCheckpoint/BackupAndRestore would overwrite the last good state
    with NaN weights. Raising leaves every checkpoint as it was.
    """

    def __init__(self, last_good: str) -> None:
        super().__init__()
        self._last_good = last_good
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDivergedError(
                f"training diverged: the loss became {float(loss)} at epoch {self._epoch + 1}, batch {batch + 1}; "
                f"the last good checkpoint is kept ({self._last_good}); try a lower learning rate"
            )


class LearningRateLogger(keras.callbacks.Callback):
    """Put the scheduled learning rate into the epoch logs, hence history.csv."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            optimizer = self.model.optimizer
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class EpochCheckpoints(keras.callbacks.Callback):
    """`last` after every epoch and `best` whenever `monitor` reaches a new minimum.

    Written by hand rather than as two Keras ModelCheckpoints because those write in place
    (a kill mid-save leaves a corrupt file) and serialize the model twice per epoch; here
    the model is serialized once, atomically, and `best` is a copy of that file. On a
    resumed run, `best_so_far` (from the history) keeps a worse epoch from replacing `best`.
    """

    def __init__(self, last: Path, best: Path, monitor: str = "val_bce", best_so_far: float = math.inf) -> None:
        super().__init__()
        self.last, self.best, self.monitor = Path(last), Path(best), monitor
        self.best_so_far = best_so_far

    def on_epoch_end(self, epoch, logs=None):
        save_model_atomic(self.model, self.last)
        value = (logs or {}).get(self.monitor)
        if value is not None and float(value) < self.best_so_far:
            self.best_so_far = float(value)
            copy_atomic(self.last, self.best)
