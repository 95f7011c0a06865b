"""cnn_core.stats.channel_stats against plain NumPy per channel and against Pillow's BOX resize."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnn_core import render
from cnn_core.stats import box_windows, channel_stats, thumbnail_size


@pytest.mark.parametrize(
    ("shape", "side"),
    [((40, 52, 3), 16), ((333, 177, 1), 30), ((9, 7, 2), 16), ((64, 64, 5), 10), ((50, 13, 4), 12), ((1, 90, 1), 8)],
)
def test_statistics_and_thumbnails_match_numpy_and_pillow(shape, side):
    rng = np.random.default_rng(sum(shape) + side)
    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32) * 3 - 0.5  # negatives, exact zeros
    x[x == -0.5] = 0.0
    s = channel_stats(x, side)
    for c in range(shape[2]):
        ch = x[:, :, c].astype(np.float64)
        assert s.lo[c] == ch.min() and s.hi[c] == ch.max()
        assert s.mean[c] == pytest.approx(ch.mean(), rel=1e-6, abs=1e-7)
        assert s.zeros[c] == np.count_nonzero(ch == 0) / ch.size
        want = render.shrink_values(x[:, :, c], side)  # Pillow's BOX resize, what the Layer stack shows
        assert s.small[c].shape == want.shape and s.small[c].dtype == np.float32
        np.testing.assert_allclose(s.small[c], want, rtol=1e-5, atol=1e-6)
    assert 0 < s.zeros.max() < 1  # the inputs above do have some zeros, so the share is tested


def test_box_windows_are_the_pixels_pillow_averages():
    # Weights Pillow gives each input pixel, read back by resizing one-hot columns; 333 → 30 leaves a
    # pixel that belongs to no window (rounding), which the windows must reproduce.
    for size, out in [(333, 30), (1024, 160), (97, 13)]:
        eye = np.eye(size, dtype=np.float32)
        w = np.asarray(Image.fromarray(eye, mode="F").resize((size, out), Image.Resampling.BOX))
        pillow = [tuple(int(v) for v in np.flatnonzero(w[i] > 0)[[0, -1]] + [0, 1]) for i in range(out)]
        assert list(box_windows(size, out)) == pillow, (size, out)


def test_non_finite_values_leave_the_range_finite():
    x = np.zeros((20, 20, 2), np.float32)
    x[3, 4, 0], x[5, 5, 0], x[1, 1, 1] = np.inf, -2.0, np.nan
    x[2, 2, 1] = 7.0
    s = channel_stats(x, 8)
    assert (s.lo[0], s.hi[0]) == (-2.0, 0.0)
    assert (s.lo[1], s.hi[1]) == (0.0, 7.0)
    assert np.isinf(s.mean[0]) and np.isnan(s.mean[1])


def test_thumbnail_size_keeps_small_maps_and_rounds_like_shrink_values():
    assert thumbnail_size(100, 50, 160) == (100, 50)
    assert thumbnail_size(1024, 512, 160) == (160, 80)
    assert thumbnail_size(3, 1000, 160) == (1, 160)
    assert render.shrink_values(np.zeros((3, 1000), np.float32), 160).shape == thumbnail_size(3, 1000, 160)
