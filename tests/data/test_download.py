"""Locating files: data dir, cache, and downloads from a local HTTP server."""

from __future__ import annotations

import gzip
import socket
import threading
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from rae.data import load_splits, registry
from rae.data.download import locate, verify_file
from rae.errors import ChecksumError, DataError

from .builders import idx_payload, tiny_mnist


class _Mirrors:
    def __init__(self, root, base_url, requests):
        self.root, self.base_url, self.requests = root, base_url, requests


@pytest.fixture
def mirrors(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www, logging the paths asked for."""
    root = tmp_path / "www"
    root.mkdir()
    requests = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield _Mirrors(root, f"http://127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    server.server_close()
    thread.join()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _served(spec, *bases):
    """`spec` with each file's URLs pointing at the given mirror base URLs, in order."""
    return replace(spec, files=tuple(replace(f, urls=tuple(b + f.name for b in bases)) for f in spec.files))


@pytest.fixture
def served_mnist(mirrors, monkeypatch):
    """A tiny 'mnist' on mirror 'good' only; mirror 'dead' answers 404."""
    spec, arrays = tiny_mnist(mirrors.root / "good")
    spec = _served(spec, f"{mirrors.base_url}/dead/", f"{mirrors.base_url}/good/mnist/")
    monkeypatch.setitem(registry.SPECS, "mnist", spec)
    return spec, arrays


def test_first_mirror_404_falls_back_to_the_next_and_caches(mirrors, served_mnist, tmp_path):
    spec, _ = served_mnist
    data_file = spec.file("test-labels")
    path = locate(spec, data_file)
    assert path == tmp_path / "cache" / "rae" / "mnist" / data_file.name
    assert path.read_bytes() == (mirrors.root / "good" / "mnist" / data_file.name).read_bytes()
    assert mirrors.requests == [f"/dead/{data_file.name}", f"/good/mnist/{data_file.name}"]

    assert locate(spec, data_file) == path  # a cache hit asks no mirror
    assert len(mirrors.requests) == 2


def test_load_splits_downloads_what_it_needs(mirrors, served_mnist):
    _, arrays = served_mnist
    splits = load_splits("mnist", seed=0, validation_per_class=2)
    assert (len(splits.train.y), len(splits.validation.y), len(splits.test.y)) == (100, 20, 30)
    np.testing.assert_array_equal(splits.test.y, arrays["test-labels"])
    assert sum(path.startswith("/good/") for path in mirrors.requests) == 4


def test_bad_download_is_a_checksum_error_and_is_not_kept(mirrors, served_mnist, tmp_path):
    spec, _ = served_mnist
    data_file = spec.file("test-labels")
    served = mirrors.root / "good" / "mnist" / data_file.name
    payload = bytearray(gzip.decompress(served.read_bytes()))
    payload[-1] ^= 0x01
    served.write_bytes(gzip.compress(bytes(payload)))
    with pytest.raises(ChecksumError) as exc_info:
        locate(spec, data_file)
    message = str(exc_info.value)
    assert data_file.name in message and "\n" not in message
    assert not (tmp_path / "cache" / "rae" / "mnist" / data_file.name).exists()


def test_a_mirror_with_a_bad_file_is_skipped_for_the_next(mirrors, served_mnist):
    spec, _ = served_mnist
    data_file = spec.file("test-labels")
    bad = mirrors.root / "bad" / data_file.name
    bad.parent.mkdir()
    bad.write_bytes(gzip.compress(idx_payload(np.zeros(30, dtype=np.uint8))))
    spec = _served(spec, f"{mirrors.base_url}/bad/", f"{mirrors.base_url}/good/mnist/")
    path = locate(spec, spec.file("test-labels"))
    verify_file(path, data_file)
    assert mirrors.requests == [f"/bad/{data_file.name}", f"/good/mnist/{data_file.name}"]


def test_all_mirrors_down_is_a_one_line_data_error(mirrors, served_mnist):
    spec, _ = served_mnist
    spec = _served(spec, f"{mirrors.base_url}/dead/", f"{_closed_port_url()}/")
    data_file = spec.file("train-images")
    with pytest.raises(DataError) as exc_info:
        locate(spec, data_file)
    assert not isinstance(exc_info.value, ChecksumError)
    message = str(exc_info.value)
    assert "\n" not in message
    assert message.startswith(f"mnist: could not download {data_file.name} (")
    assert all(url in message for url in data_file.urls)
    assert "--data-dir" in message


def test_without_download_an_empty_cache_is_a_one_line_error(mirrors, served_mnist):
    spec, _ = served_mnist
    with pytest.raises(DataError) as exc_info:
        locate(spec, spec.file("test-images"), download=False)
    message = str(exc_info.value)
    assert "\n" not in message and "t10k-images-idx3-ubyte.gz" in message
    assert "download=True" in message and "--data-dir" in message
    assert mirrors.requests == []


def test_a_data_dir_is_never_completed_from_the_network(mirrors, served_mnist, tmp_path):
    spec, _ = served_mnist
    empty = tmp_path / "empty"
    (empty / "mnist").mkdir(parents=True)
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte.gz"):
        locate(spec, spec.file("test-labels"), data_dir=empty)
    assert mirrors.requests == []
    assert list((empty / "mnist").iterdir()) == []
    assert not (tmp_path / "cache").exists()


def test_data_dir_argument_then_environment_then_cache(served_mnist, tmp_path, monkeypatch):
    spec, _ = served_mnist
    data_file = spec.file("test-labels")
    for name in ("argument", "environment"):
        (tmp_path / name / "mnist").mkdir(parents=True)
        (tmp_path / name / "mnist" / data_file.name).write_bytes(b"")
    monkeypatch.setenv("RAE_DATA_DIR", str(tmp_path / "environment"))
    assert locate(spec, data_file, data_dir=tmp_path / "argument").parent.parent == tmp_path / "argument"
    assert locate(spec, data_file).parent.parent == tmp_path / "environment"
    monkeypatch.delenv("RAE_DATA_DIR")
    assert locate(spec, data_file, download=True).parent == tmp_path / "cache" / "rae" / "mnist"


def test_mat_files_are_checked_on_their_own_bytes(tmp_path):
    data_file = registry.get_spec("caltech101-silhouettes").file("unsplit")
    path = tmp_path / data_file.name
    path.write_bytes(b"not the original")
    with pytest.raises(ChecksumError, match=data_file.name):
        verify_file(path, data_file)
