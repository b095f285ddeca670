"""The protocol's splits: binarization, the seeded validation split, real datasets."""

from __future__ import annotations

import numpy as np
import pytest

from rae.data import binarize, load_splits, load_standard_split, stratified_validation_split
from rae.errors import ConfigError, DataError

from .builders import SHARED_DATA

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def test_binarize_thresholds_at_half_of_255():
    pixels = np.array([[0, 127, 128, 255]], dtype=np.uint8)
    out = binarize(pixels)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0, 1.0]])


def _check_validation_split(labels, per_class, seed):
    train_idx, val_idx = stratified_validation_split(labels, per_class, seed)
    n_classes = len(np.unique(labels))
    assert len(val_idx) == per_class * n_classes
    assert len(train_idx) == len(labels) - len(val_idx)
    assert np.array_equal(np.bincount(labels[val_idx]), np.full(n_classes, per_class))
    assert np.intersect1d(train_idx, val_idx).size == 0
    assert np.array_equal(np.union1d(train_idx, val_idx), np.arange(len(labels)))
    assert np.all(np.diff(train_idx) > 0) and np.all(np.diff(val_idx) > 0)
    return train_idx, val_idx


def test_validation_split_is_stratified_seeded_and_without_replacement():
    labels = np.random.default_rng(5).integers(0, 10, 3000)
    _, val = _check_validation_split(labels, 20, seed=0)
    _, same = stratified_validation_split(labels, 20, seed=0)
    _, other = stratified_validation_split(labels, 20, seed=1)
    np.testing.assert_array_equal(val, same)
    assert not np.array_equal(val, other)


def test_validation_split_refuses_classes_too_small():
    labels = np.array([0] * 10 + [1] * 3)
    with pytest.raises(ConfigError, match="class 1 has only 3"):
        stratified_validation_split(labels, 5, seed=0)


def test_images_are_flattened_row_major(fake_mnist):
    root, _, arrays = fake_mnist
    test = load_standard_split("mnist", "test", data_dir=root)
    expected = binarize(arrays["test-images"]).reshape(-1, 784)
    np.testing.assert_array_equal(test.x, expected)
    np.testing.assert_array_equal(test.y, arrays["test-labels"])
    assert test.y.dtype == np.int64


def test_only_the_needed_files_are_read(fake_mnist):
    root, spec, _ = fake_mnist
    for data_file in spec.files:
        if data_file.role.startswith("train"):
            (root / "mnist" / data_file.name).unlink()
    assert len(load_standard_split("mnist", "test", data_dir=root).y) == 30
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        load_splits("mnist", seed=0, data_dir=root, validation_per_class=2)


def test_data_dir_is_only_read(fake_mnist, tmp_path):
    root, _, _ = fake_mnist
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (root / "mnist").iterdir())
    load_splits("mnist", seed=0, data_dir=root, validation_per_class=2)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (root / "mnist").iterdir()) == before
    assert not (tmp_path / "cache").exists()


def test_train_limit_shrinks_only_the_training_split(fake_mnist):
    root, _, _ = fake_mnist
    full = load_splits("mnist", seed=4, data_dir=root, validation_per_class=2)
    small = load_splits("mnist", seed=4, data_dir=root, validation_per_class=2, train_limit=30)
    assert len(full.train.y) == 100 and len(small.train.y) == 30
    assert np.array_equal(np.bincount(small.train.y), np.full(10, 3))
    np.testing.assert_array_equal(small.validation.x, full.validation.x)
    np.testing.assert_array_equal(small.test.x, full.test.x)
    # every kept row is one of the full training rows
    full_rows = {row.tobytes() for row in full.train.x}
    assert all(row.tobytes() in full_rows for row in small.train.x)
    assert any("train_limit=30" in note for note in small.notes)
    assert not any("train_limit" in note for note in full.notes)


def test_nonsense_sizes_are_config_errors(fake_mnist):
    root, _, _ = fake_mnist
    with pytest.raises(ConfigError):
        load_splits("mnist", seed=0, data_dir=root, validation_per_class=0)
    with pytest.raises(ConfigError):
        load_splits("mnist", seed=0, data_dir=root, validation_per_class=2, train_limit=0)
    with pytest.raises(ConfigError, match="has only 12"):
        load_splits("mnist", seed=0, data_dir=root, validation_per_class=13)


