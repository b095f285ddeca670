"""IDX files, the format of MNIST and its sisters, read with numpy alone.

The checksum is taken over the decompressed payload, so a file recompressed
with another gzip level or tool is still accepted when its content is right.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from rae.data.registry import Checksum
from rae.errors import DataError

_UNSIGNED_BYTE = 0x08  # the IDX type code of uint8, the only one these datasets use


def gunzip(path: Path) -> bytes:
    """Decompress a .gz file, turning a truncated or damaged stream into a DataError."""
    try:
        compressed = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as exc:
        reason = " ".join(str(exc).split())
        raise DataError(
            f"{path}: not a complete gzip file ({reason}); delete it and fetch it again"
        ) from None


def parse_idx(payload: bytes, source: str) -> np.ndarray:
    """Parse an IDX payload of unsigned bytes; the shape comes from its header."""
    magic_ok = len(payload) >= 4 and payload[:3] == bytes([0, 0, _UNSIGNED_BYTE]) and payload[3] > 0
    if not magic_ok:
        raise DataError(
            f"{source}: not an IDX file of unsigned bytes (magic number 0x{payload[:4].hex()})"
        )
    ndim = payload[3]
    header_size = 4 + 4 * ndim
    if len(payload) < header_size:
        raise DataError(f"{source}: IDX header cut short ({len(payload)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    data_size = len(payload) - header_size
    if data_size != math.prod(shape):
        raise DataError(
            f"{source}: {data_size} bytes of data, but its header declares shape "
            f"{shape} ({math.prod(shape)} bytes)"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx(path: Path, checksum: Checksum) -> np.ndarray:
    """Read a .gz IDX file, verified against the checksum of its decompressed payload."""
    payload = gunzip(path)
    checksum.verify(payload, f"{path} (decompressed payload)")
    return parse_idx(payload, str(path))
