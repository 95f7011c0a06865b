"""Property tests: random valid stacks match the reference; random bad input only ever raises CnnError."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cnn_core
from cnn_core import CnnError, ImageError, SpecError
from tests.core.np_reference import assert_stages_match, np_run_pipeline

SETTINGS = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
PRESETS_3X3 = sorted(n for n, p in cnn_core.PRESETS.items() if len(p.weights) == 3 and len(p.weights[0]) == 3)
WORDS = [
    "version", "input", "layers", "type", "filters", "stride", "padding", "dilation", "bias", "function",
    "alpha", "mode", "size", "color", "init", "seed", "same", "valid", "conv2d", "pool2d", "activation",
    "edge", "relu", "leaky_relu", "max", "avg", "he_normal", "glorot_uniform", "grayscale", "rgb",
]  # fmt: skip


def _rng_weights(seed: int, shape) -> list:
    return np.round(np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape), 3).tolist()


def _one_or_pair(lo: int, hi: int):
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2, max_size=2))


def _maybe(d: dict, key: str, value) -> None:
    if value is not None:
        d[key] = value


@st.composite
def images(draw) -> np.ndarray:
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    shape = (h, w) if channels is None else (h, w, channels)
    return np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, 256, size=shape, dtype=np.uint8)


@st.composite
def conv_layers(draw, depth: int) -> dict:
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n = draw(st.integers(1, 3))
    three_d = draw(st.booleans())  # a layer's 3-D kernels all need the input's depth
    filters = []
    for _ in range(n):
        form = draw(st.sampled_from(["2d", "3d", "init", "preset"]))
        if form == "preset" and (kh, kw) == (3, 3):
            filters.append(draw(st.sampled_from(PRESETS_3X3)))
        elif form == "init":
            init = draw(st.sampled_from(["he_normal", "glorot_uniform"]))
            filters.append({"init": init, "seed": draw(st.integers(0, 2**31 - 1)), "size": [kh, kw]})
        else:
            shape = (kh, kw, depth) if three_d else (kh, kw)
            filters.append(_rng_weights(draw(st.integers(0, 10**6)), shape))
    layer: dict = {"type": "conv2d", "filters": filters}
    _maybe(layer, "stride", draw(st.none() | _one_or_pair(1, 3)))
    _maybe(layer, "dilation", draw(st.none() | _one_or_pair(1, 2)))
    pads = st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=2), min_size=2, max_size=2)
    _maybe(layer, "padding", draw(st.none() | st.sampled_from(["same", "valid"]) | st.integers(0, 2) | pads))
    bias = st.floats(-2, 2).map(lambda v: round(v, 3))
    _maybe(layer, "bias", draw(st.none() | bias | st.lists(bias, min_size=n, max_size=n)))
    return layer


@st.composite
def valid_cases(draw) -> tuple[np.ndarray, dict]:
    """A small image and a spec that parses; most also fit (the rest the plan refuses)."""
    image = draw(images())
    inp: dict = {}
    _maybe(inp, "color", draw(st.none() | st.sampled_from(["grayscale", "rgb"])))
    _maybe(inp, "size", draw(st.none() | st.lists(st.integers(1, 12), min_size=2, max_size=2)))
    depth = 1 if inp.get("color") == "grayscale" else 3
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv2d", "activation", "pool2d"]))
        if kind == "conv2d":
            layer = draw(conv_layers(depth))
            depth = len(layer["filters"])
        elif kind == "activation":
            layer = {"type": "activation"}
            _maybe(layer, "function", draw(st.none() | st.sampled_from(list(cnn_core.spec.ACTIVATIONS))))
            _maybe(layer, "alpha", draw(st.none() | st.sampled_from([0.0, 0.1, 0.3, 1.0, 2.5, -0.5])))
        else:
            layer = {"type": "pool2d"}
            _maybe(layer, "mode", draw(st.none() | st.sampled_from(["max", "avg"])))
            _maybe(layer, "size", draw(st.none() | _one_or_pair(1, 3)))
            _maybe(layer, "stride", draw(st.none() | _one_or_pair(1, 3)))
            _maybe(layer, "padding", draw(st.none() | st.sampled_from(["same", "valid"])))
        layers.append(layer)
    spec: dict = {"version": 1, "layers": layers}
    _maybe(spec, "input", inp if inp or draw(st.booleans()) else None)
    return image, spec


def _expected_length(size: int, kernel: int, stride: int, dilation: int, padding) -> int:
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        return math.ceil(size / stride)
    before, after = (0, 0) if padding == "valid" else padding
    return math.floor((size + before + after - span) / stride) + 1


def _pair(v, default):
    v = default if v is None else v
    return (v, v) if isinstance(v, int) else tuple(v)


def _expected_shapes(image: np.ndarray, spec: dict) -> list[tuple[int, int, int]]:
    """Each stage's shape from the textbook formula, reading the spec's documented defaults."""
    inp = spec.get("input") or {}
    h, w = inp.get("size") or image.shape[:2]
    shapes = [(h, w, 1 if inp.get("color") == "grayscale" else 3)]
    for layer in spec["layers"]:
        h, w, c = shapes[-1]
        if layer["type"] == "conv2d":
            f = layer["filters"][0]
            k = (
                (len(cnn_core.PRESETS[f].weights), len(cnn_core.PRESETS[f].weights[0]))
                if isinstance(f, str)
                else f["size"]
                if isinstance(f, dict)
                else (len(f), len(f[0]))
            )
            s, d = _pair(layer.get("stride"), 1), _pair(layer.get("dilation"), 1)
            p = layer.get("padding", "same")
            if isinstance(p, int):
                p = [[p, p], [p, p]]
            ph, pw = (p, p) if isinstance(p, str) else p
            h, w, c = (
                _expected_length(h, k[0], s[0], d[0], ph),
                _expected_length(w, k[1], s[1], d[1], pw),
                len(layer["filters"]),
            )
        elif layer["type"] == "pool2d":
            k = _pair(layer.get("size"), 2)
            s = _pair(layer.get("stride"), k)
            p = layer.get("padding", "valid")
            h, w = _expected_length(h, k[0], s[0], 1, p), _expected_length(w, k[1], s[1], 1, p)
        shapes.append((h, w, c))
    return shapes


@SETTINGS
@given(case=valid_cases())
def test_valid_stacks_match_the_reference(case):
    image, spec = case
    expected = _expected_shapes(image, spec)
    if min(min(s[:2]) for s in expected) < 1:
        # Some layer's window does not fit: the plan must say which, and nothing may run.
        bad = next(i for i, s in enumerate(expected) if min(s[:2]) < 1)
        try:
            cnn_core.run_pipeline(image, spec)
        except SpecError as e:
            assert e.field.startswith(f"layers[{bad - 1}]") and "into nothing" in str(e)
        else:
            raise AssertionError(f"stage {bad} would be {expected[bad]}, yet it ran")
        assume(False)
    stages = cnn_core.run_pipeline(image, spec)
    assert [s.maps.shape for s in stages] == [s.plan.shape for s in stages] == expected
    for s in stages[1:]:
        assert [a.out for a in s.plan.arithmetic] in ([], list(s.maps.shape[:2]))
    assert_stages_match([s.maps for s in stages], image, spec, rtol=1e-4)
    # What the spec reads back as runs to the very same maps.
    again = cnn_core.run_pipeline(image, cnn_core.parse_spec(spec).to_json())
    for a, b in zip(stages, again):
        np.testing.assert_array_equal(a.maps, b.maps)


def test_the_valid_strategy_mostly_fits():
    """Guard the property above: it must exercise many stacks that run, not assume them all away."""
    fits = []

    @SETTINGS
    @given(case=valid_cases())
    def count(case):
        image, spec = case
        fits.append(min(min(s[:2]) for s in _expected_shapes(image, spec)) >= 1 and len(spec["layers"]) > 0)

    count()
    assert sum(fits) >= 0.5 * len(fits) and len(fits) >= 40


# --------------------------------------------------------------------------- invalid input never escapes as anything but CnnError

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-3, 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(WORDS),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=16,
)


def _locations(node, out: list) -> list:
    """Every (container, key) in a spec dict, to point a mutation at."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        out.append((node, k))
        _locations(v, out)
    return out


