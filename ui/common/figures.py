"""Plotly figures for feature maps: a small PNG for the picture, a sparse grid for hover values."""

from __future__ import annotations

import base64
import math

import numpy as np
import plotly.graph_objects as go

from cnn_core import render
from ui.common.service import SERVICE

try:  # Plotly encodes with orjson when it is installed (requirements.txt); its Fragment holds finished JSON
    import orjson as _orjson

    _Fragment = getattr(_orjson, "Fragment", None)
except ImportError:  # pragma: no cover - orjson is a requirement; without it figures are encoded every time
    _orjson, _Fragment = None, None

# The picture is sent at most this many pixels on its longer side...
DISPLAY_SIDE = 480
# ...and hover values for every pixel of maps up to HOVER_SIDE pixels a side (so zooming in reads each
# pixel; 300×300 float32 is 360 kB per map). A larger map hovers on a grid of at most HOVER_GRID points a
# side, sampled every few pixels, and says so: at 1024² a 256² grid sent 1.3 MB per slider step and cost
# the server ~2 ms of JSON and hashing per map (benchmarks, 2026-11-25); 160 sends about a third of that.
# On the Playground and the Layer stack the inspector reads any single value exactly.
HOVER_SIDE = 320
HOVER_GRID = 160


def hover_steps(h: int, w: int, hover_side: int = HOVER_SIDE, grid: int = HOVER_GRID) -> tuple[int, int]:
    """(row step, column step) of the hover grid of an h × w map: 1 (every pixel) up to ``hover_side`` a side."""
    if max(h, w) <= hover_side:
        return 1, 1
    return max(1, math.ceil(h / grid)), max(1, math.ceil(w / grid))


# Encoded pictures and whole figure specs (which hold them), keyed by content identity (stage key, channel, scale).
_URIS = SERVICE.cache("map pictures")
# Maps box-averaged for display, shared by a map's figure and the inspector's clickable picture of it.
_SHRUNK = SERVICE.cache("shrunk maps")


def shrunk(values: np.ndarray, side: int, key: tuple | None = None) -> np.ndarray:
    """float (height, width) values box-averaged to at most ``side`` pixels a side (``render.shrink_values``),
    kept under ``key`` (anything that fully identifies ``values``, e.g. (stage key, channel)) when given."""
    if key is None:
        return render.shrink_values(values, side)
    hit = _SHRUNK.get((key, side))
    if hit is None:
        hit = render.shrink_values(values, side)
        _SHRUNK.put((key, side), hit, hit.nbytes)
    return hit


def channel_names(channels: int) -> list[str]:
    """What a hover calls each channel of a multi-channel map: R, G, B for a colour picture, else c0, c1, ..."""
    return ["R", "G", "B"] if channels == 3 else [f"c{i}" for i in range(channels)]


def kept(key: tuple, make):
    """The value cached under ``key`` in the map pictures' cache, made by ``make()`` and kept when missing (a dict
    of text counts its strings twice, for the text and its JSON; a tuple's bytes count once)."""
    hit = _URIS.get(key)
    if hit is None:
        hit = make()
        size = None
        if isinstance(hit, (dict, tuple)):
            size = sum(len(v) for v in _strings(hit)) * 2 + sum(len(v) for v in _blobs(hit)) + 4096
        _URIS.put(key, hit, size)
    return hit


def _blobs(value):
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _blobs(v)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def picture_uri(
    values: np.ndarray,
    scale: render.ColorScale | None,
    rgb,
    display_side: int = DISPLAY_SIDE,
    cache_key: tuple | None = None,
) -> str:
    """The map as a PNG data URI at most ``display_side`` pixels on its longer side.

    Large maps are shrunk (box average of the values) before colouring: the
    colouring then costs a few milliseconds whatever the map's size. ``rgb``,
    a picture or a function making one, replaces the colour mapping (the input photo).
    """
    key = None if cache_key is None else (cache_key, scale, display_side, rgb is None)
    if key is not None:
        hit = _URIS.get(key)
        if hit is not None:
            return hit
    if rgb is None:
        png = render.indexed_png(shrunk(values, display_side, cache_key), scale)
    else:
        png = render.png_bytes(render.shrink_for_display(rgb() if callable(rgb) else rgb, display_side))
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    if key is not None:
        _URIS.put(key, uri)
    return uri


