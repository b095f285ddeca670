"""IDX reading: parsing, gzip damage, and the payload checksum."""

from __future__ import annotations

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from rae.data.idx import parse_idx, read_idx
from rae.data.registry import Checksum, get_spec
from rae.errors import ChecksumError, DataError

from .builders import idx_payload, write_gz

IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


def _one_line_naming(exc_info, name: str) -> None:
    message = str(exc_info.value)
    assert name in message
    assert "\n" not in message


def test_round_trip_keeps_shape_and_values(tmp_path):
    labels = np.array([7, 0, 3], dtype=np.uint8)
    for array in (IMAGES, labels):
        path = tmp_path / f"a{array.ndim}.gz"
        checksum = write_gz(path, idx_payload(array))
        read = read_idx(path, checksum)
        assert read.dtype == np.uint8
        assert read.shape == array.shape
        np.testing.assert_array_equal(read, array)


def test_shape_comes_from_the_big_endian_header():
    # 258 = 0x0102 would be read as 0x0201 = 513 if the header were little-endian
    array = np.zeros((258, 1), dtype=np.uint8)
    assert parse_idx(idx_payload(array), "x").shape == (258, 1)


def test_bad_magic_is_a_data_error_naming_the_file(tmp_path):
    payload = bytearray(idx_payload(IMAGES))
    payload[0] = 0x1F
    path = tmp_path / "bad-magic.gz"
    checksum = write_gz(path, bytes(payload))
    with pytest.raises(DataError, match="magic") as exc_info:
        read_idx(path, checksum)
    _one_line_naming(exc_info, "bad-magic.gz")


def test_a_type_other_than_unsigned_byte_is_refused():
    payload = bytearray(idx_payload(IMAGES))
    payload[2] = 0x0D  # float
    with pytest.raises(DataError, match="unsigned bytes"):
        parse_idx(bytes(payload), "floats")


@pytest.mark.parametrize("change", [b"\x00", -1], ids=["extra byte", "missing byte"])
def test_data_size_must_match_the_header(tmp_path, change):
    payload = idx_payload(IMAGES)
    payload = payload + change if isinstance(change, bytes) else payload[:change]
    path = tmp_path / "sized.gz"
    checksum = write_gz(path, payload)
    with pytest.raises(DataError, match="header declares shape") as exc_info:
        read_idx(path, checksum)
    _one_line_naming(exc_info, "sized.gz")


def test_truncated_gz_is_a_one_line_data_error(tmp_path):
    path = tmp_path / "truncated.gz"
    checksum = write_gz(path, idx_payload(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError) as exc_info:
        read_idx(path, checksum)
    _one_line_naming(exc_info, "truncated.gz")


def test_wrong_checksum_is_a_checksum_error_naming_the_file(tmp_path):
    path = tmp_path / "t.gz"
    write_gz(path, idx_payload(IMAGES))
    with pytest.raises(ChecksumError) as exc_info:
        read_idx(path, Checksum("sha256", "0" * 64))
    _one_line_naming(exc_info, "t.gz")


def test_md5_checksums_are_supported(tmp_path):
    path = tmp_path / "t.gz"
    write_gz(path, idx_payload(IMAGES))
    md5 = hashlib.md5(idx_payload(IMAGES)).hexdigest()
    np.testing.assert_array_equal(read_idx(path, Checksum("md5", md5)), IMAGES)
    with pytest.raises(ChecksumError):
        read_idx(path, Checksum("md5", "0" * 32))


def test_recompressed_copy_still_passes(tmp_path):
    payload = idx_payload(IMAGES)
    checksum = write_gz(tmp_path / "level9.gz", payload, level=9)
    write_gz(tmp_path / "level1.gz", payload, level=1)
    assert (tmp_path / "level1.gz").read_bytes() != (tmp_path / "level9.gz").read_bytes()
    np.testing.assert_array_equal(read_idx(tmp_path / "level1.gz", checksum), IMAGES)


def test_real_file_recompressed_passes_its_registry_checksum(tmp_path, shared_data):
    source = shared_data("mnist", "t10k-labels-idx1-ubyte.gz") / "mnist" / "t10k-labels-idx1-ubyte.gz"
    copy = tmp_path / source.name
    copy.write_bytes(gzip.compress(gzip.decompress(source.read_bytes()), compresslevel=1))
    assert copy.read_bytes() != source.read_bytes()
    labels = read_idx(copy, get_spec("mnist").file("test-labels").checksum)
    assert labels.shape == (10000,)


def test_real_file_with_a_changed_payload_fails_its_checksum(tmp_path, shared_data):
    source = shared_data("mnist", "t10k-labels-idx1-ubyte.gz") / "mnist" / "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(source.read_bytes()))
    payload[100] = (payload[100] + 1) % 10  # one label changed; still a valid IDX file
    copy = tmp_path / source.name
    copy.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(ChecksumError) as exc_info:
        read_idx(copy, get_spec("mnist").file("test-labels").checksum)
    _one_line_naming(exc_info, str(copy))


def test_real_file_with_flipped_compressed_bytes_is_refused(tmp_path, shared_data):
    source = shared_data("mnist", "t10k-labels-idx1-ubyte.gz") / "mnist" / "t10k-labels-idx1-ubyte.gz"
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    damaged = bytearray(copy.read_bytes())
    for offset in (1000, 2000, 3000):
        damaged[offset] ^= 0xFF
    copy.write_bytes(bytes(damaged))
    # gzip's own CRC or the payload checksum catches it, whichever comes first
    with pytest.raises(DataError) as exc_info:
        read_idx(copy, get_spec("mnist").file("test-labels").checksum)
    _one_line_naming(exc_info, str(copy))
