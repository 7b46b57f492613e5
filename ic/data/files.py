"""Dataset files: one code path for local and downloaded files.

Every file the study reads is listed in :data:`REGISTRY` as a :class:`FileSpec` — the dataset it belongs to,
its path relative to the dataset root (the canonical layout, e.g. ``MNIST/raw/train-images-idx3-ubyte.gz``),
the URL it is downloaded from when it is missing, and its SHA-256 and size when they are known.

:func:`ensure_file` returns the path of a verified file under the dataset root (``root`` argument, else
:func:`ic.paths.data_root`, i.e. ``$IC_DATA_DIR`` or ``<repo>/data``):

* present → its SHA-256 is checked (once per process for an unchanged file) and a mismatch raises
  :class:`ChecksumError`; a wrong file is never used;
* missing → it is downloaded from its canonical URL to a temporary file next to the target, verified and
  renamed into place atomically; when that is impossible (offline, read-only folder, no URL)
  :class:`DataUnavailableError` says where the file was expected and how to point ``IC_DATA_DIR`` at a folder
  that holds it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import paths

log = logging.getLogger("ic.data")

DOWNLOAD_TIMEOUT_S = 30.0
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
UCI_MAT_URL = ("https://archive.ics.uci.edu/ml/machine-learning-databases/character-trajectories/"
               "mixoutALL_shifted.mat")
MIRROR_HINT = "IC_DATA_DIR=../shared/datasets"


class DataError(RuntimeError):
    """Base class of every data problem (missing, wrong or corrupt file)."""


class ChecksumError(DataError):
    """A file is present but is not the expected one (SHA-256 or size mismatch)."""


class DataUnavailableError(DataError):
    """A file is missing and could not be downloaded."""


@dataclass(frozen=True)
class FileSpec:
    """One dataset file: where it lives in the canonical layout, where it comes from, what it must hash to."""

    dataset: str
    relpath: str
    url: str | None
    sha256: str | None = None
    size: int | None = None

    @property
    def name(self) -> str:
        return Path(self.relpath).name

    def path(self, root: Path | str | None = None) -> Path:
        return Path(root if root is not None else paths.data_root()) / self.relpath


def _idx_specs(dataset: str, folder: str, url: str, sums: dict[str, tuple[str, int]]) -> dict[str, FileSpec]:
    return {f"{dataset}/{name}": FileSpec(dataset, f"{folder}/raw/{name}", url + name, sha, size)
            for name, (sha, size) in sums.items()}


#: Every dataset file of the study, keyed ``"<dataset>/<file name>"``. SHA-256 from the mirror's SHA256SUMS.
REGISTRY: dict[str, FileSpec] = {
    **_idx_specs("mnist", "MNIST", MNIST_URL, {
        "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        "t10k-images-idx3-ubyte.gz": ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        "t10k-labels-idx1-ubyte.gz": ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    }),
    **_idx_specs("fashion_mnist", "FashionMNIST", FASHION_MNIST_URL, {
        "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    }),
    # The canonical UCI file: no checksum is known; the loader verifies its per-class counts instead.
    "character_trajectories/mixoutALL_shifted.mat": FileSpec(
        "character_trajectories", "CharacterTrajectories/mixoutALL_shifted.mat", UCI_MAT_URL),
    # The offline mirror (half the labels): local only, no URL.
    "character_trajectories/character_trajectories.npz": FileSpec(
        "character_trajectories", "CharacterTrajectories/character_trajectories.npz", None,
        "bde3a1cb25268503df456a38edbb3c7dab26e932b6f41a6f4d581035b5c0db1b", 7798159),
}


def get_spec(dataset: str, name: str) -> FileSpec:
    """The registered :class:`FileSpec` of file ``name`` of ``dataset``."""
    try:
        return REGISTRY[f"{dataset}/{name}"]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"No dataset file {dataset}/{name} is registered; known: {known}") from None


# ---------------------------------------------------------------------------------------------------- hashing

_VERIFIED: dict[tuple[str, int, int], str] = {}  # (resolved path, size, mtime_ns) -> SHA-256
_FAILED_URLS: dict[str, str] = {}                 # url -> reason, so an offline process does not retry


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _cached_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def clear_verification_cache() -> None:
    """Forget which files were verified and which downloads failed in this process."""
    _VERIFIED.clear()
    _FAILED_URLS.clear()


def verify_file(spec: FileSpec, path: Path) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has the size and SHA-256 of ``spec`` (when known)."""
    if spec.sha256 is None:
        return
    actual = _cached_sha256(path)
    if actual != spec.sha256:
        size = path.stat().st_size
        wrong_size = spec.size is not None and size != spec.size
        size_note = f" (size {size:,} bytes, expected {spec.size:,})" if wrong_size else ""
        raise ChecksumError(
            f"{path} is not the expected {spec.dataset} file {spec.relpath}{size_note}: "
            f"SHA-256 expected {spec.sha256}, actual {actual}. The file is corrupt or a different version; "
            f"delete it (it is downloaded again when online) or replace it with the canonical file "
            f"(e.g. point {MIRROR_HINT} at the offline mirror).")