@st.composite
def mutated_cases(draw) -> tuple[np.ndarray, dict]:
    image, spec = draw(valid_cases())
    spec = copy.deepcopy(spec)
    for _ in range(draw(st.integers(1, 3))):
        # The version has its own tests; here the mutations go deeper.
        places = [(c, k) for c, k in _locations(spec, []) if k != "version"]
        op = draw(st.sampled_from(["replace", "delete", "add", "near"]))
        if op == "add" or not places:
            dicts = [spec] + [c[k] for c, k in places if isinstance(c[k], dict)]
            draw(st.sampled_from(dicts))[draw(st.sampled_from(WORDS) | st.text(max_size=5))] = draw(JSON_VALUES)
            continue
        container, key = draw(st.sampled_from(places))
        if op == "delete":
            del container[key]
        elif op == "near":
            container[key] = draw(
                st.sampled_from([0, -1, 65, 4097, 2.5, True, "1", [], {}, [1], [1, 2, 3], [[1]], 1e39, 10**40])
            )
        else:
            container[key] = draw(JSON_VALUES)
    return image, spec


def _only_cnn_errors(image, spec) -> None:
    """Parse and run; the only exception allowed out is CnnError. Big (legal) stacks are only planned."""
    try:
        parsed = cnn_core.parse_spec(spec)
        plans = cnn_core.plan(parsed, image.shape)
        if sum(math.prod(p.shape) for p in plans) > 300_000:
            return
        stages = cnn_core.run_pipeline(image, parsed)
        assert [s.maps.shape for s in stages] == [p.shape for p in plans]
    except CnnError as e:
        assert str(e) and len(str(e)) < 1000


