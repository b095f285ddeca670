"""The run directory: one place that names every artefact of a run.

Layout (also documented in the README):
    config.json          resolved Config
    environment.json     library versions, backend, platform
    history.csv          per-epoch training log
    checkpoints/         best.keras (lowest validation BCE), last.keras
    backup/              resume state while training is unfinished
    train_summary.json   written once training has finished
    results.json/.md     written by `rae evaluate`
    artifacts.npz        arrays the figures show, written by `rae evaluate`
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import numpy as np

from rae.config import Config
from rae.errors import RunDirError


@contextmanager
def _atomic_file(path: Path, mode: str) -> Iterator[IO]:
    """A handle on a temporary file beside `path` that replaces `path` only once fully
    written, so readers never see half a file and a crash leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    with _atomic_file(path, "w") as handle:
        handle.write(text)


def save_npz_atomic(path: Path, arrays: dict[str, Any]) -> None:
    with _atomic_file(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def save_model_atomic(model: Any, path: Path) -> None:
    """`model.save(path)` through a temporary `.keras` file beside `path` (Keras wants the
    suffix), so that a kill mid-save leaves the previous checkpoint intact. No fsync: this
    guards against interrupted processes, not power loss, and runs every epoch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(source: Path, path: Path) -> None:
    with _atomic_file(path, "wb") as handle, open(source, "rb") as original:
        shutil.copyfileobj(original, handle)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"missing {path}") from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path} is not valid JSON ({exc})") from None


def library_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("rae", "keras", "tensorflow-cpu", "tensorflow", "jax", "jaxlib", "numpy", "scipy",
                 "scikit-learn", "matplotlib"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    import keras  # deferred: the backend is only known once keras is imported

    versions["keras_backend"] = keras.backend.backend()
    return versions


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def environment(self) -> Path:
        return self.path / "environment.json"

    @property
    def history(self) -> Path:
        return self.path / "history.csv"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.keras"

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.keras"

    @property
    def backup(self) -> Path:
        return self.path / "backup"

    @property
    def train_summary(self) -> Path:
        return self.path / "train_summary.json"

    @property
    def results_json(self) -> Path:
        return self.path / "results.json"

    @property
    def results_md(self) -> Path:
        return self.path / "results.md"

    @property
    def artifacts(self) -> Path:
        return self.path / "artifacts.npz"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def tensorboard(self) -> Path:
        return self.path / "tensorboard"

    @property
    def is_trained(self) -> bool:
        return self.train_summary.exists()

    def load_config(self) -> Config:
        if not self.config.exists():
            raise RunDirError(f"{self.path} is not a rae run directory (no config.json)")
        return Config.from_dict(read_json(self.config))

    def require_checkpoint(self) -> Path:
        if not self.best_checkpoint.exists():
            raise RunDirError(
                f"no trained model in {self.path} (missing {self.best_checkpoint.relative_to(self.path)}); "
                f"train it first with `rae train --out {self.path}`"
            )
        return self.best_checkpoint


def trial_dir(out: Path, trial: int, seed: int) -> Path:
    """The run directory of one trial of `rae reproduce`."""
    return Path(out) / f"trial-{trial:02d}-seed-{seed}"


def create_run_dir(path: str | Path, config: Config, *, overwrite: bool = False) -> RunDir:
    """A fresh run directory holding the resolved config and the environment."""
    run = RunDir(Path(path))
    if run.path.exists() and any(run.path.iterdir()):
        if not overwrite:
            raise RunDirError(f"run directory {run.path} already exists; pass --resume to continue it "
                              "or --overwrite to replace it")
        shutil.rmtree(run.path)
    run.path.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run.config, config.to_dict())
    write_json_atomic(run.environment, library_versions())
    return run


def open_run_dir(path: str | Path) -> RunDir:
    run = RunDir(Path(path))
    if not run.path.is_dir():
        raise RunDirError(f"run directory {run.path} does not exist")
    run.load_config()
    return run