def test_data_dir_can_come_from_the_environment(fake_mnist, monkeypatch, tmp_path):
    root, _, _ = fake_mnist
    monkeypatch.setenv("RAE_DATA_DIR", str(root))
    assert len(load_standard_split("mnist", "test").y) == 30
    with pytest.raises(DataError, match="RAE_DATA_DIR"):
        load_standard_split("mnist", "test", data_dir=tmp_path / "elsewhere")


@pytest.fixture(scope="module")
def mnist():
    if not all((SHARED_DATA / "mnist" / name).is_file() for name in MNIST_FILES):
        pytest.skip(f"offline MNIST absent from {SHARED_DATA}")
    return load_splits("mnist", seed=0, data_dir=SHARED_DATA)


def test_real_mnist_splits_follow_the_protocol(mnist):
    assert (len(mnist.train.y), len(mnist.validation.y), len(mnist.test.y)) == (58000, 2000, 10000)
    for part in (mnist.train, mnist.validation, mnist.test):
        assert part.x.dtype == np.float32 and part.x.shape == (len(part.y), 784)
        assert part.y.dtype == np.int64
        assert set(np.unique(part.x)) == {0.0, 1.0}
        assert np.array_equal(np.unique(part.y), np.arange(10))
    assert np.array_equal(np.bincount(mnist.validation.y), np.full(10, 200))
    assert mnist.notes == ()
    # digits are 1s on a 0 background
    assert mnist.test.x.mean() < 0.2


def test_real_mnist_validation_is_the_seeded_draw_from_the_training_set(mnist):
    full_train = load_standard_split("mnist", "train", data_dir=SHARED_DATA)
    assert len(full_train.y) == 60000
    train_idx, val_idx = _check_validation_split(full_train.y, 200, seed=0)
    np.testing.assert_array_equal(mnist.validation.x, full_train.x[val_idx])
    np.testing.assert_array_equal(mnist.train.y, full_train.y[train_idx])
    _, other = stratified_validation_split(full_train.y, 200, seed=1)
    assert np.intersect1d(val_idx, other).size < 200


def test_real_fashion_mnist_has_6000_training_images_per_class(shared_data):
    root = shared_data("fashion-mnist", *MNIST_FILES)
    splits = load_splits("fashion-mnist", seed=0, data_dir=root)
    counts = np.bincount(splits.train.y) + np.bincount(splits.validation.y)
    assert np.array_equal(counts, np.full(10, 6000))
    assert np.array_equal(np.bincount(splits.test.y), np.full(10, 1000))
    assert set(np.unique(splits.train.x)) == {0.0, 1.0}


def test_real_kmnist_test_split_loads(shared_data):
    root = shared_data("kmnist", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    test = load_standard_split("kmnist", "test", data_dir=root)
    assert test.x.shape == (10000, 784)
    assert np.array_equal(np.bincount(test.y), np.full(10, 1000))
    assert set(np.unique(test.x)) == {0.0, 1.0}


@pytest.mark.parametrize("via", ["argument", "environment"])
def test_real_kmnist_training_split_reports_the_missing_file_in_one_line(shared_data, monkeypatch, via):
    root = shared_data("kmnist", "t10k-images-idx3-ubyte.gz")
    if (root / "kmnist" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("the KMNIST training images are present")
    if via == "environment":
        monkeypatch.setenv("RAE_DATA_DIR", str(root))
    with pytest.raises(DataError) as exc_info:
        load_splits("kmnist", seed=0, data_dir=root if via == "argument" else None)
    message = str(exc_info.value)
    assert "\n" not in message
    assert message.startswith("kmnist: missing train-images-idx3-ubyte.gz in ")
    assert "to download it instead, run without --data-dir and with RAE_DATA_DIR unset" in message
    assert "--data-dir pointing at a folder that has kmnist/train-images-idx3-ubyte.gz" in message
    assert ("RAE_DATA_DIR)" in message) == (via == "environment")


def test_standard_splits_exist_only_for_idx_datasets(fake_mnist):
    root, _, _ = fake_mnist
    with pytest.raises(ConfigError, match="load_splits"):
        load_standard_split("caltech101-silhouettes", "test", data_dir=root)
    with pytest.raises(ConfigError, match="choose train or test"):
        load_standard_split("mnist", "validation", data_dir=root)
