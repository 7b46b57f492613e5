"""Sparse training sets of the thesis: k-means centres of each class's trajectories (research notes §A.3).

``sparse4`` = 4 k-means centres per class, ``sparse1`` = one centre, i.e. the class mean. The centres are
averages of trajectories, not real samples. Unlike the original (which very probably clustered all samples of a
class, test samples included), we cluster the **training split only**.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def class_centres(X: np.ndarray, labels: np.ndarray, n_centres: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per class, ``n_centres`` k-means centres of the flattened (T·2) trajectories.

    Returns (centres (k·n_centres, T, 2) float32, labels (k·n_centres,)), classes in ascending order.
    sklearn ``KMeans`` with k-means++ and ``n_init=10`` (the thesis used sklearn's defaults), seeded.
    """
    out_x, out_y = [], []
    for c in np.unique(labels):
        members = X[labels == c]
        if len(members) < n_centres:
            raise ValueError(f"class {c} has {len(members)} training samples, fewer than {n_centres} centres")
        flat = members.reshape(len(members), -1).astype(np.float64)
        if n_centres == 1:
            centres = flat.mean(axis=0, keepdims=True)
        else:
            km = KMeans(n_clusters=n_centres, n_init=10, random_state=seed).fit(flat)
            centres = km.cluster_centers_[np.argsort(-np.bincount(km.labels_, minlength=n_centres), kind="stable")]
        out_x.append(centres.reshape(n_centres, *X.shape[1:]))
        out_y.append(np.full(n_centres, c, dtype=np.int64))
    return np.concatenate(out_x).astype(np.float32), np.concatenate(out_y)
