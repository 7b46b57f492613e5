"""UCI Character Trajectories (Williams, 2008; UCI Machine Learning Repository, dataset 175; CC BY 4.0).

2858 pen-tip recordings of 20 single-stroke lowercase letters, 200 Hz, three channels per time step
(x velocity, y velocity, pen-tip force). :func:`load_character_trajectories` reads

1. the canonical UCI file ``CharacterTrajectories/mixoutALL_shifted.mat`` when it is present or can be
   downloaded — all 2858 recordings labelled; as no checksum of it is known, its per-class counts are
   verified against :data:`UCI_CLASS_COUNTS`;
2. otherwise the offline mirror ``CharacterTrajectories/character_trajectories.npz`` (SHA-256 verified), in
   which only 1429 recordings carry a label (``-1`` marks the others; labels are never guessed).

The logger ``"ic.data"`` records which source was read and how many labelled recordings it gave.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import DataError, DataUnavailableError, ensure_file, get_spec

log = logging.getLogger("ic.data")

CLASSES: tuple[str, ...] = ("a", "b", "c", "d", "e", "g", "h", "l", "m", "n", "o", "p", "q", "r", "s", "u",
                            "v", "w", "y", "z")
N_CHANNELS = 3
CHANNELS = ("x velocity", "y velocity", "force")
SAMPLING_RATE_HZ = 200

#: Recordings per class in the full UCI file (2858 in total), used to verify ``mixoutALL_shifted.mat``.
UCI_CLASS_COUNTS: dict[str, int] = dict(zip(CLASSES, (171, 141, 142, 157, 186, 138, 127, 174, 125, 130, 141, 131,
                                                      124, 119, 133, 131, 155, 125, 137, 171)))
#: Labelled recordings per class in the offline mirror (1429 in total).
MIRROR_LABELLED_COUNTS: dict[str, int] = dict(zip(CLASSES, (83, 84, 66, 71, 96, 75, 57, 79, 67, 62, 66, 70, 57, 58,
                                                            65, 64, 90, 58, 68, 93)))

MAT_SPEC = get_spec("character_trajectories", "mixoutALL_shifted.mat")
NPZ_SPEC = get_spec("character_trajectories", "character_trajectories.npz")
SOURCES = ("uci-mat", "mirror-npz")


@dataclass(frozen=True)
class TrajectoryDataset:
    """The labelled recordings (``sequences``, ``labels``) plus every recording (``all_sequences``)."""

    sequences: list[np.ndarray]      # labelled recordings only, each float64 (T_i, 3); source order
    labels: np.ndarray               # int64 (n_labelled,), class index 0..19
    classes: tuple[str, ...]         # CLASSES
    source: str                      # "uci-mat" or "mirror-npz"
    path: Path                       # file read
    all_sequences: list[np.ndarray]  # every recording, labelled or not (for label-free statistics)

    @property
    def n_labelled(self) -> int:
        return len(self.sequences)

    @property
    def n_total(self) -> int:
        return len(self.all_sequences)

    @property
    def lengths(self) -> np.ndarray:
        """Number of time steps (zero padding of the source included) of each labelled recording, int64."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    def class_counts(self) -> dict[str, int]:
        """Labelled recordings per class, in class order."""
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts)}

    def padded(self, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Labelled recordings as one float32 array ``(n, L, 3)``, zero-padded at the end, and their lengths.

        ``L`` defaults to the longest recording (205); recordings longer than an explicit ``length`` are
        truncated to it, and their returned length is ``length``.
        """
        lengths = self.lengths
        L = int(lengths.max(initial=0)) if length is None else int(length)
        if L < 1:
            raise ValueError(f"length must be positive, not {L}")
        out = np.zeros((len(self.sequences), L, N_CHANNELS), dtype=np.float32)
        for i, seq in enumerate(self.sequences):
            t = min(len(seq), L)
            out[i, :t] = seq[:t]
        return out, np.minimum(lengths, L).astype(np.int64)


def _as_1d(x) -> np.ndarray:
    return np.asarray(x).reshape(-1)


def _read_mat(path: Path, expected_counts: Mapping[str, int] | None) -> tuple[list[np.ndarray], np.ndarray]:
    """Recordings ``(T, 3)`` and 0-based labels of the UCI ``.mat`` file, verified against ``expected_counts``."""
    import scipy.io

    hint = (f"Delete {path} (it is downloaded again when online) or replace it with the canonical UCI file "
            f"{MAT_SPEC.url}.")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # noqa: BLE001 — any parse failure means a wrong/corrupt file
        raise DataError(f"{path} is not a readable MATLAB file ({type(exc).__name__}: {exc}). {hint}") from exc
    if "mixout" not in mat or "consts" not in mat:
        raise DataError(f"{path} lacks the variables 'mixout' and 'consts' of the UCI file. {hint}")
    consts = mat["consts"]
    try:
        charlabels = _as_1d(consts.charlabels)
    except AttributeError:
        raise DataError(f"{path}: 'consts' has no field 'charlabels'. {hint}") from None
    mixout = mat["mixout"]
    cells = list(mixout) if isinstance(mixout, np.ndarray) and mixout.dtype == object else [mixout]
    if len(cells) != len(charlabels):
        raise DataError(f"{path}: {len(cells)} recordings but {len(charlabels)} labels. {hint}")
    sequences = []
    for i, cell in enumerate(cells):
        arr = np.asarray(cell, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != N_CHANNELS:
            raise DataError(f"{path}: recording {i} has shape {arr.shape}, expected (3, T). {hint}")
        sequences.append(np.ascontiguousarray(arr.T))
    labels = charlabels.astype(np.int64) - 1
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise DataError(f"{path}: labels outside 1..{len(CLASSES)}. {hint}")
    key = getattr(consts, "key", None)
    if key is not None:
        letters = tuple(str(k).strip() for k in _as_1d(key))
        if letters and "".join(letters) not in ("".join(CLASSES), "".join(CLASSES).upper()):
            raise DataError(f"{path}: class letters {letters} differ from the UCI order {CLASSES}. {hint}")
    if expected_counts is not None:
        counts = dict(zip(CLASSES, np.bincount(labels, minlength=len(CLASSES)).tolist()))
        expected = {c: int(expected_counts.get(c, 0)) for c in CLASSES}
        if counts != expected:
            diff = ", ".join(f"{c} {counts[c]} (expected {expected[c]})" for c in CLASSES if counts[c] != expected[c])
            raise DataError(f"{path} does not have the per-class counts of the UCI Character Trajectories file: "
                            f"{diff}. {hint}")
    return sequences, labels


def _read_npz(path: Path) -> tuple[list[np.ndarray], np.ndarray]:
    """All recordings ``(T, 3)`` of the mirror and their labels (``-1`` = no label in this copy)."""
    with np.load(path, allow_pickle=False) as z:
        data, offsets, lengths, labels = z["data"], z["offsets"], z["lengths"], z["labels"]
        classes = tuple(str(c) for c in z["classes"])
    if classes != CLASSES:
        raise DataError(f"{path}: classes {classes} differ from {CLASSES}.")
    if not (len(offsets) == len(lengths) == len(labels)) or data.ndim != 2 or data.shape[1] != N_CHANNELS:
        raise DataError(f"{path}: inconsistent fields (data {data.shape}, {len(offsets)} offsets, "
                        f"{len(lengths)} lengths, {len(labels)} labels).")
    if np.any(offsets < 0) or np.any(offsets + lengths > len(data)):
        raise DataError(f"{path}: recording offsets point outside the data array.")
    sequences = [np.array(data[o:o + n], dtype=np.float64) for o, n in zip(offsets.tolist(), lengths.tolist())]
    return sequences, labels.astype(np.int64)


def load_character_trajectories(root: Path | str | None = None, download: bool = True, *,
                                expected_mat_counts: Mapping[str, int] | None = UCI_CLASS_COUNTS,
                                ) -> TrajectoryDataset:
    """Load UCI Character Trajectories: the canonical ``.mat`` if present or downloadable, else the mirror.

    ``root`` defaults to :func:`ic.paths.data_root`. ``expected_mat_counts`` are the per-class counts the
    ``.mat`` must have (``None`` skips the check; only for synthetic test files).
    """
    try:
        mat_path = ensure_file(MAT_SPEC, root, download)
    except DataUnavailableError as mat_exc:
        log.debug("UCI .mat unavailable, falling back to the mirror: %s", mat_exc)
        try:
            path = ensure_file(NPZ_SPEC, root, download=False)
        except DataUnavailableError as npz_exc:
            raise DataUnavailableError(
                f"Neither Character Trajectories file is available.\n- {mat_exc}\n- {npz_exc}") from npz_exc
        all_sequences, all_labels = _read_npz(path)
        source = "mirror-npz"
    else:
        path = mat_path
        all_sequences, all_labels = _read_mat(path, expected_mat_counts)
        source = "uci-mat"
    keep = np.flatnonzero(all_labels >= 0)
    if np.any(all_labels[keep] >= len(CLASSES)):
        raise DataError(f"{path}: class index above {len(CLASSES) - 1}.")
    ds = TrajectoryDataset(sequences=[all_sequences[i] for i in keep], labels=all_labels[keep].astype(np.int64),
                           classes=CLASSES, source=source, path=path, all_sequences=all_sequences)
    log.info("Character Trajectories: read %s (%s): %d labelled of %d recordings", source, path, ds.n_labelled,
             ds.n_total)
    return ds
