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
    explanation: str

    def array(self) -> np.ndarray:
        return np.array(self.weights, dtype=np.float32)


def _p(name: str, label: str, rows, explanation: str) -> Preset:
    return Preset(name, label, tuple(tuple(float(v) for v in r) for r in rows), explanation)


_G5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        _p("identity", "Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
           "Copies each pixel unchanged: a baseline to compare the others with."),
        _p("edge", "Outline (the article's kernel)", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
           "Centre minus its eight neighbours: flat areas go to 0, outlines light up."),
        _p("sobel_x", "Sobel x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
           "Brightness change from left to right, smoothed vertically: finds vertical edges."),
        _p("sobel_y", "Sobel y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
           "Brightness change from top to bottom: finds horizontal edges."),
        _p("prewitt_x", "Prewitt x", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
           "Like Sobel x but with equal weights on the three rows."),
        _p("prewitt_y", "Prewitt y", [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
           "Like Sobel y but with equal weights on the three columns."),
        _p("scharr_x", "Scharr x", [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]],
           "A horizontal gradient tuned to respond the same way to edges at any angle."),
        _p("scharr_y", "Scharr y", [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],
           "The vertical counterpart of Scharr x."),
        _p("laplacian", "Laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
           "Second derivative: responds where brightness curves, on both sides of an edge."),
        _p("box_blur_3", "Box blur 3×3", np.full((3, 3), 1 / 9),
           "Each output is the plain average of a 3×3 patch."),
        _p("box_blur_5", "Box blur 5×5", np.full((5, 5), 1 / 25),
           "Averages a 5×5 patch: a stronger blur."),
        _p("gaussian_3", "Gaussian blur 3×3", np.outer([1, 2, 1], [1, 2, 1]) / 16.0,
           "A weighted average that favours the centre: a soft blur without blockiness."),
        _p("gaussian_5", "Gaussian blur 5×5", _G5,
           "A wider Gaussian: smooths more while keeping the centre strongest."),
        _p("sharpen", "Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
           "Identity plus an edge boost: details look crisper."),
        _p("emboss", "Emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
           "Lights one diagonal side of each edge and shades the other, like a relief."),
        _p("motion_blur", "Motion blur", np.eye(5) / 5.0,
           "Averages along a diagonal line, as if the camera moved during the shot."),
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
