"""Seeded random convolution settings and inputs shared by the formulation tests, and their agreement rule."""

from __future__ import annotations

import numpy as np

PADDING_FORMS = ("same", "valid", "int", "pairs")


def random_padding(rng: np.random.Generator, form: str):
    """A padding of the given form: "same", "valid", an int on every side, or ((top, bottom), (left, right))."""
    if form == "int":
        return int(rng.integers(0, 3))
    if form == "pairs":
        return tuple((int(rng.integers(0, 3)), int(rng.integers(0, 4))) for _ in range(2))
    return form


def random_conv(
    rng: np.random.Generator,
    channels: tuple[int, int],
    form: str,
    *,
    max_kernel: int,
    max_stride: int,
    min_extra: int,
    max_side: int,
    bias_scale: float | None,
) -> tuple:
    """A random convolution on a random input.

    Args:
        rng: the seeded generator to draw from.
        channels: (in, out).
        form: one of PADDING_FORMS.
        max_kernel, max_stride: each side's kernel size and stride are drawn from 1 to these (dilation 1–2).
        min_extra: the input is at least this many pixels larger than the dilated kernel, minus 1.
        max_side: the input's sides are below this.
        bias_scale: a bias drawn from ±bias_scale, or None for no bias.

    Returns:
        (x (h, w, in), kernel (kh, kw, in, out), strides, padding, dilation, bias or None).
    """
    c, f = channels
    kh, kw = int(rng.integers(1, max_kernel + 1)), int(rng.integers(1, max_kernel + 1))
    strides = (int(rng.integers(1, max_stride + 1)), int(rng.integers(1, max_stride + 1)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = random_padding(rng, form)
    h = int(rng.integers(dilation[0] * (kh - 1) + min_extra, max_side))
    w = int(rng.integers(dilation[1] * (kw - 1) + min_extra, max_side))
    x = rng.standard_normal((h, w, c)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (kh, kw, c, f)).astype(np.float32)
    bias = None if bias_scale is None else rng.uniform(-bias_scale, bias_scale, f).astype(np.float32)
    return x, kernel, strides, padding, dilation, bias


def close_to_tf(got, ref, what: str) -> None:
    """Assert ``got`` matches TensorFlow's ``ref`` within 1e-5 of each value plus 1e-5 of the largest."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, tf.nn gives {ref.shape}"
    scale = float(np.max(np.abs(ref))) or 1.0
    err = np.abs(got.astype(np.float64) - ref)
    assert np.all(err <= 1e-5 * np.abs(ref) + 1e-5 * scale), f"{what}: worst error {err.max():.3g} (scale {scale:.3g})"