# --------------------------------------------------------------------------------------------------- download

def _open_url(url: str, timeout: float = DOWNLOAD_TIMEOUT_S):
    """Open ``url`` for reading (the one network call; tests replace it to simulate being offline)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _unavailable(spec: FileSpec, path: Path, reason: str) -> DataUnavailableError:
    source = f"it could not be downloaded from {spec.url} ({reason})" if spec.url else \
        f"it has no download URL ({reason})"
    return DataUnavailableError(
        f"Dataset file {spec.relpath} is missing: expected it at {path}, and {source}. "
        f"Set IC_DATA_DIR to a folder holding the canonical layout (<IC_DATA_DIR>/{spec.relpath}), "
        f"e.g. {MIRROR_HINT} for the offline mirror.")


def _read_only_dir(path: Path) -> Path | None:
    """The nearest existing ancestor folder of ``path`` if it is marked read-only (no write bit), else None.

    Checked on the mode bits rather than with ``os.access`` so that a read-only mirror is left alone even by
    root, for whom ``os.access`` always grants writing.
    """
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not (folder.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(folder, os.W_OK):
        return folder
    return None


def _download(spec: FileSpec, path: Path) -> None:
    """Download ``spec`` to ``path``: temporary file in the same folder, verify, atomic rename."""
    if spec.url is None:
        raise _unavailable(spec, path, "it is a local mirror file")
    if spec.url in _FAILED_URLS:
        raise _unavailable(spec, path, f"an earlier attempt in this process failed: {_FAILED_URLS[spec.url]}")
    ro = _read_only_dir(path)
    if ro is not None:
        raise _unavailable(spec, path, f"the folder {ro} is read-only")
    tmp_path: Path | None = None
    try:
        try:
            with _open_url(spec.url) as response:  # nothing is written before the server answers
                log.info("Downloading %s to %s", spec.url, path)  # only once the server answered: log what happens
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                tmp_path = Path(tmp)
                with os.fdopen(fd, "wb") as fh:
                    shutil.copyfileobj(response, fh, length=1 << 20)
                    fh.flush()
                    os.fsync(fh.fileno())
        except (OSError, urllib.error.URLError, ValueError) as exc:  # URLError, timeouts, HTTP errors, disk
            _FAILED_URLS[spec.url] = f"{type(exc).__name__}: {exc}"
            raise _unavailable(spec, path, _FAILED_URLS[spec.url]) from exc
        if spec.sha256 is not None:
            actual = sha256_file(tmp_path)
            if actual != spec.sha256:
                raise ChecksumError(
                    f"The download of {spec.url} does not have the expected SHA-256 (expected {spec.sha256}, "
                    f"actual {actual}); it was discarded and {path} was not written. Retry later or "
                    f"point {MIRROR_HINT} at a folder holding the canonical file.")
        os.replace(tmp_path, path)
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def ensure_file(spec: FileSpec, root: Path | str | None = None, download: bool = True) -> Path:
    """Path of the verified file ``spec`` under ``root`` (default: :func:`ic.paths.data_root`).

    Downloads it when missing and ``download`` is true. Raises :class:`ChecksumError` for a wrong file and
    :class:`DataUnavailableError` when the file is missing and cannot be obtained.
    """
    path = spec.path(root)
    if not path.is_file():
        if not download:
            raise _unavailable(spec, path, "downloading is disabled") if spec.url else \
                _unavailable(spec, path, "it is a local mirror file")
        _download(spec, path)
    verify_file(spec, path)
    return path
