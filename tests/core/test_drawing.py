"""A drawing becomes weights by the stated rule: signed ink, area-averaged onto the kernel grid."""

import numpy as np
import pytest

from cnn_core import ImageError, drawing
from cnn_core.drawing import (
    area_average,
    kernel_from_drawing,
    picture_from_drawing,
    signed_ink,
)


def _blank(h: int, w: int, transparent: bool = True) -> np.ndarray:
    c = np.zeros((h, w, 4), np.uint8) if transparent else np.full((h, w, 4), 255, np.uint8)
    return c


def _paint(canvas, rows, cols, rgb, alpha=255):
    canvas[rows, cols, :3] = rgb
    canvas[rows, cols, 3] = alpha
    return canvas


def _reference_kernel(ink: np.ndarray, kh: int, kw: int) -> np.ndarray:
    # Independent route: split every pixel into kh × kw equal sub-pixels, so each kernel cell is an
    # exact block of sub-pixels, then take block means.
    h, w = ink.shape
    fine = np.repeat(np.repeat(ink, kh, axis=0), kw, axis=1)
    return fine.reshape(kh, h, kw, w).mean(axis=(1, 3))


def _strokes() -> np.ndarray:
    """A fixed drawing: a red horizontal band, a blue diagonal, a half-transparent red dot."""
    c = _blank(97, 131)
    _paint(c, slice(10, 23), slice(5, 120), (255, 0, 0))
    for i in range(60):
        _paint(c, slice(30 + i, 33 + i), slice(40 + i, 44 + i), (0, 0, 255))
    _paint(c, slice(80, 90), slice(100, 110), (255, 0, 0), alpha=128)
    return c


def test_signed_ink_of_the_two_inks_and_white():
    c = _blank(2, 3, transparent=False)
    _paint(c, 0, 0, (255, 0, 0))
    _paint(c, 0, 1, (0, 0, 255))
    _paint(c, 1, 0, (255, 0, 0), alpha=51)
    ink = signed_ink(c)
    assert ink[0, 0] == 1.0 and ink[0, 1] == -1.0 and ink[0, 2] == 0.0
    assert ink[1, 0] == pytest.approx(0.2)
    # Red composited over white at alpha a has R − B = 255·a, the same signed ink.
    a = 0.4
    over_white = np.array([[[255, 255 * (1 - a), 255 * (1 - a)]]])
    assert signed_ink(over_white)[0, 0] == pytest.approx(a)


@pytest.mark.parametrize("size", [(1, 1), (3, 3), (5, 7), (15, 15), (2, 13)])
def test_kernel_is_the_area_average_of_the_ink(size):
    c = _strokes()
    w = kernel_from_drawing(c, size)
    np.testing.assert_allclose(w, _reference_kernel(signed_ink(c), *size), atol=1e-12)
    assert w.shape == size


def test_area_average_keeps_the_mean_and_handles_fractions():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(10, 7))
    for kh, kw in [(3, 3), (4, 2), (10, 7), (7, 5)]:
        a = area_average(v, (kh, kw))
        assert a.mean() == pytest.approx(v.mean())
        np.testing.assert_allclose(a, _reference_kernel(v, kh, kw), atol=1e-12)


def test_strength_scales_and_a_full_canvas_gives_equal_weights():
    c = _paint(_blank(60, 60), slice(None), slice(None), (255, 0, 0))
    np.testing.assert_allclose(kernel_from_drawing(c, (3, 3), strength=2.5), np.full((3, 3), 2.5))


def test_a_diagonal_stroke_draws_a_motion_blur():
    c = _blank(300, 300)
    for i in range(300):
        _paint(c, slice(i, i + 1), slice(max(i - 8, 0), i + 9), (255, 0, 0))
    w = kernel_from_drawing(c, (15, 15), normalise="sum1")
    assert np.argmax(w, axis=1).tolist() == list(range(15))
    assert w.sum() == pytest.approx(1.0, abs=1e-6)


def test_normalisations():
    c = _strokes()
    s = kernel_from_drawing(c, (5, 5), normalise="sum1")
    assert s.sum() == pytest.approx(1.0, abs=1e-6)
    z = kernel_from_drawing(c, (5, 5), normalise="zero_mean")
    assert abs(z.mean()) < 1e-6
    raw = kernel_from_drawing(c, (5, 5))
    np.testing.assert_allclose(s, raw / raw.sum(), atol=1e-12)
    np.testing.assert_allclose(z, raw - raw.mean(), atol=1e-12)


def test_a_drawing_gives_the_same_weights_every_time():
    c = _strokes()
    assert np.array_equal(kernel_from_drawing(c, (7, 7)), kernel_from_drawing(c.copy(), (7, 7)))


