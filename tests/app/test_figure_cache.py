"""A map's figure is kept per content: an unchanged map (the input while a weight moves) is neither built nor
encoded again, a changed one is, and what Streamlit sends is exactly what Plotly's own encoder makes."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.io as pio

from cnn_core import render
from ui.common import figures


def _values(seed: int, shape=(600, 500)) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _plotly_json(fig) -> dict:
    """The figure as Streamlit sends it (plotly.io.to_json, orjson engine), read back."""
    return json.loads(pio.to_json(fig, validate=False))


def _reference_json(fig) -> dict:
    """The same figure encoded by Plotly's plain json engine from a copy of the dict (no kept JSON)."""
    return json.loads(pio.to_json(figures.PrebuiltFigure(json.loads(json.dumps(fig.to_dict()))), engine="json"))


def test_an_unchanged_map_reuses_its_figure_and_its_json():
    v = _values(1)
    scale = render.scale_for(float(v.min()), float(v.max()))
    key = ("test-figure-cache", "unchanged", 0)
    first = figures.map_figure(v, scale, cache_key=key)
    first_json = _plotly_json(first)
    again = figures.map_figure(v, scale, cache_key=key)
    assert again.to_dict() is first.to_dict()  # kept, not rebuilt
    assert _plotly_json(again) == first_json == _reference_json(first)


def test_a_changed_scale_or_size_builds_a_new_figure():
    v = _values(2)
    key = ("test-figure-cache", "changed", 0)
    a = figures.map_figure(v, render.scale_for(-4.0, 4.0), cache_key=key)
    b = figures.map_figure(v, render.scale_for(-2.0, 2.0), cache_key=key)
    c = figures.map_figure(v, render.scale_for(-4.0, 4.0), cache_key=key, display_side=128)
    assert a.to_dict() is not b.to_dict() and a.to_dict() is not c.to_dict()
    marker = lambda f: _plotly_json(f)["data"][1]["marker"]  # noqa: E731
    assert (marker(a)["cmin"], marker(a)["cmax"]) == (-4.0, 4.0)
    assert (marker(b)["cmin"], marker(b)["cmax"]) == (-2.0, 2.0)


def test_kept_figures_hover_the_exact_float32_values():
    """The kept JSON carries the hover grid as float32 bytes, equal to the map's own values at the grid's points."""
    v = _values(3, (640, 600))
    key = ("test-figure-cache", "hover", 0)
    figures.map_figure(v, render.scale_for(-4.0, 4.0), cache_key=key)
    heat = _plotly_json(figures.map_figure(v, render.scale_for(-4.0, 4.0), cache_key=key))["data"][0]
    sy, sx = figures.hover_steps(*v.shape)
    assert sy == sx > 1  # a sampled grid, and the hover says so
    assert f"hover every {sy} px" in heat["hovertemplate"]
    z = np.frombuffer(base64.b64decode(heat["z"]["bdata"]), np.float32).reshape(v[::sy, ::sx].shape)
    np.testing.assert_array_equal(z, v[::sy, ::sx])


def test_a_colour_input_figure_is_kept_with_every_channel():
    v = np.random.default_rng(4).random((400, 360, 3)).astype(np.float32)
    key = ("test-figure-cache", "input", -1)
    first = figures.map_figure(v, None, rgb=lambda: render.input_rgb(v), cache_key=key)
    calls = []
    again = figures.map_figure(v, None, rgb=lambda: calls.append(1) or render.input_rgb(v), cache_key=key)
    assert not calls  # the picture isn't made again
    assert _plotly_json(again) == _reference_json(first)
    custom = _plotly_json(again)["data"][0]["customdata"]
    sy, sx = figures.hover_steps(*v.shape[:2])
    got = np.frombuffer(base64.b64decode(custom["bdata"]), np.float32).reshape(v[::sy, ::sx].shape)
    np.testing.assert_array_equal(got, v[::sy, ::sx])


def test_figures_without_a_cache_key_are_built_each_time():
    v = _values(5, (64, 64))
    a = figures.map_figure(v, render.scale_for(-4.0, 4.0))
    b = figures.map_figure(v, render.scale_for(-4.0, 4.0))
    assert a.to_dict() is not b.to_dict()
    assert _plotly_json(a) == _plotly_json(b) == _reference_json(a)
