"""Where a dataset's files come from: a local data dir, or a checked download cache.

A data dir (`--data-dir`, else the RAE_DATA_DIR variable) is only ever read:
it is never written to nor completed from the network, so an offline run or a
CI job uses exactly the files someone put there. Without one, each file is
downloaded once, from its official location or else a fallback mirror, checked
against its known checksum and kept in a cache (RAE_CACHE_DIR, else Keras's).
"""

from __future__ import annotations

import os
from pathlib import Path

from rae.data.idx import gunzip
from rae.data.registry import DataFile, DatasetSpec
from rae.errors import ChecksumError, DataError

DATA_DIR_ENV = "RAE_DATA_DIR"
CACHE_DIR_ENV = "RAE_CACHE_DIR"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _data_dir(data_dir: str | os.PathLike | None) -> tuple[Path, str] | None:
    """The data dir in force and what set it, or None for the download cache."""
    if data_dir is not None:
        return Path(data_dir), "--data-dir"
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env), DATA_DIR_ENV
    return None


def cache_root() -> Path:
    """RAE_CACHE_DIR, else Keras's default (computed here so a cache hit needs no keras import)."""
    from_env = os.environ.get(CACHE_DIR_ENV)
    if from_env:
        return Path(from_env)
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"])
    home = Path.home()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def _remedy(spec: DatasetSpec, data_file: DataFile) -> str:
    return f"pass --data-dir pointing at a folder that has {spec.name}/{data_file.name}"


def verify_file(path: Path, data_file: DataFile) -> None:
    """Check a file against its known checksum (of the decompressed payload for .gz)."""
    if data_file.compressed:
        data_file.checksum.verify(gunzip(path), f"{path} (decompressed payload)")
        return
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    data_file.checksum.verify(content, str(path))


def locate(
    spec: DatasetSpec,
    data_file: DataFile,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Path:
    """The path of one file of `spec`: in the data dir, in the cache, or downloaded.

    A file found in a data dir or in the cache is returned unchecked: its reader
    verifies the checksum anyway, and checking twice would double the load time.
    """
    local = _data_dir(data_dir)
    if local is not None:
        root, origin = local
        path = root / spec.name / data_file.name
        if not path.is_file():
            raise DataError(
                f"{spec.name}: missing {data_file.name} in {path.parent} (data dir from {origin}); "
                f"to download it instead, run without --data-dir and with {DATA_DIR_ENV} unset, "
                f"or {_remedy(spec, data_file)}"
            )
        return path

    root = cache_root()
    cached = root / "rae" / spec.name / data_file.name
    if cached.is_file():
        return cached
    if not download:
        raise DataError(
            f"{spec.name}: {data_file.name} is not in the download cache {cached.parent}; "
            f"load with download=True to fetch it, or {_remedy(spec, data_file)}"
        )
    return _download(spec, data_file, root)


def _download(spec: DatasetSpec, data_file: DataFile, root: Path) -> Path:
    """Try each mirror in turn; keep the first file whose checksum is right."""
    # Imported here: importing keras loads its backend, seconds a cache hit should not pay.
    from keras.utils import get_file

    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the download cache {root} ({exc.strerror}); "
            f"set {CACHE_DIR_ENV} to a writable folder"
        ) from None

    failures = []
    bad_checksum = False
    for url in data_file.urls:
        try:
            path = Path(
                get_file(
                    fname=data_file.name,
                    origin=url,
                    cache_dir=str(root),
                    cache_subdir=f"rae/{spec.name}",
                    force_download=True,
                )
            )
        except Exception as exc:  # keras re-raises HTTP and URL errors as a bare Exception
            reason = _one_line(exc)
            failures.append(reason if url in reason else f"{url}: {reason}")
            continue
        try:
            verify_file(path, data_file)
        except DataError as exc:
            path.unlink(missing_ok=True)
            failures.append(f"{url}: {_one_line(exc)}")
            bad_checksum = bad_checksum or isinstance(exc, ChecksumError)
            continue
        return path

    error = ChecksumError if bad_checksum else DataError
    raise error(
        f"{spec.name}: could not download {data_file.name} "
        f"({'; '.join(failures)}); check the network, or {_remedy(spec, data_file)}"
    )
