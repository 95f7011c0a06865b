"""The Trained network page's state in its address, and links that open one learned filter elsewhere.

    >>> params = encode_view(NetView(source="sample", shape="star", seed=3))
    >>> params
    {'p': 'network', 'in': 'sample', 'cls': 'star', 'seed': '3', 'k': 'pred', 'v': 'auto.layer'}
    >>> view, warning = decode_view(params)

A drawn or uploaded picture travels as the small image the network sees (``img``, at most 64×64, via
``share.embed_image``). Like ``share.decode_state``, decoding never raises: anything malformed gives the
default view and one warning.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import share
from .images import decode_image
from .render import COLORMAPS
from .shapes_data import CLASSES
from .spec import Spec, parse_spec

PAGE = "network"
SOURCES = ("sample", "image")  # a generated sample, or the picture in ``img`` (drawn or uploaded)
MAX_SEED = 99_999
_LIMITS = {"p": 16, "in": 8, "cls": 16, "seed": 6, "k": 16, "v": 32, "img": share.MAX_IMAGE_CHARS}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
WEIGHT_DECIMALS = 4  # weights in filter links are rounded to this many decimals, to keep links short


@dataclass(frozen=True)
class NetView:
    """What the page shows.

    Attributes:
        source: "sample" or "image".
        shape: the generated sample's class name.
        seed: which sample of that class (0 to ``MAX_SEED``).
        explain: "pred" for the predicted class, or a class name, for contributions and Grad-CAM.
        cmap, scale: how maps are coloured (``render.COLORMAPS``, ``share.SCALE_MODES``).
        image: PNG or JPEG bytes of the input when ``source`` is "image".
    """

    source: str = "sample"
    shape: str = CLASSES[3]
    seed: int = 0
    explain: str = "pred"
    cmap: str = "auto"
    scale: str = "layer"
    image: bytes | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_view(view: NetView) -> dict[str, str]:
    """The view as query parameters: p, in, cls, seed, k, v and, for a drawn or uploaded picture, img."""
    params = {"p": PAGE, "in": view.source}
    if view.source == "sample":
        params["cls"] = view.shape
        params["seed"] = str(view.seed)
    params["k"] = view.explain
    params["v"] = f"{view.cmap}.{view.scale}"
    if view.source == "image" and view.image:
        params["img"] = _b64(view.image)
    return params


def decode_view(params: Mapping[str, Any]) -> tuple[NetView | None, str | None]:
    """(view, None) for a good link, (None, None) for an empty query or another page's, (None, warning) for a
    bad one. Never raises."""
    view, reason = share.read_safely(_decode, params)
    if reason is None:
        return view, None
    return None, f"This link could not be used: {reason}. Showing a generated sample instead."


def _decode(params: Mapping[str, Any]) -> NetView | None:
    q = _single_values(params)
    if not q or q.get("p") != PAGE:
        return None
    _check_parts(q)
    source = q.get("in", "sample")
    if source not in SOURCES:
        raise share.LinkRefused(f"its input must be one of {', '.join(SOURCES)}")
    shape = q.get("cls", NetView.shape)
    if shape not in CLASSES:
        raise share.LinkRefused(f"it names a shape this network doesn't know; the shapes are {', '.join(CLASSES)}")
    seed_text = q.get("seed", "0")
    if not seed_text.isdigit() or int(seed_text) > MAX_SEED:
        raise share.LinkRefused(f"its seed must be a whole number from 0 to {MAX_SEED}")
    explain = q.get("k", "pred")
    if explain != "pred" and explain not in CLASSES:
        raise share.LinkRefused(f"the class to explain must be pred or one of {', '.join(CLASSES)}")
    cmap, _, scale = q.get("v", "auto.layer").partition(".")
    if cmap not in COLORMAPS or scale not in share.SCALE_MODES:
        raise share.LinkRefused(f"its colour settings are not valid; colour maps are {', '.join(COLORMAPS)}")
    image = _decode_picture(q.get("img")) if source == "image" else None
    return NetView(source, shape, int(seed_text), explain, cmap, scale, image)


def _single_values(params: Mapping[str, Any]) -> dict[str, Any]:
    """The query with each part's one value (a list of one is unwrapped; a repeated part is refused)."""
    q = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise share.LinkRefused(f"its part {key} is given {len(value)} times")
            value = value[0]
        q[key] = value
    return q


