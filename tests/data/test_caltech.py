"""CalTech 101 Silhouettes: pixel order, polarity, labels and our own split."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace

import numpy as np
import pytest
import scipy.io

from rae.data import get_spec, load_splits
from rae.data import registry
from rae.data.caltech import SPLIT1_SIZES, load_official_split, load_unsplit
from rae.data.registry import Checksum
from rae.data.splits import _split_unsplit_caltech
from rae.errors import ChecksumError

NAME = "caltech101-silhouettes"
UNSPLIT = "caltech101_silhouettes_28.mat"
SPLIT = "caltech101_silhouettes_28_split1.mat"


def _bar_image() -> np.ndarray:
    """A wide bar in the top rows: tells row-major from column-major, object (1) from background."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[2:5, 0:20] = 1
    return image


def _marlin_rows(images: np.ndarray) -> np.ndarray:
    """Encode upright object=1 images as Marlin does: column-major rows, object = 0."""
    return np.stack([(1 - image).flatten(order="F") for image in images])


def _save_mat(path, **arrays) -> Checksum:
    scipy.io.savemat(path, arrays)
    return Checksum("sha256", hashlib.sha256(path.read_bytes()).hexdigest())


def _spec_with(role: str, checksum: Checksum):
    spec = get_spec(NAME)
    return replace(spec, files=tuple(replace(f, checksum=checksum) if f.role == role else f for f in spec.files))


def test_unsplit_rows_become_upright_row_major_with_the_object_1(tmp_path):
    images = np.stack([_bar_image(), _bar_image().T])
    path = tmp_path / UNSPLIT
    checksum = _save_mat(path, X=_marlin_rows(images), Y=np.array([[1, 101]], dtype=np.uint8))
    x, y = load_unsplit(path, _spec_with("unsplit", checksum))
    assert x.dtype == np.float32 and x.shape == (2, 784)
    np.testing.assert_array_equal(x, images.reshape(2, 784))
    np.testing.assert_array_equal(y, [0, 100])
    assert y.dtype == np.int64


def test_official_split_file_is_read_part_by_part(tmp_path):
    path = tmp_path / SPLIT
    image = _bar_image()
    arrays = {}
    for key, n, label in (("train", 3, 1), ("val", 2, 2), ("test", 1, 101)):
        arrays[f"{key}_data"] = _marlin_rows(np.stack([image] * n)).astype(np.float64)
        arrays[f"{key}_labels"] = np.full((n, 1), label, dtype=np.float64)
    checksum = _save_mat(path, **arrays)
    parts = load_official_split(path, _spec_with("split", checksum))
    assert {part: len(y) for part, (_, y) in parts.items()} == {"train": 3, "validation": 2, "test": 1}
    np.testing.assert_array_equal(parts["validation"][1], [1, 1])
    np.testing.assert_array_equal(parts["test"][1], [100])
    np.testing.assert_array_equal(parts["train"][0][0], image.reshape(784))


def test_load_splits_prefers_the_official_split_file(tmp_path, monkeypatch):
    folder = tmp_path / NAME
    folder.mkdir()
    arrays = {}
    for key, n in (("train", 4), ("val", 2), ("test", 3)):
        arrays[f"{key}_data"] = _marlin_rows(np.stack([_bar_image()] * n))
        arrays[f"{key}_labels"] = np.arange(1, n + 1, dtype=np.uint8).reshape(n, 1)
    checksum = _save_mat(folder / SPLIT, **arrays)
    monkeypatch.setitem(registry.SPECS, NAME, _spec_with("split", checksum))
    splits = load_splits(NAME, seed=0, data_dir=tmp_path)
    assert (len(splits.train.y), len(splits.validation.y), len(splits.test.y)) == (4, 2, 3)
    assert not any("not found" in note for note in splits.notes)
    assert any("16x16" in note for note in splits.notes)


def test_own_split_is_stratified_disjoint_and_complete():
    labels = np.repeat(np.arange(101), np.linspace(31, 140, 101).astype(int))
    labels = np.concatenate([labels, np.zeros(sum(SPLIT1_SIZES) - len(labels), dtype=int)])
    parts = _split_unsplit_caltech(labels, seed=3)
    assert tuple(map(len, parts)) == SPLIT1_SIZES
    everything = np.concatenate(parts)
    assert len(np.unique(everything)) == len(labels) == len(everything)
    counts = np.bincount(labels, minlength=101)
    for idx, size in zip(parts, SPLIT1_SIZES):
        assert np.all(np.diff(idx) > 0)
        expected = counts * size / len(labels)
        assert np.abs(np.bincount(labels[idx], minlength=101) - expected).max() <= 2


@pytest.fixture
def caltech_dir(shared_data):
    return shared_data(NAME, UNSPLIT)


def test_real_unsplit_file_holds_101_upright_classes_with_object_1(caltech_dir):
    spec = get_spec(NAME)
    x, y = load_unsplit(caltech_dir / NAME / UNSPLIT, spec)
    assert x.shape == (8671, 784)
    assert set(np.unique(x)) == {0.0, 1.0}
    assert np.array_equal(np.unique(y), np.arange(101))
    mean = x.reshape(-1, 28, 28).mean(axis=0)
    border = np.ones((28, 28), dtype=bool)
    border[2:-2, 2:-2] = False
    assert mean[border].mean() < 0.2  # background is 0
    assert mean[10:18, 10:18].mean() > 0.8  # objects sit in the centre as 1s
    # Airplanes Side (class 0): the plane is wider than tall; a transposed read would flip this.
    airplanes = x[y == 0].reshape(-1, 28, 28).mean(axis=0) > 0.5
    rows, cols = np.nonzero(airplanes)
    assert np.ptp(cols) > np.ptp(rows) + 3


def test_real_load_splits_uses_our_seeded_split_and_says_so(caltech_dir):
    splits = load_splits(NAME, seed=0, data_dir=caltech_dir)
    sizes = (len(splits.train.y), len(splits.validation.y), len(splits.test.y))
    assert sizes == SPLIT1_SIZES
    for part in (splits.train, splits.validation, splits.test):
        assert part.x.dtype == np.float32 and part.x.shape[1] == 784
        assert np.array_equal(np.unique(part.y), np.arange(101))  # every class in every part
    assert any(SPLIT in note and "seed=0" in note for note in splits.notes)
    assert any("16x16" in note for note in splits.notes)

    again = load_splits(NAME, seed=0, data_dir=caltech_dir)
    other = load_splits(NAME, seed=1, data_dir=caltech_dir)
    np.testing.assert_array_equal(again.test.x, splits.test.x)
    np.testing.assert_array_equal(again.train.y, splits.train.y)
    assert not np.array_equal(other.test.x, splits.test.x)


def test_corrupted_mat_copy_fails_its_checksum(tmp_path, caltech_dir):
    folder = tmp_path / NAME
    folder.mkdir()
    copy = folder / UNSPLIT
    shutil.copy(caltech_dir / NAME / UNSPLIT, copy)
    damaged = bytearray(copy.read_bytes())
    damaged[-5000] ^= 0x01
    copy.write_bytes(bytes(damaged))
    with pytest.raises(ChecksumError, match=UNSPLIT):
        load_splits(NAME, seed=0, data_dir=tmp_path)
