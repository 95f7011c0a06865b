"""The drawing canvas wrapper's conversion of what the browser sends into a NumPy picture."""

from __future__ import annotations

import numpy as np

from ui.common.canvas import to_picture


def test_rgba_at_the_canvas_size_passes_through():
    a = np.zeros((40, 30, 4), np.uint8)
    a[5:10, 5:10] = (255, 0, 0, 255)
    out = to_picture(a, width=30, height=40)
    assert out.shape == (40, 30, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, a)


def test_a_high_density_screen_is_brought_back_to_the_canvas_size():
    a = np.full((80, 60, 4), 255, np.uint8)  # a 2× device-pixel-ratio rendering of a 30×40 canvas
    a[:, :30, :3] = 0
    out = to_picture(a, width=30, height=40)
    assert out.shape == (40, 30, 4)
    assert out[:, :14, 0].max() == 0 and out[:, 16:, 0].min() == 255


def test_grey_and_rgb_inputs():
    grey = to_picture(np.full((8, 8, 4), (10, 200, 10, 255), np.uint8), 8, 8, grayscale=True)
    assert grey.shape == (8, 8) and abs(int(grey[0, 0]) - round(0.299 * 10 + 0.587 * 200 + 0.114 * 10)) <= 1
    rgb = to_picture(np.zeros((8, 8, 3), np.uint8), 8, 8)
    assert rgb.shape == (8, 8, 4) and (rgb[..., 3] == 255).all()
