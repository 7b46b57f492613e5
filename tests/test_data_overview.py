"""The data chapter's measurement of how the Character Trajectories recordings end (``ic.data.overview``)."""

from __future__ import annotations

import numpy as np

from ic.data.overview import lift_off_steps


def _recording(lead: int, body_force: list[float], tail: int, trail: int, tail_force: float = -2.5) -> np.ndarray:
    """Zero padding, a written part with the given force values, a lift-off run of ``tail`` steps, zero padding."""
    body = np.column_stack([np.full(len(body_force), 0.3), np.full(len(body_force), -0.1), body_force])
    lift = np.tile([0.3, 0.4, tail_force], (tail, 1))
    return np.vstack([np.zeros((lead, 3)), body, lift, np.zeros((trail, 3))])


def test_lift_off_run_is_counted_without_the_padding_and_without_earlier_dips() -> None:
    recs = [
        _recording(5, [1.0, 0.2, -1.0, -1.2, 0.1, 0.0], tail=7, trail=12),  # a dip below −0.5 mid-letter
        _recording(0, [0.5, 0.3], tail=3, trail=0),                         # no padding at all
        _recording(4, [0.5, 0.3, 0.1], tail=0, trail=9),                    # ends while writing
        _recording(2, [], tail=4, trail=3),                                 # nothing but the lift-off run
        np.zeros((6, 3)),                                                   # padding only
    ]
    assert lift_off_steps(recs).tolist() == [7, 3, 0, 4, 0]
    assert lift_off_steps(recs, threshold=-3.0).tolist() == [0, 0, 0, 0, 0]
    assert lift_off_steps([]).tolist() == []
