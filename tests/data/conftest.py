"""Fixtures of the data-layer tests: isolation from the network and the user's files."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rae.data import registry
from .builders import SHARED_DATA, tiny_mnist

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No test sees the user's data dir or cache, nor reaches past localhost."""
    monkeypatch.delenv("RAE_DATA_DIR", raising=False)
    monkeypatch.setenv("RAE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", ",".join(sorted(_LOCAL_HOSTS)))
    monkeypatch.setenv("NO_PROXY", ",".join(sorted(_LOCAL_HOSTS)))
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in _LOCAL_HOSTS:
            raise OSError(f"tests may not reach the network ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture
def shared_data():
    """`require(dataset, *files)` -> the offline data dir, or skip when those files are absent."""

    def require(dataset: str, *files: str) -> Path:
        for name in files:
            if not (SHARED_DATA / dataset / name).is_file():
                pytest.skip(f"offline copy absent: {SHARED_DATA / dataset / name}")
        return SHARED_DATA

    return require


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny dataset registered as 'mnist', in the data dir tmp_path/data."""
    root = tmp_path / "data"
    spec, arrays = tiny_mnist(root)
    monkeypatch.setitem(registry.SPECS, "mnist", spec)
    return root, spec, arrays
