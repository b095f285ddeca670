import json

import numpy as np
import pytest

from rae.rundir import save_npz_atomic, write_json_atomic, write_text_atomic


def test_atomic_writes_replace_whole_files_and_leave_no_temporaries(tmp_path):
    path = tmp_path / "sub" / "results.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    save_npz_atomic(tmp_path / "artifacts.npz", {"x": np.arange(3)})
    with np.load(tmp_path / "artifacts.npz") as npz:
        np.testing.assert_array_equal(npz["x"], np.arange(3))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["artifacts.npz", "results.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "results.md"
    write_text_atomic(path, "old")
    with pytest.raises(TypeError):
        write_text_atomic(path, None)  # fails mid-write
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]
