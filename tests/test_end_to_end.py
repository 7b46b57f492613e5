"""End to end on real data: train a small generative LSTM on two letters of UCI Character Trajectories, invert it
on held-out recordings, and check that inverse classification beats chance by a clear margin.

Two letters are so different that almost any fixed map from the class vector to a trajectory separates them
along some direction: an untrained generator, or one trained on shuffled labels, scores near 1 or near 0
depending on a sign. "Beats chance" alone therefore cannot tell a working pipeline from a broken one, so the test
first checks that the generator learned each letter: its output at the one-hot vector of a letter lies near that
letter's mean held-out trajectory (far nearer than the two means lie to each other). Then inverse
classification must score well above chance, which a broken inversion (no step, wrong sign, wrong argmax) cannot.

Small and fast (one thread, a few seconds): every 4th time step (52 of 205), 32 hidden units, 80 epochs with
the thesis's training noise at σ 0.3, 100 iterations of the sources' inverse classification from the uniform
class vector.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
import torch

from ic.data import load_character_trajectories
from ic.data.files import DataUnavailableError
from ic.data.subsets import train_test_split_indices
from ic.engine import ICConfig, class_only_generator, class_only_groups, invert, mse_per_probe
from ic.lstm.models import GenerativeLSTM
from ic.lstm.preprocess import prepare
from ic.train import FitConfig, fit

STRIDE, HIDDEN, SIGMA, SEED = 4, 32, 0.3, 0
TRAINING = FitConfig(epochs=80, batch_size=16, lr=0.02)
INVERSION = ICConfig(iterations=100, lr=0.05)
MARGIN = 0.3            # inverse classification: accuracy at least 0.5 + MARGIN (chance 0.5)
VERTEX_FRACTION = 0.1   # a letter's one-hot output: MSE to its mean below this × the gap between the means


@pytest.fixture(scope="module")
def two_letters(mirror_dir):
    """Standardised trajectories of the letters a and b, every STRIDE-th step; a stratified split (3 : 1)."""
    try:
        data = prepare(load_character_trajectories(mirror_dir, download=False))
    except DataUnavailableError as err:
        pytest.skip(f"Character Trajectories not in the mirror: {err}")
    x, y = data.first_classes(2)
    x = torch.as_tensor(np.ascontiguousarray(x[:, ::STRIDE]))
    train, test = train_test_split_indices(y, test_fraction=0.25, seed=SEED, stratify=True)
    return x[train], y[train], x[test], y[test]


class Outcome(NamedTuple):
    accuracy: float          # inverse classification on the held-out trajectories
    vertex_error: float      # worst letter: MSE(generator at its one-hot vector, its mean held-out trajectory)
    mean_gap: float          # MSE between the two letters' mean held-out trajectories


def train_and_invert(x_train, train_labels, x_test, y_test, *, seed=SEED, train=True) -> Outcome:
    """Train a generator on (labels → trajectories) (``train=False``: leave it at its initialisation) and
    invert it on the test trajectories."""
    torch.manual_seed(seed)
    gen = GenerativeLSTM(2, hidden=HIDDEN, seq_len=x_train.shape[1])
    noise = torch.Generator().manual_seed(seed)

    def loss(model, batch):
        onehot, target = batch
        return ((model(model.noisy_input_sequence(onehot, SIGMA, generator=noise)) - target) ** 2).mean()
    if train:
        fit(gen, (torch.eye(2)[torch.as_tensor(train_labels)], x_train), loss, TRAINING, seed=seed)
    gen.requires_grad_(False)
    result = invert(class_only_generator(gen.generate), x_test, class_only_groups(2), INVERSION, seed=seed)
    means = torch.stack([x_test[torch.as_tensor(y_test == c)].mean(dim=0) for c in (0, 1)])
    vertex_error = mse_per_probe(gen.generate(torch.eye(2)), means).max()
    return Outcome(float((result.predictions.numpy() == y_test).mean()), float(vertex_error),
                   float(mse_per_probe(means[:1], means[1:])))


def test_a_trained_generator_classifies_held_out_letters_by_inversion(two_letters):
    x_train, y_train, x_test, y_test = two_letters
    assert np.bincount(y_test).tolist() == [21, 21]                  # balanced: chance is 0.5
    out = train_and_invert(x_train, y_train, x_test, y_test)
    assert out.vertex_error < VERTEX_FRACTION * out.mean_gap, f"the generator did not learn the letters: {out}"
    assert out.accuracy >= 0.5 + MARGIN, f"inverse classification at chance level or below: {out}"
