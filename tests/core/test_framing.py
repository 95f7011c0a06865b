"""Framing: a drawing on plain paper is cropped to its ink, anything else keeps its centre square. Checked
against boxes and crops computed here by hand."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cnn_core import framing, tiny_vgg


def _paper(h=256, w=256, colour=(255, 255, 255)) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (h, w, 3)).copy()


def _centre_square(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[:2]
    s = min(h, w)
    crop = a[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return np.asarray(Image.fromarray(crop).resize((64, 64), Image.Resampling.BILINEAR))


def test_a_small_drawing_in_a_corner_is_cropped_to_its_ink_with_a_margin():
    a = _paper()
    a[20:60, 180:240] = (31, 58, 147)  # a 40×60 box of ink, top right
    top, left, side, _ = framing.ink_box(a)
    assert side == round(60 * (1 + 2 * framing.MARGIN))
    assert abs((top + side / 2) - 40) <= 1 and abs((left + side / 2) - 210) <= 1
    out = framing.frame(a)
    ink = np.abs(out.astype(int) - 255).max(axis=2) > 100
    ys, xs = np.nonzero(ink)
    # The ink now spans the frame's width less the margins and sits in its middle.
    assert 64 * 0.8 <= xs.max() - xs.min() + 1 <= 64 * 0.9
    assert abs((ys.min() + ys.max()) / 2 - 31.5) <= 1.5 and abs((xs.min() + xs.max()) / 2 - 31.5) <= 1.5
    assert (out[0, 0] == 255).all()  # paper added past the canvas's edge is paper-coloured


def test_the_same_shape_at_two_sizes_and_places_frames_alike():
    small, big = _paper(), _paper(colour=(240, 230, 200))
    yy, xx = np.mgrid[0:256, 0:256]
    small[(yy - 60) ** 2 + (xx - 190) ** 2 < 30**2] = (0, 0, 0)
    big[(yy - 128) ** 2 + (xx - 128) ** 2 < 110**2] = (0, 0, 0)
    a = framing.frame(small).astype(float).mean(axis=2) < 128
    b = framing.frame(big).astype(float).mean(axis=2) < 128
    assert (a != b).mean() < 0.04


def test_a_slope_of_light_on_the_paper_is_still_paper():
    a = _paper().astype(float)
    a += np.linspace(-40, 40, 256)[None, :, None]  # uneven light, left to right
    a[100:140, 100:150] = 20
    box = framing.ink_box(np.clip(a, 0, 255).astype(np.uint8))
    assert box is not None and abs(box[2] - 50 * (1 + 2 * framing.MARGIN)) <= 1


def test_photos_noise_and_full_drawings_keep_their_centre_square():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    np.testing.assert_array_equal(framing.frame(noise), _centre_square(noise))
    blank = _paper(100, 150, (200, 10, 10))
    np.testing.assert_array_equal(framing.frame(blank), _centre_square(blank))
    full = _paper()
    full[4:252, 4:252] = 0  # ink over nearly all of it
    np.testing.assert_array_equal(framing.frame(full), _centre_square(full))


def test_prepare_input_frames_a_canvas_drawing():
    rgba = np.zeros((256, 256, 4), np.uint8)  # an empty, transparent canvas...
    rgba[30:70, 30:70] = (31, 58, 147, 255)  # ...with one small square drawn on it
    x = tiny_vgg.prepare_input(rgba)
    assert x.shape == (64, 64, 3) and x.dtype == np.float32
    dark = x.mean(axis=2) < 0.5
    assert 0.6 < dark.mean() < 0.8  # the square fills the frame less its margins: (1 / 1.16)² ≈ 0.74


def test_a_link_picture_is_read_back_unchanged_without_framing_again():
    a = _paper()
    a[30:90, 40:100] = (31, 58, 147)
    once = np.rint(tiny_vgg.prepare_input(a) * 255).astype(np.uint8)  # what a link carries
    again = tiny_vgg.prepare_input(once, frame=False)
    np.testing.assert_array_equal(np.rint(again * 255).astype(np.uint8), once)
    assert not np.array_equal(np.rint(tiny_vgg.prepare_input(once) * 255).astype(np.uint8), once)  # framing enlarges
