"""The protocol's train / validation / test splits, as binarized 784-pixel rows.

Validation is carved out of the training set (200 images per class for the
28x28 IDX datasets), so the hyperparameters the paper leaves open are tuned
without looking at the standard test split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from rae.config import Config
from rae.data import caltech
from rae.data.download import locate
from rae.data.idx import read_idx
from rae.data.registry import DatasetSpec, get_spec
from rae.errors import ChecksumError, ConfigError, DataError

PAPER_VALIDATION_PER_CLASS = 200
# train_limit draws from a stream of its own: both it and the validation draw start from
# `seed`, and sharing one stream would tie which images each of them picks.
_TRAIN_LIMIT_STREAM = 1


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # float32, shape (n, 784), values exactly 0.0/1.0, row-major flattening
    y: np.ndarray  # int64, shape (n,)


@dataclass(frozen=True)
class DataSplits:
    train: Split
    validation: Split
    test: Split
    spec: DatasetSpec
    notes: tuple[str, ...]  # why results may not be comparable with the paper's; empty if they are


def binarize(pixels_uint8: np.ndarray) -> np.ndarray:
    """The paper's binarization: pixel / 255 >= 0.5 -> 1.0, else 0.0 (float32)."""
    return (np.asarray(pixels_uint8) / np.float32(255) >= 0.5).astype(np.float32)


