"""A plain NumPy reference for the pipeline, written from the definitions (no TensorFlow).

Everything here works in float64 on arrays of shape (height, width, channels), so the
tests can tell TensorFlow's float32 results from the exact values. The spec reader
below is deliberately separate from ``cnn_core.spec``: it applies the documented
defaults itself, so a wrong default in the core shows up as a value mismatch.
"""

from __future__ import annotations

import math

import numpy as np

LUMA = (0.2989, 0.5870, 0.1140)  # tf.image.rgb_to_grayscale's weights
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME rule: the output is ceil(size / stride); the extra pixel, if odd, goes after."""
    span = dilation * (kernel - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def _pads(shape, kernel, strides, dilation, padding) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "same":
        return tuple(same_pads(shape[a], kernel[a], strides[a], dilation[a]) for a in (0, 1))  # type: ignore[return-value]
    if padding == "valid":
        return ((0, 0), (0, 0))
    if np.isscalar(padding):
        p = int(padding)
        return ((p, p), (p, p))
    (t, b), (left, r) = padding
    return ((int(t), int(b)), (int(left), int(r)))


def np_conv2d(x, kernel, strides=1, padding="same", dilation=1, bias=None) -> np.ndarray:
    """Cross-correlation of x (H, W, C) with kernel (kh, kw, C, F) -> (Ho, Wo, F), in float64.

    ``padding`` is "same", "valid", an int p, or ((top, bottom), (left, right)).
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw, c, f = k.shape
    assert x.shape[2] == c, (x.shape, k.shape)
    sh, sw = _pair(strides)
    dh, dw = _pair(dilation)
    (pt, pb), (pl, pr) = _pads(x.shape, (kh, kw), (sh, sw), (dh, dw), padding)
    xp = np.zeros((x.shape[0] + pt + pb, x.shape[1] + pl + pr, c))
    xp[pt : pt + x.shape[0], pl : pl + x.shape[1]] = x
    ho = (xp.shape[0] - (dh * (kh - 1) + 1)) // sh + 1
    wo = (xp.shape[1] - (dw * (kw - 1) + 1)) // sw + 1
    assert ho >= 1 and wo >= 1, "the window does not fit"
    out = np.zeros((ho, wo, f))
    for i in range(kh):
        for j in range(kw):
            patch = xp[i * dh : i * dh + (ho - 1) * sh + 1 : sh, j * dw : j * dw + (wo - 1) * sw + 1 : sw, :]
            out += patch @ k[i, j]  # (ho, wo, c) @ (c, f)
    if bias is not None:
        out += np.broadcast_to(np.asarray(bias, dtype=np.float64), (f,))
    return out


def np_activation(x, function: str = "relu", alpha: float = 0.2) -> np.ndarray:
    """Element-wise activation in float64."""
    x = np.asarray(x, dtype=np.float64)
    if function == "relu":
        return np.maximum(x, 0.0)
    if function == "leaky_relu":
        return np.where(x > 0, x, alpha * x)
    if function == "tanh":
        return np.tanh(x)
    if function == "sigmoid":
        e = np.exp(-np.abs(x))  # never overflows
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if function == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    if function == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if function == "linear":
        return x.copy()
    raise ValueError(function)


def np_pool2d(x, mode: str = "max", pool_size=2, strides=None, padding: str = "valid") -> np.ndarray:
    """Max or average pooling of x (H, W, C) in float64.

    With "same", max ignores the padding and average divides by the number of real cells.
    """
    x = np.asarray(x, dtype=np.float64)
    ph, pw = _pair(pool_size)
    sh, sw = _pair(strides if strides is not None else pool_size)
    (pt, pb), (pl, pr) = _pads(x.shape, (ph, pw), (sh, sw), (1, 1), padding)
    h, w, c = x.shape
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((h + pt + pb, w + pl + pr, c), fill)
    xp[pt : pt + h, pl : pl + w] = x
    real = np.zeros(xp.shape[:2])
    real[pt : pt + h, pl : pl + w] = 1.0
    ho = (xp.shape[0] - ph) // sh + 1
    wo = (xp.shape[1] - pw) // sw + 1
    out = np.empty((ho, wo, c))
    for i in range(ho):
        for j in range(wo):
            win = xp[i * sh : i * sh + ph, j * sw : j * sw + pw]
            if mode == "max":
                out[i, j] = win.max(axis=(0, 1))
            else:
                out[i, j] = win.sum(axis=(0, 1)) / real[i * sh : i * sh + ph, j * sw : j * sw + pw].sum()
    return out


