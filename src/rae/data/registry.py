"""The datasets `rae` knows, each declared once: files, mirrors, checksums, shape.

IDX files are checked by the hash of their *decompressed* payload, because the
same IDX content circulates in .gz files made by different compressors (the
Debian Fashion-MNIST files differ from upstream's .gz bytes but not in content).
The .mat files are not compressed by us, so their own bytes are hashed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from rae.errors import ChecksumError, DataError


@dataclass(frozen=True)
class Checksum:
    """A known digest; md5 only where no sha256 of the original is published."""

    algorithm: Literal["sha256", "md5"]
    hexdigest: str

    def verify(self, data: bytes, source: str) -> None:
        """Raise ChecksumError naming `source` unless `data` has this digest."""
        actual = hashlib.new(self.algorithm, data).hexdigest()
        if actual != self.hexdigest:
            raise ChecksumError(
                f"{source}: {self.algorithm} {actual} does not match the expected "
                f"{self.hexdigest}; the file is corrupt or not the original, "
                "delete it and fetch it again"
            )


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset, under the name every mirror uses for it."""

    role: str  # e.g. "train-images", "test-labels", "split", "unsplit"
    name: str
    urls: tuple[str, ...]  # official location first, then fallback mirrors
    checksum: Checksum  # of the decompressed payload if `name` ends in .gz

    @property
    def compressed(self) -> bool:
        return self.name.endswith(".gz")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    format: Literal["idx", "caltech-mat"]
    files: tuple[DataFile, ...]
    image_shape: tuple[int, int]
    num_classes: int
    comparable_to_paper: bool
    notes: tuple[str, ...]

    def file(self, role: str) -> DataFile:
        for data_file in self.files:
            if data_file.role == role:
                return data_file
        raise KeyError(f"{self.name} has no file with role {role!r}")


def _mirrored(
    role: str, name: str, bases: tuple[str, ...], sha256: str = "", md5: str = ""
) -> DataFile:
    checksum = Checksum("sha256", sha256) if sha256 else Checksum("md5", md5)
    return DataFile(role, name, tuple(base + name for base in bases), checksum)


_MNIST_BASES = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FMNIST_BASES = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
_KMNIST_BASES = (
    "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
)
_MARLIN_BASES = ("https://people.cs.umass.edu/~marlin/data/",)

_TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
_TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
_TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

_SPECS = (
    DatasetSpec(
        name="mnist",
        format="idx",
        files=(
            _mirrored("train-images", _TRAIN_IMAGES, _MNIST_BASES,
                      sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
            _mirrored("train-labels", _TRAIN_LABELS, _MNIST_BASES,
                      sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
            _mirrored("test-images", _TEST_IMAGES, _MNIST_BASES,
                      sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
            _mirrored("test-labels", _TEST_LABELS, _MNIST_BASES,
                      sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
        ),
        image_shape=(28, 28),
        num_classes=10,
        comparable_to_paper=True,
        notes=(),
    ),
    DatasetSpec(
        name="fashion-mnist",
        format="idx",
        files=(
            _mirrored("train-images", _TRAIN_IMAGES, _FMNIST_BASES,
                      sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            _mirrored("train-labels", _TRAIN_LABELS, _FMNIST_BASES,
                      sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            _mirrored("test-images", _TEST_IMAGES, _FMNIST_BASES,
                      sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            _mirrored("test-labels", _TEST_LABELS, _FMNIST_BASES,
                      sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ),
        image_shape=(28, 28),
        num_classes=10,
        comparable_to_paper=True,
        notes=(),
    ),
    DatasetSpec(
        name="kmnist",
        format="idx",
        files=(
            # Only the md5 of this payload is published; no copy was at hand to hash.
            _mirrored("train-images", _TRAIN_IMAGES, _KMNIST_BASES,
                      md5="92be26ec9822e900ac425d0a0aa84ced"),
            _mirrored("train-labels", _TRAIN_LABELS, _KMNIST_BASES,
                      sha256="2a16eeae62da984b8bd24fa32e31d47291f01dac3fe84d5594f304f71e7d374b"),
            _mirrored("test-images", _TEST_IMAGES, _KMNIST_BASES,
                      sha256="76fbd229ce87db80dd281af5e6670de4ad0e42fb30a7bd643972994c47c1f42e"),
            _mirrored("test-labels", _TEST_LABELS, _KMNIST_BASES,
                      sha256="a11dc742be8e781a40a92f53d6a4957e7b7d36df2faa097659131ebfd8fd60c6"),
        ),
        image_shape=(28, 28),
        num_classes=10,
        comparable_to_paper=True,
        notes=(),
    ),
    DatasetSpec(
        name="caltech101-silhouettes",
        format="caltech-mat",
        files=(
            _mirrored("split", "caltech101_silhouettes_28_split1.mat", _MARLIN_BASES,
                      md5="4483e9c14b188fd09937f9ea6f9ea777"),
            _mirrored("unsplit", "caltech101_silhouettes_28.mat", _MARLIN_BASES,
                      sha256="862d0a4b828256d54ad5de7c5066c18c72f355cac5b7cde4c1c3be7c000d180b"),
        ),
        image_shape=(28, 28),
        num_classes=101,
        comparable_to_paper=False,
        notes=(
            "caltech101-silhouettes: the paper used the 16x16 images; these are 28x28, "
            "so no result on them is directly comparable with the paper's",
        ),
    ),
)

SPECS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
DATASET_NAMES: tuple[str, ...] = tuple(SPECS)


def get_spec(name: str) -> DatasetSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise DataError(
            f"unknown dataset '{name}'; choose one of: {', '.join(SPECS)}"
        ) from None
