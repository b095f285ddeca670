import json
from pathlib import Path

import numpy as np
import pytest

from rae import experiment
from rae.experiment import reproduce, summarize


def test_reproduce_aggregates_trials_and_resumes_finished_ones(small_config, tmp_path, monkeypatch):
    config = small_config.replace(**{"train.epochs": 1, "seed": 5})
    seen = []
    summary = reproduce(config, tmp_path / "repro", trials=2, quiet=True, on_trial=lambda i, r: seen.append(r))
    assert [r["seed"] for r in seen] == [5, 6]
    assert summary["seeds"] == [5, 6]
    for key, value in summary["metrics"].items():
        values = [r["metrics"][key] for r in seen]
        assert value["values"] == values
        assert value["mean"] == pytest.approx(np.mean(values))
        assert value["sd"] == pytest.approx(np.std(values, ddof=1))
    saved = json.loads((tmp_path / "repro" / "summary.json").read_text())
    assert saved["metrics"] == summary["metrics"] and saved["config"]["seed"] == 5
    table = (tmp_path / "repro" / "summary.md").read_text()
    assert "mean ± sd" in table and "paper GNCN-PDH" in table
    assert (tmp_path / "repro" / "trial-01-seed-6" / "results.json").is_file()

    # A third trial: the two finished ones are read back, not trained again.
    trained = []
    real_train = experiment.train
    monkeypatch.setattr(experiment, "train", lambda *a, **k: trained.append(k) or real_train(*a, **k))
    summary = reproduce(config, tmp_path / "repro", trials=3, quiet=True)
    assert len(trained) == 1 and summary["seeds"] == [5, 6, 7]
    assert summary["metrics"]["bce"]["values"][:2] == [r["metrics"]["bce"] for r in seen]


def test_summary_of_one_trial_has_zero_sd():
    one = {"seed": 0, "metrics": {"bce": 1.0, "log_likelihood": -2.0, "classification_error": 3.0, "masked_mse": 4.0}}
    summary = summarize("mnist", [one])
    assert summary["metrics"]["bce"] == {"mean": 1.0, "sd": 0.0, "values": [1.0]}


def test_train_and_evaluate_on_a_fashion_mnist_subset(small_config, tmp_path):
    if not (Path(small_config.data.data_dir) / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("offline Fashion-MNIST absent")
    config = small_config.replace(**{"data.dataset": "fashion-mnist", "train.epochs": 2})
    results = experiment.train_and_evaluate(config, tmp_path / "fmnist")
    assert results["dataset"] == "fashion-mnist"
    assert all(np.isfinite(v) for v in results["metrics"].values())
    assert "102.723" in (tmp_path / "fmnist" / "results.md").read_text()  # the paper's FMNIST RAE row


def test_kmnist_without_training_images_is_a_one_line_error(small_config, tmp_path, capsys):
    from rae.cli.main import main

    code = main(["train", "--dataset", "kmnist", "--data-dir", small_config.data.data_dir, "--out",
                 str(tmp_path / "k"), "--epochs", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "train-images-idx3-ubyte.gz" in err and "--data-dir" in err


def test_train_and_evaluate_on_caltech_silhouettes_says_it_is_not_comparable(small_config, tmp_path):
    if not (Path(small_config.data.data_dir) / "caltech101-silhouettes" / "caltech101_silhouettes_28.mat").is_file():
        pytest.skip("offline CalTech 101 Silhouettes absent")
    config = small_config.replace(**{"data.dataset": "caltech101-silhouettes", "data.train_limit": None,
                                     "train.epochs": 1})
    results = experiment.train_and_evaluate(config, tmp_path / "caltech")
    assert results["protocol"]["test_images"] == 2307 and results["protocol"]["train_images"] == 4100
    assert any("16x16" in note for note in results["notes"])
    assert any("not the official split1" in note for note in results["notes"])
    assert "Note:" in (tmp_path / "caltech" / "results.md").read_text()
    assert 0 <= results["metrics"]["classification_error"] <= 100
