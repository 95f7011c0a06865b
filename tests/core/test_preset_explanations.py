"""Every preset's explanation, grey and colour, says what the pipeline really does (issue 10, bug 11).

Each check runs the preset through cnn_core (TensorFlow) on a small test picture and tests the claim its
text makes; the text itself is checked to make that claim, so a rewritten sentence needs a new check.
"""

from __future__ import annotations

import numpy as np
import pytest

import cnn_core
from cnn_core.kernels import PRESETS

from .np_reference import np_conv2d

N = 24
LO, HI = 50, 200
IN = slice(4, N - 4)  # rows/columns clear of the zero border's influence (kernels up to 5×5)


def _vertical_edge() -> np.ndarray:
    img = np.full((N, N), LO, np.uint8)
    img[:, N // 2 :] = HI
    return img


def _horizontal_edge() -> np.ndarray:
    return _vertical_edge().T.copy()


def _noise(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (N, N), dtype=np.uint8)


def _conv(name: str, image: np.ndarray, color: str) -> np.ndarray:
    """The convolution map the app shows for ``image`` (same padding, no activation), float64 (H, W)."""
    spec = {
        "version": 1,
        "input": {"color": color, "size": None},
        "layers": [
            {"type": "conv2d", "filters": [name], "padding": "same"},
            {"type": "activation", "function": "linear"},
        ],
    }
    return cnn_core.run_pipeline(image, cnn_core.parse_spec(spec))[1].maps[:, :, 0].astype(np.float64)


def _x(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) / 255.0


def _ref(name: str, x2d: np.ndarray) -> np.ndarray:
    k = PRESETS[name].array().astype(np.float64)[:, :, None, None]
    return np_conv2d(x2d[:, :, None], k)[:, :, 0]


def _window_mean(x: np.ndarray, size: int) -> np.ndarray:
    r = size // 2
    xp = np.pad(x, r)
    return np.mean([xp[i : i + N, j : j + N] for i in range(size) for j in range(size)], axis=0)


def _close(a, b, tol=2e-5) -> bool:
    return bool(np.allclose(a, b, atol=tol, rtol=1e-5))


# --- grey: each claim of PRESETS[name].explanation ----------------------------------------------------------


def _finds_vertical(name: str) -> None:
    v, h = _conv(name, _vertical_edge(), "grayscale"), _conv(name, _horizontal_edge(), "grayscale")
    assert np.abs(v[IN, N // 2 - 1 : N // 2 + 1]).min() > 0.1  # the vertical edge lights up
    assert _close(h[IN, IN], 0)  # a horizontal one does not
    assert _close(v[IN, 6:9], 0) and _close(v[IN, 16:19], 0)  # nor do flat areas


def _finds_horizontal(name: str) -> None:
    v, h = _conv(name, _vertical_edge(), "grayscale"), _conv(name, _horizontal_edge(), "grayscale")
    assert np.abs(h[N // 2 - 1 : N // 2 + 1, IN]).min() > 0.1
    assert _close(v[IN, IN], 0)


def _flat_kept(name: str) -> np.ndarray:
    x, out = _x(_vertical_edge()), _conv(name, _vertical_edge(), "grayscale")
    assert _close(out[IN, 4:8], x[IN, 4:8]) and _close(out[IN, 16:20], x[IN, 16:20])
    return out


def _gray_identity(name):
    assert _close(_conv(name, _noise(), "grayscale"), _x(_noise()))


def _gray_edge(name):
    out = _conv(name, _vertical_edge(), "grayscale")
    assert _close(out[IN, 4:9], 0) and _close(out[IN, 16:20], 0)  # flat areas go to 0
    assert np.abs(out[IN, N // 2 - 1 : N // 2 + 1]).min() > 0.5  # the outline lights up


def _gray_laplacian(name):
    out = _conv(name, _vertical_edge(), "grayscale")
    assert _close(out[IN, 4:9], 0)
    assert (out[IN, N // 2 - 1] > 0.1).all() and (out[IN, N // 2] < -0.1).all()  # one side up, the other down
    ramp = np.tile(np.arange(N, dtype=np.uint8) * 10, (N, 1))  # an even slope
    assert _close(_conv(name, ramp, "grayscale")[IN, IN], 0)


def _gray_box(size):
    def check(name):
        out = _conv(name, _noise(), "grayscale")
        assert _close(out[IN, IN], _window_mean(_x(_noise()), size)[IN, IN])
        if size == 5:  # stronger: the edge spreads over more columns than with the 3×3 box
            v = _vertical_edge()
            assert _spread(_conv(name, v, "grayscale")) > _spread(_conv("box_blur_3", v, "grayscale"))

    return check


def _spread(m: np.ndarray) -> int:
    """How many columns of the middle row lie strictly between the two sides' levels (a blurred edge)."""
    row = m[N // 2]
    return int(np.sum((row > LO / 255 + 1e-3) & (row < HI / 255 - 1e-3)))


def _gray_gaussian(name):
    _flat_kept(name)
    out, x = _conv(name, _noise(), "grayscale"), _x(_noise())
    k = PRESETS[name].array().shape[0]
    assert (out[IN, IN] <= _window_max(x, k)[IN, IN] + 1e-6).all()  # an average: never beyond the patch
    w = PRESETS[name].array()
    assert w[k // 2, k // 2] == w.max()  # the centre counts most


def _window_max(x: np.ndarray, size: int) -> np.ndarray:
    r = size // 2
    xp = np.pad(x, r, constant_values=-np.inf)
    return np.max([xp[i : i + N, j : j + N] for i in range(size) for j in range(size)], axis=0)


def _gray_sharpen(name):
    out = _flat_kept(name)
    assert out[IN, N // 2].min() > HI / 255 + 0.1 and out[IN, N // 2 - 1].max() < LO / 255 - 0.1  # overshoot


def _gray_emboss(name):
    out = _flat_kept(name)
    # Brighter to the right (towards the bottom right): the edge lights up beyond the bright side...
    assert (out[IN, N // 2 - 1 : N // 2 + 1] > HI / 255 + 0.1).all()
    # ...and mirrored, darker to the right, it turns darker than the dark side.
    mirrored = _conv(name, _vertical_edge()[:, ::-1].copy(), "grayscale")
    assert (mirrored[IN, N // 2 - 1 : N // 2 + 1] < LO / 255 - 0.1).all()


def _gray_motion(name):
    x, out = _x(_noise()), _conv(name, _noise(), "grayscale")
    xp = np.pad(x, 2)
    diag = np.mean([xp[d : d + N, d : d + N] for d in range(5)], axis=0)
    assert _close(out, diag)


GRAY = {
    "identity": (_gray_identity, "unchanged"),
    "edge": (_gray_edge, "flat areas go to 0"),
    "sobel_x": (_finds_vertical, "vertical edges, not horizontal"),
    "sobel_y": (_finds_horizontal, "horizontal edges, not vertical"),
    "prewitt_x": (_finds_vertical, "vertical edges"),
    "prewitt_y": (_finds_horizontal, "horizontal edges"),
    "scharr_x": (_finds_vertical, "vertical edges"),
    "scharr_y": (_finds_horizontal, "horizontal edges"),
    "laplacian": (_gray_laplacian, "one side goes up and the other down"),
    "box_blur_3": (_gray_box(3), "average of a 3×3 patch"),
    "box_blur_5": (_gray_box(5), "5×5 patch: a stronger blur"),
    "gaussian_3": (_gray_gaussian, "keeps flat areas as they are"),
    "gaussian_5": (_gray_gaussian, "flat areas stay as they are"),
    "sharpen": (_gray_sharpen, "edges overshoot"),
    "emboss": (_gray_emboss, "edges that get brighter towards the bottom right light up"),
    "motion_blur": (_gray_motion, "Averages 5 pixels along the top-left to bottom-right diagonal"),
}


# --- colour: the map is the kernel applied to R+G+B ------------------------------------------------------


def _rgb_noise() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (N, N, 3), dtype=np.uint8)


def _red_green() -> np.ndarray:
    img = np.zeros((N, N, 3), np.uint8)
    img[:, : N // 2, 0] = 255
    img[:, N // 2 :, 1] = 255
    return img


def _rgb_is_kernel_of_sum(name):
    img = _rgb_noise()
    s = _x(img).sum(axis=2)
    out = _conv(name, img, "rgb")
    assert _close(out, _ref(name, s), tol=1e-4)
    return out, s


def _rgb_sum_range(name):
    out, s = _rgb_is_kernel_of_sum(name)
    assert out.min() >= -1e-6 and out.max() <= 3 + 1e-5 and out.max() > 1.2  # R+G+B, 0 to 3


def _rgb_colour_edge_vanishes(name):
    _rgb_is_kernel_of_sum(name)
    out = _conv(name, _red_green(), "rgb")
    assert _close(out[IN, IN], 0)  # red next to green: R+G+B is 1 on both sides


def _rgb_flat_shows_sum(name):
    _rgb_is_kernel_of_sum(name)
    img = np.zeros((N, N, 3), np.uint8)
    img[:, :, 0], img[:, :, 1], img[:, :, 2] = 200, 150, 250
    assert _close(_conv(name, img, "rgb")[IN, IN], (200 + 150 + 250) / 255)


RGB = {
    name: (_rgb_colour_edge_vanishes, "pure red next to pure green gives 0")
    for name in ("edge", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "scharr_x", "scharr_y", "laplacian")
}
RGB.update(
    {
        "identity": (_rgb_sum_range, "R+G+B (0 to 3)"),
        "box_blur_3": (_rgb_sum_range, "blurred R+G+B, from 0 to 3"),
        "box_blur_5": (_rgb_sum_range, "blur of R+G+B, from 0 to 3"),
        "gaussian_3": (_rgb_sum_range, "blur of R+G+B, from 0 to 3"),
        "gaussian_5": (_rgb_flat_shows_sum, "flat areas show their R+G+B"),
        "sharpen": (_rgb_flat_shows_sum, "flat areas show their R+G+B"),
        "emboss": (_rgb_flat_shows_sum, "Flat areas show their R+G+B"),
        "motion_blur": (_rgb_sum_range, "Averages R+G+B"),
    }
)


def test_every_preset_has_a_checked_claim():
    assert set(GRAY) == set(PRESETS) == set(RGB)


@pytest.mark.parametrize("name", list(PRESETS))
def test_grey_explanation_holds(name):
    check, claim = GRAY[name]
    assert claim in PRESETS[name].explanation
    check(name)


@pytest.mark.parametrize("name", list(PRESETS))
def test_colour_explanation_holds(name):
    check, claim = RGB[name]
    text = PRESETS[name].rgb_explanation
    assert claim in text and "R+G+B" in text
    check(name)
