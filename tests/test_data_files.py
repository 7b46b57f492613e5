"""ic.data.files: registry, verification, corrupt and missing files, downloads (all offline)."""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest

from ic.data import files
from ic.data.files import ChecksumError, DataError, DataUnavailableError, FileSpec, ensure_file, get_spec


pytestmark = pytest.mark.usefixtures("offline")   # no test touches the network (tests/conftest.py)


def test_registry_matches_mirror_sha256sums(mirror_dir):
    sums = dict(reversed(line.split()) for line in (mirror_dir / "SHA256SUMS").read_text().splitlines() if line)
    registered = {s.relpath: s.sha256 for s in files.REGISTRY.values() if s.sha256}
    assert registered == sums
    for spec in files.REGISTRY.values():
        if spec.size is not None:
            assert (mirror_dir / spec.relpath).stat().st_size == spec.size, spec.relpath


def test_urls_are_canonical():
    assert get_spec("mnist", "t10k-labels-idx1-ubyte.gz").url == \
        "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz"
    assert get_spec("fashion_mnist", "train-images-idx3-ubyte.gz").url == \
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"
    assert get_spec("character_trajectories", "mixoutALL_shifted.mat").url.endswith(
        "character-trajectories/mixoutALL_shifted.mat")
    assert get_spec("character_trajectories", "character_trajectories.npz").url is None
    with pytest.raises(KeyError):
        get_spec("mnist", "nope.gz")


def test_ensure_file_present_and_default_root(mirror_dir, monkeypatch):
    spec = get_spec("mnist", "t10k-labels-idx1-ubyte.gz")
    assert ensure_file(spec, mirror_dir) == mirror_dir / spec.relpath
    monkeypatch.setenv("IC_DATA_DIR", str(mirror_dir))
    assert ensure_file(spec) == mirror_dir / spec.relpath


def test_corrupted_file_raises_checksum_error(mirror_dir, tmp_path):
    spec = get_spec("mnist", "t10k-labels-idx1-ubyte.gz")
    bad = tmp_path / spec.relpath
    bad.parent.mkdir(parents=True)
    shutil.copyfile(mirror_dir / spec.relpath, bad)
    ensure_file(spec, tmp_path)  # intact copy passes
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as err:
        ensure_file(spec, tmp_path)
    msg = str(err.value)
    assert str(bad) in msg and spec.sha256 in msg and hashlib.sha256(data).hexdigest() in msg
    assert "delete" in msg
    assert isinstance(err.value, DataError)


def test_missing_file_offline_names_path_url_and_ic_data_dir(tmp_path):
    spec = get_spec("fashion_mnist", "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DataUnavailableError) as err:
        ensure_file(spec, tmp_path)
    msg = str(err.value)
    assert "IC_DATA_DIR" in msg and spec.url in msg and str(tmp_path / spec.relpath) in msg
    assert not (tmp_path / spec.relpath).exists()
    assert not list(tmp_path.rglob("*.tmp"))
    with pytest.raises(DataUnavailableError, match="IC_DATA_DIR"):
        ensure_file(spec, tmp_path, download=False)


def test_local_only_file_missing(tmp_path):
    spec = get_spec("character_trajectories", "character_trajectories.npz")
    with pytest.raises(DataUnavailableError, match="IC_DATA_DIR=../shared/datasets"):
        ensure_file(spec, tmp_path)


class _Response(io.BytesIO):
    def __enter__(self):
        return self


def test_download_verifies_and_renames(tmp_path, monkeypatch):
    payload = b"hello dataset"
    spec = FileSpec("demo", "Demo/raw/x.bin", "https://example.invalid/x.bin", hashlib.sha256(payload).hexdigest(),
                    len(payload))
    monkeypatch.setattr(files, "_open_url", lambda url, timeout=None: _Response(payload))
    path = ensure_file(spec, tmp_path)
    assert path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == ["x.bin"]


def test_download_with_wrong_hash_is_discarded(tmp_path, monkeypatch):
    spec = FileSpec("demo", "Demo/raw/x.bin", "https://example.invalid/x.bin", "0" * 64)
    monkeypatch.setattr(files, "_open_url", lambda url, timeout=None: _Response(b"wrong"))
    with pytest.raises(ChecksumError, match="https://example.invalid/x.bin"):
        ensure_file(spec, tmp_path)
    assert list((tmp_path / "Demo/raw").iterdir()) == []


def test_verification_is_cached(mirror_dir, monkeypatch):
    spec = get_spec("mnist", "t10k-images-idx3-ubyte.gz")
    ensure_file(spec, mirror_dir)
    calls = []
    monkeypatch.setattr(files, "sha256_file", lambda p, *a: calls.append(p) or "x")
    ensure_file(spec, mirror_dir)
    assert calls == []