def test_empty_and_cancelling_drawings_are_refused_in_a_sentence():
    with pytest.raises(ImageError, match="no ink"):
        kernel_from_drawing(_blank(50, 50), (3, 3))
    with pytest.raises(ImageError, match="no ink"):
        kernel_from_drawing(_blank(50, 50, transparent=False), (3, 3))
    c = _blank(40, 40)
    _paint(c, slice(0, 20), slice(None), (255, 0, 0))
    _paint(c, slice(20, 40), slice(None), (0, 0, 255))
    with pytest.raises(ImageError, match="cancel out"):
        kernel_from_drawing(c, (3, 3), normalise="sum1")
    with pytest.raises(ImageError, match="1×1 to 15×15"):
        kernel_from_drawing(_strokes(), (16, 3))
    with pytest.raises(ImageError, match="normalisation"):
        kernel_from_drawing(_strokes(), (3, 3), normalise="max")
    with pytest.raises(ImageError, match="shape"):
        kernel_from_drawing(np.zeros((5, 5)), (3, 3))


def test_picture_from_drawing_composites_over_white():
    c = _blank(4, 4)
    _paint(c, 1, 1, (0, 0, 0))
    _paint(c, 2, 2, (0, 0, 0), alpha=128)
    p = picture_from_drawing(c)
    assert p.dtype == np.uint8 and p.shape == (4, 4, 3)
    assert p[0, 0].tolist() == [255, 255, 255] and p[1, 1].tolist() == [0, 0, 0]
    assert p[2, 2].tolist() == [127, 127, 127]
    with pytest.raises(ImageError, match="empty"):
        picture_from_drawing(_blank(4, 4))


# --- a canvas that starts from the kernel in use -----------------------------------------------------------


def test_kernel_drawing_fills_each_nonzero_cell_with_its_ink():
    w = np.array([[-1.0, 0.0], [2.0, 8.0]])
    objs = drawing.kernel_drawing(w, (100, 60), strength=4.0)["objects"]
    assert len(objs) == 3  # the zero weight is left blank
    by_place = {(o["top"], o["left"]): o for o in objs}
    assert by_place[(0.0, 0.0)]["fill"] == "rgba(0,0,255,0.2500)"
    assert by_place[(50.0, 0.0)]["fill"] == "rgba(255,0,0,0.5000)"
    assert by_place[(50.0, 30.0)]["fill"] == "rgba(255,0,0,1.0000)"  # beyond full ink: drawn at full ink
    assert all(o["width"] == 30.0 and o["height"] == 50.0 and o["strokeWidth"] == 0 for o in objs)


def _path(points, width):
    cmds = [["M", *points[0]]] + [["L", *p] for p in points[1:]]
    return {"type": "Path", "path": cmds, "strokeWidth": width}


def test_stroke_mask_covers_the_stroke_and_nothing_else():
    m = drawing.stroke_mask([_path([(10, 10), (30, 10)], 4), {"type": "Rect"}], (40, 50))
    assert m.shape == (40, 50)
    assert m[10, 10:31].all() and m[9:12, 20].all()
    assert not m[20:, :].any() and not m[:, 35:].any()


def test_a_stroke_changes_only_the_cells_it_passes_over():
    rng = np.random.default_rng(7)
    current = rng.normal(size=(3, 3))
    side = 90
    # The canvas as a browser would render it: some ink everywhere (a kernel picture), then a red stroke in cell (2, 1).
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[:, :, 2], rgba[:, :, 3] = 255, 40
    rgba[70:75, 35:55] = (255, 0, 0, 255)
    objs = [{"type": "Rect"}, _path([(37, 72), (52, 72)], 4)]
    new = drawing.edit_kernel(current, rgba, objs, strength=2.0)
    changed = new != current
    assert changed[2, 1] and changed.sum() == 1
    # The touched cell gets the rule's value: the mean signed ink in its cell times the strength.
    ink = drawing.signed_ink(rgba)[60:90, 30:60]
    assert new[2, 1] == pytest.approx(ink.mean() * 2.0)


def test_no_stroke_yet_changes_nothing_and_normalisation_applies_after_the_merge():
    current = np.array([[1.0, 2.0], [3.0, 4.0]])
    rgba = np.zeros((20, 20, 4), np.uint8)
    assert drawing.edit_kernel(current, rgba, [{"type": "Rect"}]) is None
    rgba[0:10, 0:10] = (255, 255, 255, 255)  # the eraser over cell (0, 0)
    new = drawing.edit_kernel(current, rgba, [_path([(2, 2), (8, 8)], 3)], normalise="sum1")
    np.testing.assert_allclose(new, np.array([[0.0, 2.0], [3.0, 4.0]]) / 9.0)
