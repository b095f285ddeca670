import json
import math

import keras
import numpy as np
import pytest

from rae.config import Config
from rae.errors import RunDirError, TrainingDivergedError
from rae.rundir import RunDir
from rae.training import train, trainer
from rae.training.callbacks import EpochCheckpoints


def read_history(run: RunDir):
    return np.genfromtxt(run.history, delimiter=",", names=True, ndmin=1)


def test_short_run_lowers_the_loss_and_writes_every_artefact(small_config, tmp_path):
    result = train(small_config, tmp_path / "run", quiet=True)
    run = result.run
    history = read_history(run)
    assert list(history["epoch"]) == [0, 1, 2]
    assert history["bce"][-1] < history["bce"][0]
    assert history["val_bce"][-1] < history["val_bce"][0]
    # The loss is BCE plus the decoder's L2 term, and the LR decays.
    assert np.all(history["loss"] > history["bce"])
    assert np.all(np.diff(history["learning_rate"]) < 0)
    for path in (run.config, run.environment, run.best_checkpoint, run.last_checkpoint, run.train_summary):
        assert path.is_file(), path
    assert not run.backup.exists()  # resume state is dropped once training is complete
    assert Config.from_dict(json.loads(run.config.read_text())) == small_config
    versions = json.loads(run.environment.read_text())
    assert {"keras", "numpy", "scikit-learn", "keras_backend"} <= set(versions)
    summary = json.loads(run.train_summary.read_text())
    assert summary["epochs_completed"] == 3
    assert summary["best_val_bce"] == pytest.approx(float(np.min(history["val_bce"])))
    assert result.best_val_bce == pytest.approx(summary["best_val_bce"])


def test_same_seed_gives_the_same_loss_curve(small_config, tmp_path):
    config = small_config.replace(**{"train.epochs": 1})
    a = read_history(train(config, tmp_path / "a", quiet=True).run)
    b = read_history(train(config, tmp_path / "b", quiet=True).run)
    c = read_history(train(config.replace(seed=1), tmp_path / "c", quiet=True).run)
    assert a["loss"][0] == pytest.approx(b["loss"][0], rel=1e-6)
    assert a["loss"][0] != pytest.approx(c["loss"][0], rel=1e-6)


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_from_the_saved_epoch(small_config, tmp_path):
    path = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(small_config, path, quiet=True, callbacks=[_Interrupt(at_epoch=2)])
    run = RunDir(path)
    assert not run.is_trained and run.backup.exists()
    assert list(read_history(run)["epoch"]) == [0, 1]
    # The resumed run's best checkpoint only moves for a validation BCE below the logged ones.
    checkpoints = [c for c in trainer.training_callbacks(small_config, run, resuming=True)
                   if isinstance(c, EpochCheckpoints)]
    assert checkpoints[0].best_so_far == pytest.approx(float(np.min(read_history(run)["val_bce"])))

    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append((epoch, int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))))

    result = train(None, path, resume=True, quiet=True, callbacks=[Record()])
    steps_per_epoch = math.ceil(2000 / small_config.train.batch_size)
    # Only the missing epoch ran, and the optimizer (hence the LR schedule) kept its step count.
    assert seen == [(2, 2 * steps_per_epoch)]
    assert list(read_history(run)["epoch"]) == [0, 1, 2]
    assert result.epochs_completed == 3 and run.is_trained and not run.backup.exists()


def test_resuming_a_finished_run_trains_nothing(small_config, tmp_path, monkeypatch):
    config = small_config.replace(**{"train.epochs": 1})
    first = train(config, tmp_path / "run", quiet=True)
    monkeypatch.setattr(trainer, "build_compiled_model", lambda *a, **k: pytest.fail("retrained"))
    assert train(None, tmp_path / "run", resume=True, quiet=True) == first


class _Poison(keras.callbacks.Callback):
    """Turn one decoder kernel into NaN at the start of the second epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            kernel = self.model.get_layer("decoder").get_layer("decoder_out").kernel
            kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(small_config, tmp_path):
    with pytest.raises(TrainingDivergedError) as info:
        train(small_config, tmp_path / "run", quiet=True, callbacks=[_Poison()])
    message = str(info.value)
    assert "\n" not in message and "epoch 2" in message and "last.keras" in message
    run = RunDir(tmp_path / "run")
    for checkpoint in (run.last_checkpoint, run.best_checkpoint):
        model = keras.saving.load_model(checkpoint, compile=False)
        assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert not run.is_trained


def test_an_existing_run_dir_is_never_overwritten_silently(small_config, tmp_path):
    path = tmp_path / "run"
    path.mkdir()
    (path / "precious.txt").write_text("keep me")
    with pytest.raises(RunDirError, match="already exists"):
        train(small_config, path, quiet=True)
    assert (path / "precious.txt").read_text() == "keep me"


def test_resume_needs_an_existing_run(tmp_path):
    with pytest.raises(RunDirError, match="does not exist"):
        train(None, tmp_path / "nothing", resume=True)


def test_steps_per_execution_changes_speed_not_the_updates(small_config, tmp_path):
    config = small_config.replace(**{"train.epochs": 2})
    one = read_history(train(config.replace(**{"train.steps_per_execution": 1}), tmp_path / "a", quiet=True).run)
    ten = read_history(train(config.replace(**{"train.steps_per_execution": 10}), tmp_path / "b", quiet=True).run)
    for column in ("loss", "bce", "val_bce"):
        np.testing.assert_allclose(one[column], ten[column], rtol=1e-5)


def test_masked_input_training_is_recorded_and_trains(small_config, tmp_path):
    config = small_config.replace(**{"train.epochs": 1, "train.input_mask": "right-half"})
    run = train(config, tmp_path / "run", quiet=True).run
    model = keras.saving.load_model(run.best_checkpoint, compile=False)
    assert model.get_layer("training_input_mask").mask.sum() == 392
    assert json.loads(run.config.read_text())["train"]["input_mask"] == "right-half"
