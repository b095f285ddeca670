"""Fixtures shared by the test folders: the offline data, small configs, one trained run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rae.config import Config
from tests.shared_data import SHARED_DATA


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The offline data folder holding MNIST, or a skip when it is absent."""
    if not (SHARED_DATA / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"offline MNIST absent under {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def small_config(mnist_dir) -> Config:
    """Real MNIST, few images and epochs: seconds, yet enough to see learning."""
    return Config().replace(**{
        "data.data_dir": str(mnist_dir),
        "data.train_limit": 2000,
        "data.validation_per_class": 20,
        "train.epochs": 3,
        "train.learning_rate": 0.01,
        "eval.gmm_components": 5,
        "eval.num_samples": 200,
        "eval.iterative_steps": 3,
        "eval.completion_samples": 500,
        "eval.map_steps": 3,
    })


@pytest.fixture(scope="session")
def _trained_run_template(small_config, tmp_path_factory) -> Path:
    from rae.training import train

    return train(small_config, tmp_path_factory.mktemp("template") / "run", quiet=True).run.path


@pytest.fixture
def trained_run(_trained_run_template, tmp_path) -> Path:
    """A private copy of one small trained run (training it once per session)."""
    return Path(shutil.copytree(_trained_run_template, tmp_path / "run"))