def _check_parts(q: Mapping[str, Any]) -> None:
    """Refuse a part this page doesn't know and one longer than its limit."""
    for key, value in q.items():
        if key not in _LIMITS:
            raise share.LinkRefused(f"it has a part this page does not know; the parts are {', '.join(_LIMITS)}")
        if not isinstance(value, str) or len(value) > _LIMITS[key]:
            raise share.LinkRefused(f"its part {key} is too long (at most {_LIMITS[key]:,} characters)")


def _decode_picture(text: str | None) -> bytes:
    """The encoded picture of a link's ``img`` part, checked to decode and to be at most 128 pixels a side."""
    if not text or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise share.LinkRefused("its picture is missing or not valid base64url text")
    image = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    picture = decode_image(image, max_pixels=share.MAX_IMAGE_PIXELS)  # raises ImageError on anything odd
    if max(picture.shape[:2]) > 128:
        raise share.LinkRefused("its picture is larger than 128 pixels a side")
    return image


def link_picture(picture: np.ndarray) -> bytes | None:
    """The network's 64×64 input (uint8 (64, 64, 3)) as bytes small enough for a link, or None."""
    return share.embed_image(picture)


# --------------------------------------------------------------------------- one learned filter, elsewhere


def _round(a) -> list:
    return np.round(np.asarray(a, dtype=np.float64), WEIGHT_DECIMALS).tolist()


def playground_spec(kernel: np.ndarray, bias: float, in_channel: int, pool: bool) -> Spec:
    """The Playground's one-filter stack for one learned kernel slice, applied to the picture in grey.

    Args:
        kernel: one filter's float (3, 3, in_channels) weights.
        bias: the filter's bias (the Playground allows −2 to 2; it is clipped there).
        in_channel: which input channel's 3×3 slice to take.
        pool: add the 2×2 max pooling that follows the layer in the network.
    """
    layers = [
        {
            "type": "conv2d",
            "filters": [_round(kernel[:, :, in_channel])],
            "padding": "valid",
            "bias": float(np.clip(round(float(bias), WEIGHT_DECIMALS), -2, 2)),
        },
        {"type": "activation", "function": "relu"},
    ]
    if pool:
        layers.append({"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "valid"})
    return parse_spec({"version": 1, "input": {"color": "grayscale", "size": [64, 64]}, "layers": layers})


def stack_spec(convs: list[tuple[np.ndarray, np.ndarray]], layer: int, filter_index: int) -> Spec:
    """The network's own layers up to conv ``layer``, which keeps only filter ``filter_index`` (a 3-D kernel).

    Args:
        convs: each conv layer's (kernel (3, 3, in, out), bias (out,)), in order.
        layer: 0 to 3, which conv layer.
        filter_index: which of its filters.

    Returns:
        A spec on the 64×64 RGB picture: conv → ReLU (→ max pool after every second conv) … and the chosen
        filter's conv → ReLU. Weights are rounded to ``WEIGHT_DECIMALS`` decimals.
    """
    layers: list = []
    for i in range(layer + 1):
        kernel, bias = convs[i]
        keep = list(range(kernel.shape[3])) if i < layer else [filter_index]
        layers.append(
            {
                "type": "conv2d",
                "filters": [_round(kernel[:, :, :, f]) for f in keep],
                "padding": "valid",
                "bias": _round(np.asarray(bias)[keep]),
            }
        )
        layers.append({"type": "activation", "function": "relu"})
        if i < layer and i % 2 == 1:
            layers.append({"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "valid"})
    return parse_spec({"version": 1, "input": {"color": "rgb", "size": [64, 64]}, "layers": layers})


def filter_link(base_url: str, page: str, spec: Spec, image: bytes | None) -> tuple[str | None, str | None]:
    """(url, None) for a link to ``page`` ("playground" or "stack") that shows ``spec`` on ``image``, or
    (None, why) when it would be too long for a link."""
    state = share.LinkState(page=page, sample=None if image else "camera", spec=spec, image=image)
    problem = share.link_problem(share.encode_state(state))
    if problem:
        return None, problem
    return share.share_url(base_url, state), None
