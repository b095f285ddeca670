"""benchmarks/train_throughput.py times `rae`'s own trainer and pairs its ratios by round."""

from __future__ import annotations

import numpy as np
import pytest

from rae.data import load_config_splits
from tests.benchmarks.conftest import load_script

throughput = load_script("train_throughput.py")


def test_paired_ratio_is_the_median_of_per_round_speed_ratios():
    # Per round, A is 2.0x, 1.0x and 1.2x as fast as B: the median is 1.2x, whereas the
    # ratio of the median epoch times (2.0 s / 1.0 s) would say 2.0x.
    a_seconds, b_seconds = [1.0, 3.0, 1.0], [2.0, 3.0, 1.2]
    assert throughput.paired_ratio(a_seconds, b_seconds) == pytest.approx(1.2)


def test_summarize_reports_speed_flops_and_fraction_of_the_measured_matmul():
    seconds = {"rae": [2.0, 1.0, 1.0], "before": [2.0, 1.5, 1.25]}
    report = throughput.summarize(seconds, {"rae": 1000, "before": 1000}, peaks=[100.0, 50.0, 50.0],
                                  flops_per_sample=1e9)
    rae = report["trainers"]["rae"]
    assert rae["samples_per_s"] == 1000.0
    assert rae["model_gflops"] == 1000.0
    assert rae["fraction_of_matmul"] == pytest.approx(20.0)  # rounds: 5, 20, 20
    assert report["ratios"] == {"rae_over_before": pytest.approx(1.25)}
    assert report["matmul_gflops"] == 50.0


def test_the_keras_trainer_runs_rae_training_and_times_the_second_epoch_of_each_fit(small_config, tmp_path):
    """Each measured epoch is an epoch of `train`'s own fit with its own callbacks, past fit's set-up."""
    config = small_config.replace(**{"data.train_limit": 400})
    trainer = throughput.keras_trainer("rae", config, load_config_splits(config), tmp_path)
    seconds = [trainer.run_epoch(), trainer.run_epoch()]
    assert all(0 < s < 60 for s in seconds)
    run = tmp_path / "rae"
    history = np.genfromtxt(run / "history.csv", delimiter=",", names=True, ndmin=1)
    assert {"val_bce", "learning_rate"} <= set(history.dtype.names)  # validation and LR logging ran
    assert (run / "checkpoints" / "best.keras").is_file() and (run / "checkpoints" / "last.keras").is_file()
    assert history["epoch"][-1] == 3 and trainer.epoch == 4  # two calls, two epochs each
    assert trainer.model.optimizer.iterations.numpy() == 4 * 2  # 400 images / batch 200


def test_the_before_trainer_checkpoints_as_before_issue_6(small_config, tmp_path):
    config = small_config.replace(**{"data.train_limit": 400})
    trainer = throughput.keras_trainer("before", config, load_config_splits(config), tmp_path)
    kinds = [type(c).__name__ for c in trainer.callbacks]
    assert "EpochCheckpoints" not in kinds and kinds.count("ModelCheckpoint") == 2
    assert kinds.index("CSVLogger") < kinds.index("ModelCheckpoint") < kinds.index("BackupAndRestore")
    trainer.run_epoch()
    assert (tmp_path / "before" / "checkpoints" / "best.keras").is_file()
    assert trainer.model.steps_per_execution == 1


def test_the_fit_loop_trainer_trains_without_validation_or_callbacks(small_config, tmp_path):
    config = small_config.replace(**{"data.train_limit": 400})
    trainer = throughput.keras_trainer("fit-loop", config, load_config_splits(config), tmp_path)
    assert trainer.callbacks == [] and "validation_data" not in trainer.fit_arguments
    trainer.run_epoch()
    assert trainer.model.optimizer.iterations.numpy() == 2 * 2 and not any(tmp_path.iterdir())
