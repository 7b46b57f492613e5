"""Preprocessing as in the thesis (research notes §A.1).

Pen positions are the cumulative sums of the x/y velocity channels (force is dropped); every recording is
padded to 205 steps with its last point (the thesis pads the velocities with zeros before the cumulative sum,
which is the same thing); x and y are standardised separately with one mean and std over all recordings and
all 205 steps, padding included ("global" standardisation, computed before any split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEQ_LEN = 205


def pen_positions(recording: np.ndarray) -> np.ndarray:
    """(T, 3) velocities + force → (T, 2) pen positions (cumulative sums of the two velocity channels)."""
    recording = np.asarray(recording, dtype=np.float64)
    if recording.ndim != 2 or recording.shape[1] < 2:
        raise ValueError(f"expected a (T, >=2) recording, got shape {recording.shape}")
    return np.cumsum(recording[:, :2], axis=0)


def pad_with_last_point(positions: np.ndarray, length: int = SEQ_LEN) -> np.ndarray:
    """Pad a (T, 2) trajectory to ``length`` steps by repeating its last point."""
    t = positions.shape[0]
    if t > length:
        raise ValueError(f"recording of {t} steps is longer than the padded length {length}")
    if t == 0:
        raise ValueError("empty recording")
    pad = np.repeat(positions[-1:], length - t, axis=0)
    return np.concatenate([positions, pad], axis=0)


def trajectories(recordings: list[np.ndarray], length: int = SEQ_LEN) -> np.ndarray:
    """Recordings → (n, length, 2) padded pen positions (not standardised)."""
    return np.stack([pad_with_last_point(pen_positions(r), length) for r in recordings])


@dataclass(frozen=True)
class Standardiser:
    mean: np.ndarray   # (2,)
    std: np.ndarray    # (2,)

    @classmethod
    def fit(cls, positions: np.ndarray) -> Standardiser:
        flat = positions.reshape(-1, positions.shape[-1])
        return cls(flat.mean(axis=0), flat.std(axis=0))

    def transform(self, positions: np.ndarray) -> np.ndarray:
        return (positions - self.mean) / self.std

    def inverse(self, standardised: np.ndarray) -> np.ndarray:
        return standardised * self.std + self.mean


@dataclass(frozen=True)
class PreparedTrajectories:
    """Standardised, padded pen trajectories of the labelled recordings."""

    X: np.ndarray            # (n, 205, 2) float32
    labels: np.ndarray       # (n,) int64
    classes: tuple[str, ...]
    standardiser: Standardiser
    source: str
    n_recordings_for_stats: int

    def first_classes(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``k`` letters (2: a, b; 4: a–d; 20: all), as the thesis's class subsets."""
        if not 1 <= k <= len(self.classes):
            raise ValueError(f"k must be between 1 and {len(self.classes)}, got {k}")
        keep = self.labels < k
        return self.X[keep], self.labels[keep]


def prepare(dataset, length: int = SEQ_LEN) -> PreparedTrajectories:
    """Preprocess a :class:`ic.data.trajectories.TrajectoryDataset` as the thesis did.

    The standardisation statistics use every recording of the file (``all_sequences``; labels are not needed
    for them), which on the UCI file is exactly the thesis's statistic and on the offline mirror gives the same
    numbers although only half of the recordings carry a label.
    """
    stats_source = getattr(dataset, "all_sequences", None) or dataset.sequences
    std = Standardiser.fit(trajectories(stats_source, length))
    X = std.transform(trajectories(dataset.sequences, length)).astype(np.float32)
    return PreparedTrajectories(X=X, labels=np.asarray(dataset.labels, dtype=np.int64), classes=tuple(dataset.classes),
                                standardiser=std, source=dataset.source, n_recordings_for_stats=len(stats_source))
