"""Checks shared by the tests of the picture generators (shapes_data, sketches)."""

from __future__ import annotations

import numpy as np


def assert_seeded(make_dataset, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``make_dataset(n, seed=...)`` gives n uint8 (64, 64, 3) pictures, the same ones (and labels) for the same
    seed and others for the next seed. Returns the pictures and labels for ``seed``."""
    a, la = make_dataset(n, seed=seed)
    b, lb = make_dataset(n, seed=seed)
    c, _ = make_dataset(n, seed=seed + 1)
    assert a.dtype == np.uint8 and a.shape == (n, 64, 64, 3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    return a, la
