"""The playground's widgets <-> a pipeline spec, so a shared link can set every control."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnn_core.spec import Activation, Conv2D, Pool2D, Spec

from .kernel_editor import MAX_SIZE

P = "pg"
STRIDES = (1, 2, 3, 4)
POOL_CHOICES = (1, 2, 3, 4, 5)


def _square(pair: tuple[int, int], allowed) -> int | None:
    return pair[0] if pair[0] == pair[1] and pair[0] in allowed else None


def widgets_from_spec(spec: Spec) -> tuple[dict[str, Any], np.ndarray, str | None] | None:
    """Widget values, kernel weights and preset for a spec the playground can show; None if it can't.

    The playground holds one convolution with one square 2-D kernel of size 1..7, one activation and an
    optional pooling layer, with square strides; anything else belongs on the Layer stack page.
    """
    layers = spec.layers
    if len(layers) not in (2, 3):
        return None
    conv, act = layers[0], layers[1]
    pool = layers[2] if len(layers) == 3 else None
    if not isinstance(conv, Conv2D) or not isinstance(act, Activation):
        return None
    if pool is not None and not isinstance(pool, Pool2D):
        return None
    if len(conv.filters) != 1:
        return None
    f = conv.filters[0]
    kh, kw = f.size
    if kh != kw or kh > MAX_SIZE or f.init is not None or f.depth is not None:
        return None
    stride, dilation = _square(conv.stride, STRIDES), _square(conv.dilation, STRIDES)
    if stride is None or dilation is None or abs(conv.bias[0]) > 2 or not 0 <= act.alpha <= 1:
        return None
    values: dict[str, Any] = {
        f"{P}_color": spec.input.color,
        f"{P}_resize": spec.input.size is not None,
        f"{P}_stride": stride,
        f"{P}_dilation": dilation,
        f"{P}_bias": float(conv.bias[0]),
        f"{P}_act": act.function,
        f"{P}_alpha": float(act.alpha),
        f"{P}_pool_on": pool is not None,
    }
    if spec.input.size is not None:
        values[f"{P}_h"], values[f"{P}_w"] = spec.input.size
    if isinstance(conv.padding, str):
        values[f"{P}_padding"] = conv.padding
    else:
        (t, b), (left, r) = conv.padding
        if not t == b == left == r:
            return None
        values[f"{P}_padding"] = "zeros on every side"
        values[f"{P}_pad"] = t
    if pool is not None:
        size, pstride = _square(pool.size, POOL_CHOICES), _square(pool.stride, POOL_CHOICES)
        if size is None or pstride is None:
            return None
        values.update({
            f"{P}_pool_mode": pool.mode, f"{P}_pool_size": size,
            f"{P}_pool_stride": pstride, f"{P}_pool_padding": pool.padding,
        })
    from cnn_core.kernels import preset

    weights = preset(f.preset) if f.preset is not None else np.array(f.weights, dtype=np.float64)
    return values, np.asarray(weights, dtype=np.float64), f.preset
