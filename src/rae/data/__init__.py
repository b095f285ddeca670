"""The data layer: binarized MNIST and its sister datasets, split as the paper's protocol says.

Typical use::

    from rae.data import load_splits
    splits = load_splits("mnist", seed=0)          # or data_dir="../shared/data"
    splits.train.x, splits.train.y                 # float32 (58000, 784) in {0, 1}, int64
"""

from rae.data.registry import DATASET_NAMES, Checksum, DataFile, DatasetSpec, get_spec
from rae.data.splits import (
    DataSplits,
    Split,
    binarize,
    load_config_splits,
    load_splits,
    load_standard_split,
    stratified_validation_split,
)

__all__ = [
    "DATASET_NAMES",
    "Checksum",
    "DataFile",
    "DataSplits",
    "DatasetSpec",
    "Split",
    "binarize",
    "get_spec",
    "load_config_splits",
    "load_splits",
    "load_standard_split",
    "stratified_validation_split",
]