def _colorscale(cmap: str) -> list[list]:
    table = render.lut(cmap)
    idx = np.linspace(0, 255, 11).round().astype(int)
    return [[i / 10, "rgb({},{},{})".format(*table[j])] for i, j in enumerate(idx)]


class FigureSpec(dict):
    """A finished figure dict that keeps its own JSON once made.

    ``st.plotly_chart`` turns every figure into JSON with ``plotly.io.to_json``, which asks the object for
    ``to_plotly_json()`` (Plotly's public protocol) before encoding it with orjson. A spec kept in a cache
    (an unchanged map) then hands back its JSON as an ``orjson.Fragment``: the dict is encoded once, not on
    every rerun that draws it. The dict itself stays complete for anything that reads it.
    """

    __slots__ = ("_json",)

    def to_plotly_json(self):
        if _Fragment is None:  # orjson missing: Plotly's json engine encodes the dict as it is
            return self
        cached = getattr(self, "_json", None)
        if cached is None:
            try:  # Plotly's own options, so the text is what Plotly would have made
                cached = _Fragment(_orjson.dumps(self, option=_orjson.OPT_SERIALIZE_NUMPY | _orjson.OPT_NON_STR_KEYS))
            except TypeError:  # a value orjson can't take as it is: Plotly cleans the dict and encodes it itself
                return self
            self._json = cached
        return cached


class PrebuiltFigure(go.Figure):
    """A figure whose JSON we built ourselves.

    Plotly validates every property as a figure is assembled, which costs
    tens of milliseconds per map. These figures are built from known-good
    parts, so Streamlit takes the finished dict straight from ``to_dict``.
    """

    def __init__(self, spec: dict) -> None:
        # An empty template: Plotly would otherwise copy its default template into a layout never sent.
        super().__init__(layout={"template": {}})
        self._spec = spec if isinstance(spec, FigureSpec) else FigureSpec(spec)

    def to_dict(self) -> dict:
        return self._spec


def _sampled_note(step_y: int, step_x: int) -> str:
    if step_y == step_x == 1:
        return ""
    every = f"{step_y}" if step_y == step_x else f"{step_y}×{step_x}"
    return f" <i>(hover every {every} px)</i>"


def _typed(a: np.ndarray) -> dict:
    """A NumPy array in plotly.js's compact typed-array form (base64 of the raw values)."""
    a = np.ascontiguousarray(a)
    code = {np.dtype(np.float32): "f4", np.dtype(np.int32): "i4", np.dtype(np.float64): "f8", np.dtype(np.uint8): "u1"}[
        a.dtype
    ]
    out = {"dtype": code, "bdata": base64.b64encode(a.tobytes()).decode()}
    if a.ndim > 1:
        out["shape"] = ",".join(str(n) for n in a.shape)
    return out


def map_figure(
    values: np.ndarray,
    scale: render.ColorScale | None,
    *,
    rgb=None,
    height: int = 300,
    hover_side: int = HOVER_SIDE,
    display_side: int = DISPLAY_SIDE,
    colorbar: bool = True,
    cache_key: tuple | None = None,
) -> go.Figure:
    """A zoomable figure of one map, (height, width) or (height, width, channels).

    The picture goes to the browser as one PNG (``rgb`` if given, else
    ``values`` coloured through ``scale``). Hovering shows the exact value at
    the pixel under the pointer: every pixel up to ``hover_side`` a side, a grid
    sampled every few pixels on larger maps (at most HOVER_GRID points a side; the hover says so) so the
    page stays light. ``cache_key`` (anything that fully
    identifies ``values``/``rgb``) lets an unchanged picture skip re-encoding.
    With a ``cache_key`` the whole figure is kept too: an unchanged map (the input while a weight moves) is
    neither built nor encoded again.
    """
    args = (values.shape, scale, rgb is None, height, hover_side, display_side, colorbar)
    key = None if cache_key is None else ("figure", cache_key, *args)
    if key is not None:
        hit = _URIS.get(key)
        if hit is not None:
            return PrebuiltFigure(hit)
    spec = _map_spec(values, scale, rgb, height, hover_side, display_side, colorbar, cache_key)
    if key is not None:
        _URIS.put(key, spec, _spec_bytes(spec))
    return PrebuiltFigure(spec)


