"""Tiny data files built by the tests themselves."""

from __future__ import annotations

import gzip
import hashlib
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np

from rae.data import registry
from rae.data.registry import Checksum

from tests.shared_data import SHARED_DATA  # noqa: F401 (re-exported for the data tests)


def idx_payload(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x08 0xNDIM, big-endian dims, data."""
    array = np.asarray(array, dtype=np.uint8)
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_gz(path: Path, payload: bytes, level: int = 9) -> Checksum:
    """Write `payload` gzipped; return the sha256 checksum of the payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload, compresslevel=level))
    return Checksum("sha256", hashlib.sha256(payload).hexdigest())


def tiny_mnist(root: Path, per_class: int = 12, test_per_class: int = 3, seed: int = 0):
    """A 10-class IDX dataset laid out like mnist under `root`, with its spec.

    Returns (spec, arrays) where arrays maps each role to what the file holds.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", per_class), ("test", test_per_class)):
        labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), n))
        arrays[f"{part}-labels"] = labels
        arrays[f"{part}-images"] = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
    spec = registry.get_spec("mnist")
    files = tuple(
        replace(f, checksum=write_gz(root / "mnist" / f.name, idx_payload(arrays[f.role])))
        for f in spec.files
    )
    return replace(spec, files=files), arrays