@SETTINGS
@given(case=mutated_cases())
def test_mutated_specs_raise_only_cnn_errors(case):
    image, spec = case
    _only_cnn_errors(image, spec)
    try:
        text = json.dumps(spec)
    except (ValueError, RecursionError):
        return
    _only_cnn_errors(image, text)


@SETTINGS
@given(value=JSON_VALUES)
def test_random_json_values_raise_only_cnn_errors(value):
    image = np.zeros((4, 5), np.uint8)
    for spec in (
        value,
        {"version": 1, "layers": value},
        {"version": 1, "layers": [value]},
        {"version": 1, "input": value},
    ):
        _only_cnn_errors(image, spec)
        _only_cnn_errors(image, json.dumps(spec))


@SETTINGS
@given(text=st.text(max_size=200) | st.binary(max_size=200))
def test_garbage_text_raises_only_spec_errors(text):
    try:
        cnn_core.parse_spec(text)
    except SpecError as e:
        assert e.field is not None
    else:
        raise AssertionError(f"{text!r} parsed as a spec")


@SETTINGS
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4),
    dtype=st.sampled_from([np.uint8, np.int8, np.uint16, np.float32, np.float64, np.bool_, object]),
)
def test_odd_arrays_raise_only_image_errors(shape, dtype):
    image = np.zeros(shape, dtype=dtype)
    ok = (
        dtype is np.uint8
        and len(shape) in (2, 3)
        and min(shape[:2] or [0]) >= 1
        and (len(shape) == 2 or shape[2] in (1, 3, 4))
    )
    try:
        stages = cnn_core.run_pipeline(image, cnn_core.default_spec())
    except ImageError as e:
        assert not ok, str(e)
        assert e.field == "image"
    else:
        assert ok and stages[-1].maps.shape == (150, 150, 1)


def test_reference_follows_documented_defaults():
    """The reference reads defaults on its own; check it agrees with the spec on one hand-written case."""
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    spec = {"version": 1, "layers": [{"type": "pool2d"}]}
    ref = np_run_pipeline(image, spec)
    assert ref[0].shape == (5, 6, 3) and ref[1].shape == (2, 3, 3)
    np.testing.assert_allclose(ref[1][0, 0, 0], 7 / 255)