def _spec_bytes(spec: FigureSpec) -> int:
    """About what a cached figure holds: its picture and its hover values (base64 text), and their JSON."""
    heat = spec["data"][0]
    text = [spec["layout"]["images"][0]["source"], heat["z"]["bdata"], heat.get("customdata", {}).get("bdata", "")]
    return 2 * sum(len(t) for t in text) + 4096


def _map_spec(values, scale, rgb, height, hover_side, display_side, colorbar, cache_key) -> FigureSpec:
    h, w = values.shape[:2]
    uri = picture_uri(values, scale, rgb, display_side, cache_key)
    step_y, step_x = hover_steps(h, w, hover_side)
    sampled = values[::step_y, ::step_x].astype(np.float32)
    if sampled.ndim == 3:  # colour input: show every channel's value
        # The hover reads customdata; z only gives the invisible heatmap its grid, so one byte a cell will do.
        z, custom = np.zeros(sampled.shape[:2], np.uint8), _typed(np.ascontiguousarray(sampled))
        names = channel_names(sampled.shape[2])
        values_tpl = " ".join(f"{n} %{{customdata[{i}]:.4f}}" for i, n in enumerate(names))
    else:
        z, custom, values_tpl = sampled, None, "value %{z:.5g}"
    # The picture spans pixel centres 0..w-1 / 0..h-1 whatever size it was sent at.
    heat = {
        "type": "heatmap",
        "z": _typed(z),
        "x": _typed(np.arange(0, w, step_x, dtype=np.int32)),
        "y": _typed(np.arange(0, h, step_y, dtype=np.int32)),
        "opacity": 0,
        "showscale": False,
        "colorscale": _colorscale(scale.cmap if scale else "gray"),
        "hovertemplate": "row %{y}, col %{x}" + _sampled_note(step_y, step_x) + "<br>" + values_tpl + "<extra></extra>",
    }
    if custom is not None:
        heat["customdata"] = custom
    data = [heat]
    if colorbar and scale is not None:
        # An invisible marker carries the colour bar, so the bar is drawn opaque while the heatmap is not.
        data.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "hoverinfo": "skip",
                "showlegend": False,
                "marker": {
                    "colorscale": _colorscale(scale.cmap),
                    "cmin": scale.vmin,
                    "cmax": scale.vmax,
                    "color": [scale.vmin],
                    "showscale": True,
                    "colorbar": {"thickness": 10, "len": 0.9, "tickfont": {"size": 10}, "outlinewidth": 0},
                },
            }
        )
    axis = {"showgrid": False, "zeroline": False, "visible": False, "constrain": "domain"}
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "dragmode": "zoom",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "paper_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {**axis, "range": [-0.5, w - 0.5]},
        "yaxis": {
            **axis,
            "range": [h - 0.5, -0.5],
            "scaleanchor": "x",
            "constraintoward": "middle",
        },
        "images": [
            {
                "source": uri,
                "xref": "x",
                "yref": "y",
                "x": -0.5,
                "y": -0.5,
                "sizex": w,
                "sizey": h,
                "sizing": "stretch",
                "layer": "below",
                "xanchor": "left",
                "yanchor": "top",
            }
        ],
    }
    return FigureSpec({"data": data, "layout": layout})


PLOTLY_CONFIG = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "scrollZoom": False,
}
