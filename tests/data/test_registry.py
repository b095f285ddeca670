"""The dataset registry: names, files, mirrors and checksums."""

from __future__ import annotations

import pytest

from rae.data import DATASET_NAMES, get_spec
from rae.data.download import verify_file
from rae.data.registry import Checksum
from rae.errors import ChecksumError, DataError

IDX_ROLES = {"train-images", "train-labels", "test-images", "test-labels"}
OFFICIAL_BASES = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "kmnist": "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
    "caltech101-silhouettes": "https://people.cs.umass.edu/~marlin/data/",
}


def test_names_are_the_shared_data_folders():
    assert DATASET_NAMES == ("mnist", "fashion-mnist", "kmnist", "caltech101-silhouettes")
    assert all(get_spec(name).name == name for name in DATASET_NAMES)


def test_unknown_name_lists_the_choices():
    with pytest.raises(DataError) as exc_info:
        get_spec("emnist")
    assert str(exc_info.value) == (
        "unknown dataset 'emnist'; choose one of: mnist, fashion-mnist, kmnist, caltech101-silhouettes"
    )


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_official_location_comes_first_and_every_url_names_its_file(name):
    spec = get_spec(name)
    for data_file in spec.files:
        assert data_file.urls[0] == OFFICIAL_BASES[name] + data_file.name
        assert all(url.endswith("/" + data_file.name) for url in data_file.urls)
        assert len(set(data_file.urls)) == len(data_file.urls)


def test_mnist_falls_back_to_the_cvdf_mirror():
    for data_file in get_spec("mnist").files:
        assert data_file.urls[1] == "https://storage.googleapis.com/cvdf-datasets/mnist/" + data_file.name


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "kmnist"])
def test_idx_datasets_are_28x28_with_ten_classes_and_comparable(name):
    spec = get_spec(name)
    assert spec.format == "idx"
    assert {f.role for f in spec.files} == IDX_ROLES
    assert all(f.compressed for f in spec.files)
    assert (spec.image_shape, spec.num_classes) == ((28, 28), 10)
    assert spec.comparable_to_paper and spec.notes == ()


def test_caltech_is_flagged_not_comparable_because_of_the_16x16_images():
    spec = get_spec("caltech101-silhouettes")
    assert spec.format == "caltech-mat"
    assert (spec.image_shape, spec.num_classes) == ((28, 28), 101)
    assert not spec.comparable_to_paper
    assert any("16x16" in note for note in spec.notes)
    assert spec.file("split").checksum == Checksum("md5", "4483e9c14b188fd09937f9ea6f9ea777")
    assert spec.file("split").name == "caltech101_silhouettes_28_split1.mat"
    assert spec.file("unsplit").name == "caltech101_silhouettes_28.mat"


def test_sha256_everywhere_except_where_only_an_md5_is_published():
    md5_only = {("kmnist", "train-images"), ("caltech101-silhouettes", "split")}
    for name in DATASET_NAMES:
        for data_file in get_spec(name).files:
            checksum = data_file.checksum
            expected = "md5" if (name, data_file.role) in md5_only else "sha256"
            assert checksum.algorithm == expected
            assert len(checksum.hexdigest) == {"md5": 32, "sha256": 64}[expected]
            int(checksum.hexdigest, 16)
    assert get_spec("kmnist").file("train-images").checksum.hexdigest == "92be26ec9822e900ac425d0a0aa84ced"


@pytest.mark.parametrize(
    ("name", "role"),
    [(name, f.role) for name in DATASET_NAMES for f in get_spec(name).files],
)
def test_registry_checksums_match_the_offline_copies(name, role, shared_data):
    data_file = get_spec(name).file(role)
    root = shared_data(name, data_file.name)
    verify_file(root / name / data_file.name, data_file)


def test_checksum_verify_names_the_source():
    with pytest.raises(ChecksumError, match="somewhere/file.gz"):
        Checksum("sha256", "0" * 64).verify(b"data", "somewhere/file.gz")
    Checksum("md5", "8d777f385d3dfec8815d20f7496026dc").verify(b"data", "x")