def _resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of an antialiased linear resize: a triangle filter widened when shrinking."""
    scale = n_out / n_in
    widen = max(1.0 / scale, 1.0)
    centres = (np.arange(n_out) + 0.5) / scale  # where each output pixel's centre falls in the input
    dist = ((np.arange(n_in) + 0.5)[None, :] - centres[:, None]) / widen
    w = np.maximum(0.0, 1.0 - np.abs(dist))
    return w / w.sum(axis=1, keepdims=True)


def np_resize(x, size) -> np.ndarray:
    """Antialiased bilinear resize of x (H, W, C) to (height, width), half-pixel centres, in float64."""
    x = np.asarray(x, dtype=np.float64)
    wh = _resize_weights(x.shape[0], int(size[0]))
    ww = _resize_weights(x.shape[1], int(size[1]))
    rows = np.tensordot(wh, x, axes=(1, 0))  # (out_h, W, C)
    return np.tensordot(rows, ww, axes=(1, 1)).transpose(0, 2, 1)  # (out_h, out_w, C)


def np_prepare_input(image, color: str = "rgb", size=None) -> np.ndarray:
    """uint8 (H, W) or (H, W, 1|3|4) -> float64 in [0, 1], (H, W, 1) for grayscale or (H, W, 3) for rgb."""
    x = np.asarray(image).astype(np.float64) / 255.0
    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape[2] == 4:
        x = x[:, :, :3]
    if color == "grayscale" and x.shape[2] == 3:
        x = x @ np.array(LUMA)[:, None]
    elif color == "rgb" and x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    if size is not None and tuple(size) != x.shape[:2]:
        x = np_resize(x, size)
    return x


# --------------------------------------------------------------------------- whole stacks from a spec dict

PRESET_WEIGHTS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "prewitt_x": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "prewitt_y": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "scharr_x": [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]],
    "scharr_y": [[-3, -10, -3], [0, 0, 0], [3, 10, 3]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box_blur_3": (np.ones((3, 3)) / 9).tolist(),
    "box_blur_5": (np.ones((5, 5)) / 25).tolist(),
    "gaussian_3": (np.outer([1, 2, 1], [1, 2, 1]) / 16).tolist(),
    "gaussian_5": (np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256).tolist(),
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
    "motion_blur": (np.eye(5) / 5).tolist(),
}


def np_initialiser(init: str, seed: int, size, depth: int, n_filters: int) -> np.ndarray:
    """A seeded (kh, kw, depth) kernel as documented: He normal or Glorot uniform from NumPy's default_rng."""
    kh, kw = _pair(size)
    fan_in, fan_out = kh * kw * depth, kh * kw * n_filters
    rng = np.random.default_rng(seed)
    if init == "he_normal":
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(kh, kw, depth))
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(kh, kw, depth))


def np_layer_kernel(filters: list, depth: int) -> np.ndarray:
    """(kh, kw, depth, F) from a conv2d layer's "filters" list; a 2-D kernel is repeated over the depth."""
    slices = []
    for f in filters:
        if isinstance(f, str):
            w = np.array(PRESET_WEIGHTS[f], dtype=np.float64)
        elif isinstance(f, dict):
            w = np_initialiser(f["init"], f.get("seed", 0), f.get("size", 3), depth, len(filters))
        else:
            w = np.array(f, dtype=np.float64)
        if w.ndim == 2:
            w = np.repeat(w[:, :, None], depth, axis=2)
        slices.append(w)
    # TensorFlow holds the weights as float32; round them the same way so only the arithmetic differs.
    return np.stack(slices, axis=3).astype(np.float32).astype(np.float64)