def _grouped_by_class(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices sorted by class, in random order within each class."""
    order = rng.permutation(len(labels))
    return order[np.argsort(labels[order], kind="stable")]


def stratified_validation_split(
    labels: np.ndarray, per_class: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx): `per_class` validation images per class, drawn without replacement."""
    labels = np.asarray(labels)
    by_class = _grouped_by_class(labels, np.random.default_rng(seed))
    classes, starts, counts = np.unique(labels[by_class], return_index=True, return_counts=True)
    if (counts < per_class).any():
        short = int(np.argmin(counts))
        raise ConfigError(
            f"validation_per_class={per_class}, but class {classes[short]} has only "
            f"{counts[short]} training images"
        )
    rank_in_class = np.arange(len(labels)) - np.repeat(starts, counts)
    in_validation = rank_in_class < per_class
    return np.sort(by_class[~in_validation]), np.sort(by_class[in_validation])


def _stratified_sample(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` sorted indices; each class gets its proportional share to within one image.

    Systematic sampling over the class-grouped order: evenly spaced positions
    with a random offset hit every class block in proportion to its length.
    """
    by_class = _grouped_by_class(labels, rng)
    positions = ((np.arange(size) + rng.random()) * (len(labels) / size)).astype(np.int64)
    return np.sort(by_class[positions])


def _split_unsplit_caltech(
    labels: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded stratified train / validation / test split at split1's sizes."""
    _, n_validation, n_test = caltech.SPLIT1_SIZES
    rng = np.random.default_rng(seed)
    test_idx = _stratified_sample(labels, n_test, rng)
    rest = np.setdiff1d(np.arange(len(labels)), test_idx)
    validation_idx = rest[_stratified_sample(labels[rest], n_validation, rng)]
    return np.setdiff1d(rest, validation_idx), validation_idx, test_idx


def _locate_idx(
    spec: DatasetSpec, parts: tuple[str, ...], data_dir: str | os.PathLike | None, download: bool
) -> dict[str, Path]:
    """Locate every file first, so a missing one is reported before any slow reading."""
    roles = [f"{part}-{kind}" for part in parts for kind in ("images", "labels")]
    return {
        role: locate(spec, spec.file(role), data_dir=data_dir, download=download) for role in roles
    }


def _read_idx_part(
    spec: DatasetSpec, paths: dict[str, Path], part: str
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images flattened row-major to (n, 784), int64 labels) of one standard part."""
    images = read_idx(paths[f"{part}-images"], spec.file(f"{part}-images").checksum)
    labels = read_idx(paths[f"{part}-labels"], spec.file(f"{part}-labels").checksum)
    if images.shape[1:] != spec.image_shape or labels.shape != images.shape[:1]:
        raise DataError(
            f"{spec.name}: {part} images of shape {images.shape} and labels of shape "
            f"{labels.shape}; expected (n, {spec.image_shape[0]}, {spec.image_shape[1]}) and (n,)"
        )
    return images.reshape(len(images), -1), labels.astype(np.int64)


def load_standard_split(
    name: str,
    split: Literal["train", "test"],
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Split:
    """One standard split of an IDX dataset, reading only its two files.

    For evaluating on the test split where the training images are absent
    (KMNIST offline), and for checking what load_splits carves out.
    """
    spec = get_spec(name)
    if spec.format != "idx":
        raise ConfigError(f"{name} has no standard train/test files; use load_splits")
    if split not in ("train", "test"):
        raise ConfigError(f"unknown split '{split}'; choose train or test")
    images, labels = _read_idx_part(spec, _locate_idx(spec, (split,), data_dir, download), split)
    return Split(binarize(images), labels)


def _idx_splits(
    spec: DatasetSpec,
    seed: int,
    data_dir: str | os.PathLike | None,
    download: bool,
    validation_per_class: int,
    train_limit: int | None,
) -> tuple[tuple[Split, Split, Split], tuple[str, ...]]:
    paths = _locate_idx(spec, ("train", "test"), data_dir, download)
    train_images, train_labels = _read_idx_part(spec, paths, "train")
    test_images, test_labels = _read_idx_part(spec, paths, "test")
    train_idx, validation_idx = stratified_validation_split(
        train_labels, validation_per_class, seed
    )
    train_idx, notes = _limit(train_idx, train_labels, train_limit, seed)
    if validation_per_class != PAPER_VALIDATION_PER_CLASS:
        notes += (
            f"validation_per_class={validation_per_class}: the paper holds out "
            f"{PAPER_VALIDATION_PER_CLASS} per class",
        )
    splits = tuple(
        Split(binarize(images[idx]), labels[idx])
        for images, labels, idx in (
            (train_images, train_labels, train_idx),
            (train_images, train_labels, validation_idx),
            (test_images, test_labels, slice(None)),
        )
    )
    return splits, notes


def _caltech_splits(
    spec: DatasetSpec,
    seed: int,
    data_dir: str | os.PathLike | None,
    download: bool,
    train_limit: int | None,
) -> tuple[tuple[Split, Split, Split], tuple[str, ...]]:
    try:
        split_path = locate(spec, spec.file("split"), data_dir=data_dir, download=download)
    except ChecksumError:
        raise
    except DataError:
        split_path = None

    if split_path is not None:
        parts = caltech.load_official_split(split_path, spec)
        (train_x, train_y), validation, test = parts["train"], parts["validation"], parts["test"]
        train_idx, notes = _limit(np.arange(len(train_y)), train_y, train_limit, seed)
        train = Split(train_x[train_idx], train_y[train_idx])
        return (train, Split(*validation), Split(*test)), notes

    unsplit_path = locate(spec, spec.file("unsplit"), data_dir=data_dir, download=download)
    x, y = caltech.load_unsplit(unsplit_path, spec)
    train_idx, validation_idx, test_idx = _split_unsplit_caltech(y, seed)
    train_idx, notes = _limit(train_idx, y, train_limit, seed)
    notes = (
        f"{spec.file('split').name} not found: used a seeded (seed={seed}) stratified split "
        f"{'/'.join(map(str, caltech.SPLIT1_SIZES))} of {spec.file('unsplit').name}, "
        "not the official split1 that other papers use",
    ) + notes
    return tuple(Split(x[idx], y[idx]) for idx in (train_idx, validation_idx, test_idx)), notes


def _limit(
    train_idx: np.ndarray, labels: np.ndarray, train_limit: int | None, seed: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Keep a seeded class-stratified subset of the training indices (smoke tests)."""
    if train_limit is None or train_limit >= len(train_idx):
        return train_idx, ()
    rng = np.random.default_rng([seed, _TRAIN_LIMIT_STREAM])
    kept = train_idx[_stratified_sample(labels[train_idx], train_limit, rng)]
    note = (
        f"train_limit={train_limit}: the training split is a class-stratified subset "
        f"of {train_limit} images, not the full one"
    )
    return kept, (note,)


def load_splits(
    name: str,
    *,
    seed: int,
    data_dir: str | os.PathLike | None = None,
    validation_per_class: int = PAPER_VALIDATION_PER_CLASS,
    download: bool = True,
    train_limit: int | None = None,
) -> DataSplits:
    """The protocol's train / validation / test splits of one dataset.

    For the 28x28 IDX datasets, validation is `validation_per_class` images of
    each class drawn from the standard training set (seeded); the test split is
    the standard one. CalTech 101 Silhouettes comes with its own split
    (4100/2264/2307), so `validation_per_class` does not apply to it; without
    the official split file a seeded stratified split of the same sizes is made.
    `train_limit` shrinks only the training split, keeping its class proportions.
    """
    spec = get_spec(name)
    if validation_per_class < 1:
        raise ConfigError(f"validation_per_class must be at least 1, got {validation_per_class}")
    if train_limit is not None and train_limit < 1:
        raise ConfigError(f"train_limit must be at least 1, got {train_limit}")
    if spec.format == "idx":
        (train, validation, test), notes = _idx_splits(
            spec, seed, data_dir, download, validation_per_class, train_limit
        )
    else:
        (train, validation, test), notes = _caltech_splits(
            spec, seed, data_dir, download, train_limit
        )
    return DataSplits(train, validation, test, spec, spec.notes + notes)


def load_config_splits(config: Config) -> DataSplits:
    """The splits a run's config asks for (its dataset, data dir, validation size and seed)."""
    return load_splits(
        config.data.dataset,
        seed=config.seed,
        data_dir=config.data.data_dir,
        validation_per_class=config.data.validation_per_class,
        train_limit=config.data.train_limit,
    )
