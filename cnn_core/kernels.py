"""Named kernels (presets) and seeded random initialisers.

Every preset is a 2-D kernel of shape (height, width). In a conv2d layer a 2-D
kernel is applied with the same weights to every input channel and the
results are summed, as the pipeline spec describes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    weights: tuple[tuple[float, ...], ...]
    explanation: str  # what it does to a grey photo
    rgb_explanation: str  # ... and to a colour one, where the map is the kernel applied to R+G+B

    def array(self) -> np.ndarray:
        return np.array(self.weights, dtype=np.float32)


def _p(name: str, label: str, rows) -> Preset:
    gray, rgb = _TEXT[name]
    return Preset(name, label, tuple(tuple(float(v) for v in r) for r in rows), gray, rgb)


# On three channels a 2-D kernel runs with the same weights over red, green and blue and the results are
# added: the map is the kernel applied to R+G+B (0 to 3). So a blur shows a blurred R+G+B, and an edge
# between two colours of equal R+G+B vanishes. tests/core/test_preset_explanations.py checks every claim.
_RGB_EDGE = " Colour edges count only where R+G+B changes: pure red next to pure green gives 0."
_TEXT: dict[str, tuple[str, str]] = {
    "identity": (
        "Copies each pixel unchanged: a baseline to compare the others with.",
        "Adds each pixel's red, green and blue values: the map is R+G+B (0 to 3), not the photo itself.",
    ),
    "edge": (
        "Centre minus its eight neighbours: flat areas go to 0, outlines light up.",
        "Centre minus its eight neighbours, on R+G+B: flat areas go to 0, outlines light up." + _RGB_EDGE,
    ),
    "sobel_x": (
        "Brightness change from left to right, smoothed vertically: finds vertical edges, not horizontal ones.",
        "The change of R+G+B from left to right: finds vertical edges, not horizontal ones." + _RGB_EDGE,
    ),
    "sobel_y": (
        "Brightness change from top to bottom: finds horizontal edges, not vertical ones.",
        "The change of R+G+B from top to bottom: finds horizontal edges, not vertical ones." + _RGB_EDGE,
    ),
    "prewitt_x": (
        "Like Sobel x but with equal weights on the three rows: finds vertical edges.",
        "Like Sobel x, on R+G+B: finds vertical edges." + _RGB_EDGE,
    ),
    "prewitt_y": (
        "Like Sobel y but with equal weights on the three columns: finds horizontal edges.",
        "Like Sobel y, on R+G+B: finds horizontal edges." + _RGB_EDGE,
    ),
    "scharr_x": (
        "A left-to-right gradient weighted to treat edges at every angle alike: finds vertical edges.",
        "Scharr's left-to-right gradient of R+G+B: finds vertical edges." + _RGB_EDGE,
    ),
    "scharr_y": (
        "The top-to-bottom counterpart of Scharr x: finds horizontal edges.",
        "Scharr's top-to-bottom gradient of R+G+B: finds horizontal edges." + _RGB_EDGE,
    ),
    "laplacian": (
        "Second derivative: 0 on flat areas and even slopes; at an edge, one side goes up and the other down.",
        "Second derivative of R+G+B: 0 on flat areas and even slopes; at an edge, one side goes up and the other down."
        + _RGB_EDGE,
    ),
    "box_blur_3": (
        "Each output is the plain average of a 3×3 patch.",
        "Each output is the average of R+G+B over a 3×3 patch: a blurred R+G+B, from 0 to 3.",
    ),
    "box_blur_5": (
        "Averages a 5×5 patch: a stronger blur.",
        "Averages R+G+B over a 5×5 patch: a stronger blur of R+G+B, from 0 to 3.",
    ),
    "gaussian_3": (
        "A weighted average that favours the centre: a soft blur that keeps flat areas as they are.",
        "A weighted average of R+G+B that favours the centre: a soft blur of R+G+B, from 0 to 3.",
    ),
    "gaussian_5": (
        "A wider Gaussian: smooths more while keeping the centre strongest; flat areas stay as they are.",
        "A wider Gaussian on R+G+B: smooths more; flat areas show their R+G+B, from 0 to 3.",
    ),
    "sharpen": (
        "Identity plus an edge boost: flat areas stay as they are, edges overshoot so details look crisper.",
        "R+G+B plus an edge boost: flat areas show their R+G+B (0 to 3), edges overshoot.",
    ),
    "emboss": (
        "Flat areas keep their brightness; edges that get brighter towards the bottom right light up and edges "
        "that get darker turn dark, like a relief lit from one corner.",
        "Flat areas show their R+G+B (0 to 3); edges where R+G+B rises towards the bottom right light up and "
        "edges where it falls turn dark, like a relief.",
    ),
    "motion_blur": (
        "Averages 5 pixels along the top-left to bottom-right diagonal, as if the camera moved during the shot.",
        "Averages R+G+B over 5 pixels along the top-left to bottom-right diagonal, as if the camera moved.",
    ),
}


_G5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        _p("identity", "Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        _p("edge", "Outline (the article's kernel)", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        _p("sobel_x", "Sobel x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        _p("sobel_y", "Sobel y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        _p("prewitt_x", "Prewitt x", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
        _p("prewitt_y", "Prewitt y", [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
        _p("scharr_x", "Scharr x", [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]),
        _p("scharr_y", "Scharr y", [[-3, -10, -3], [0, 0, 0], [3, 10, 3]]),
        _p("laplacian", "Laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        _p("box_blur_3", "Box blur 3×3", np.full((3, 3), 1 / 9)),
        _p("box_blur_5", "Box blur 5×5", np.full((5, 5), 1 / 25)),
        _p("gaussian_3", "Gaussian blur 3×3", np.outer([1, 2, 1], [1, 2, 1]) / 16.0),
        _p("gaussian_5", "Gaussian blur 5×5", _G5),
        _p("sharpen", "Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        _p("emboss", "Emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
        _p("motion_blur", "Motion blur", np.eye(5) / 5.0),
    ]
}

INITIALISERS = ("he_normal", "glorot_uniform")


def preset(name: str) -> np.ndarray:
    """The preset's weights as float32 (height, width). Raises KeyError if unknown."""
    return PRESETS[name].array()


def random_kernel(init: str, seed: int, size: tuple[int, int], depth: int, n_filters: int) -> np.ndarray:
    """A seeded random kernel of shape (height, width, depth), as an untrained layer would hold.

    Args:
        init: ``"he_normal"`` (normal, std sqrt(2 / fan_in)) or ``"glorot_uniform"``
            (uniform in ±sqrt(6 / (fan_in + fan_out))).
        seed: the random seed; the same seed always gives the same weights.
        size: (kernel height, kernel width).
        depth: the number of input channels.
        n_filters: filters in the layer, used for Glorot's fan_out.
    """
    kh, kw = size
    fan_in = kh * kw * depth
    fan_out = kh * kw * n_filters
    rng = np.random.default_rng(seed)
    if init == "he_normal":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(kh, kw, depth))
    elif init == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=(kh, kw, depth))
    else:
        raise KeyError(init)
    return w.astype(np.float32)
