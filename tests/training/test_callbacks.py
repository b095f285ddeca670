"""EpochCheckpoints: one atomic save per epoch, `best` only on a new minimum."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from rae.training.callbacks import EpochCheckpoints


def _model() -> keras.Model:
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs))


def _saved_kernel(path) -> np.ndarray:
    return keras.saving.load_model(path, compile=False).get_layer("dense").get_weights()[0]


def _run_epochs(callback: EpochCheckpoints, model: keras.Model, monitored: list[float]) -> list[np.ndarray]:
    """One epoch per value: give the kernel that epoch's number, then end the epoch."""
    callback.set_model(model)
    kernels = []
    for epoch, value in enumerate(monitored):
        kernel = np.full((3, 2), float(epoch), dtype="float32")
        model.get_layer("dense").kernel.assign(kernel)
        kernels.append(kernel)
        callback.on_epoch_end(epoch, {"val_bce": value})
    return kernels


def test_last_is_every_epoch_and_best_is_the_epoch_with_the_lowest_value(tmp_path):
    last, best = tmp_path / "ckpt" / "last.keras", tmp_path / "ckpt" / "best.keras"
    kernels = _run_epochs(EpochCheckpoints(last, best), _model(), [3.0, 2.0, 2.5, 2.0])
    np.testing.assert_array_equal(_saved_kernel(last), kernels[3])
    np.testing.assert_array_equal(_saved_kernel(best), kernels[1])  # a tie is not an improvement
    assert sorted(p.name for p in last.parent.iterdir()) == ["best.keras", "last.keras"]  # no temporaries


def test_a_resumed_run_keeps_its_best_when_the_next_epoch_is_worse(tmp_path):
    last, best = tmp_path / "last.keras", tmp_path / "best.keras"
    callback = EpochCheckpoints(last, best, best_so_far=1.5)
    _run_epochs(callback, _model(), [2.0])
    assert last.is_file() and not best.exists()
    assert callback.best_so_far == 1.5


def test_an_interrupted_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    last, best = tmp_path / "last.keras", tmp_path / "best.keras"
    model = _model()
    callback = EpochCheckpoints(last, best)
    kernels = _run_epochs(callback, model, [2.0])

    def killed_mid_save(path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "save", killed_mid_save)
    with pytest.raises(KeyboardInterrupt):
        callback.on_epoch_end(1, {"val_bce": 1.0})
    np.testing.assert_array_equal(_saved_kernel(last), kernels[0])
    np.testing.assert_array_equal(_saved_kernel(best), kernels[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "last.keras"]
    assert callback.best_so_far == 2.0 and not math.isinf(callback.best_so_far)
