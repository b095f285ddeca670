"""CalTech 101 Silhouettes, read from Benjamin Marlin's 28x28 .mat files.

Marlin stores each image as one MATLAB (column-major) row, with the object 0
and the background 1. We reorder the pixels row-major and invert them, so that
the object is 1 and the background 0 as in binarized MNIST: every dataset then
reaches the model, and the right-half masking of the completion metric, in the
same layout and with the same meaning of a 1.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import scipy.io

from rae.data.registry import Checksum, DatasetSpec
from rae.errors import DataError

# train / validation / test sizes of caltech101_silhouettes_28_split1.mat
SPLIT1_SIZES = (4100, 2264, 2307)

_SPLIT1_KEYS = {"train": "train", "validation": "val", "test": "test"}


def _read_mat(path: Path, checksum: Checksum) -> dict:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    checksum.verify(content, str(path))
    return scipy.io.loadmat(io.BytesIO(content))


def _images(raw: np.ndarray, image_shape: tuple[int, int], source: str) -> np.ndarray:
    """Marlin's column-major rows -> row-major float32 rows with the object = 1."""
    rows, cols = image_shape
    if raw.ndim != 2 or raw.shape[1] != rows * cols:
        raise DataError(f"{source}: images of shape {raw.shape}, expected (n, {rows * cols})")
    if not np.isin(raw, (0, 1)).all():
        raise DataError(f"{source}: pixels other than 0 and 1; expected binary silhouettes")
    upright = raw.reshape(len(raw), cols, rows).transpose(0, 2, 1)
    return (1 - upright.reshape(len(raw), rows * cols)).astype(np.float32)


def _labels(raw: np.ndarray, num_classes: int, source: str) -> np.ndarray:
    """MATLAB class indices 1..101 -> 0..100."""
    labels = raw.ravel().astype(np.int64) - 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"{source}: class indices outside 1..{num_classes}")
    return labels


def load_unsplit(path: Path, spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """All 8,671 silhouettes and their labels, from caltech101_silhouettes_28.mat."""
    mat = _read_mat(path, spec.file("unsplit").checksum)
    images = _images(mat["X"], spec.image_shape, str(path))
    labels = _labels(mat["Y"], spec.num_classes, str(path))
    if len(images) != len(labels):
        raise DataError(f"{path}: {len(images)} images but {len(labels)} labels")
    return images, labels


def load_official_split(
    path: Path, spec: DatasetSpec
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The train / validation / test parts of caltech101_silhouettes_28_split1.mat.

    Its pixels are taken to follow the unsplit file's convention (column-major,
    object = 0): both come from Marlin's same release.
    """
    mat = _read_mat(path, spec.file("split").checksum)
    parts = {}
    for part, key in _SPLIT1_KEYS.items():
        images = _images(mat[f"{key}_data"], spec.image_shape, f"{path} ({key}_data)")
        labels = _labels(mat[f"{key}_labels"], spec.num_classes, f"{path} ({key}_labels)")
        if len(images) != len(labels):
            raise DataError(f"{path}: {len(images)} {key} images but {len(labels)} labels")
        parts[part] = (images, labels)
    return parts