def np_run_layer(x: np.ndarray, layer: dict) -> np.ndarray:
    """One layer of a spec dict, with the documented defaults, on float64 (H, W, C)."""
    kind = layer["type"]
    if kind == "conv2d":
        k = np_layer_kernel(layer["filters"], x.shape[2])
        bias = layer.get("bias", 0.0)
        bias = np.array(bias if isinstance(bias, list) else [bias] * k.shape[3], dtype=np.float32)
        return np_conv2d(x, k, layer.get("stride", 1), layer.get("padding", "same"), layer.get("dilation", 1), bias)
    if kind == "activation":
        return np_activation(x, layer.get("function", "relu"), layer.get("alpha", 0.2))
    if kind == "pool2d":
        size = layer.get("size", 2)
        return np_pool2d(x, layer.get("mode", "max"), size, layer.get("stride", size), layer.get("padding", "valid"))
    raise ValueError(kind)


def np_run_pipeline(image, spec: dict) -> list[np.ndarray]:
    """The prepared input and every layer's maps, float64 (H, W, C) each, for a spec dict."""
    return [x for x, _ in np_run_pipeline_with_bounds(image, spec)]


# How much each activation can stretch a difference between two inputs (its largest slope).
_SLOPES = {"relu": 1.0, "tanh": 1.0, "sigmoid": 0.25, "elu": 1.0, "gelu": 1.13, "linear": 1.0}


def np_run_pipeline_with_bounds(image, spec: dict) -> list[tuple[np.ndarray, float]]:
    """Each stage's maps and a bound on the size of the numbers that went into it.

    The bound is what float32 rounding errors scale with: a convolution's error grows
    with the sum of |weight|·|input|, not with its (possibly cancelled) result.
    """
    inp = spec.get("input") or {}
    x = np_prepare_input(image, inp.get("color", "rgb"), inp.get("size"))
    bound = 1.0
    out = [(x, bound)]
    for layer in spec.get("layers", []):
        # Each stage is handed on as float32, as the pipeline stores it.
        x32 = x.astype(np.float32).astype(np.float64)
        kind = layer["type"]
        if kind == "conv2d":
            k = np_layer_kernel(layer["filters"], x32.shape[2])
            bias = layer.get("bias", 0.0)
            gain = float(np.abs(k).sum(axis=(0, 1, 2)).max())
            bound = bound * gain + float(np.max(np.abs(bias)))
        elif kind == "activation":
            fn = layer.get("function", "relu")
            bound *= max(1.0, abs(layer.get("alpha", 0.2))) if fn == "leaky_relu" else max(1.0, _SLOPES[fn])
        x = np_run_layer(x32, layer)
        out.append((x, max(bound, float(np.max(np.abs(x)))) if x.size else bound))
    return out


def assert_maps_close(actual, reference, rtol: float = 1e-5, scale: float | None = None, what: str = "") -> None:
    """Shapes equal, and values equal to ``rtol`` relative plus ``rtol`` times ``scale``.

    ``scale`` defaults to the reference's largest magnitude; pass a bound from
    ``np_run_pipeline_with_bounds`` where sums may cancel to near zero.
    """
    actual = np.asarray(actual)
    reference = np.asarray(reference, dtype=np.float64)
    assert actual.shape == reference.shape, f"{what}: shape {actual.shape} != reference {reference.shape}"
    if scale is None:
        scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    np.testing.assert_allclose(actual, reference, rtol=rtol, atol=rtol * scale + 1e-12, err_msg=what)


def assert_stages_match(maps: list, image, spec: dict, rtol: float = 1e-5) -> None:
    """Every stage's maps (e.g. ``[s.maps for s in run_pipeline(...)]``) match the reference chain."""
    ref = np_run_pipeline_with_bounds(image, spec)
    assert len(maps) == len(ref), f"{len(maps)} stages, reference has {len(ref)}"
    for i, (m, (r, bound)) in enumerate(zip(maps, ref)):
        assert np.asarray(m).dtype == np.float32, f"stage {i} is {np.asarray(m).dtype}"
        assert_maps_close(m, r, rtol=rtol, scale=bound, what=f"stage {i}")
