"""The pipeline spec, version 1: parse, validate and serialise (the project's file format).

A spec is a JSON document such as::

    {"version": 1,
     "input": {"color": "grayscale", "size": [300, 300]},
     "layers": [
       {"type": "conv2d", "filters": ["edge"], "stride": 1, "padding": "same", "dilation": 1, "bias": 0.0},
       {"type": "activation", "function": "relu"},
       {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"}]}

``parse_spec`` turns a dict or JSON text into a frozen ``Spec``; every problem
raises ``SpecError`` naming the field at fault. ``Spec.to_dict`` gives back a
canonical document that parses to the same ``Spec``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SpecError
from .kernels import INITIALISERS, PRESETS, preset

VERSION = 1

# Bounds that keep a spec from a stranger cheap to check and to run.
MAX_SPEC_CHARS = 2_000_000
MAX_LAYERS = 32
MAX_FILTERS = 64
MAX_KERNEL = 15
MAX_STRIDE = 64
MAX_DILATION = 32
MAX_PAD = 64
MAX_POOL = 64
MAX_SIDE = 4096
MAX_DEPTH_3D = 256
FLOAT32_MAX = float(np.finfo(np.float32).max)

COLORS = ("grayscale", "rgb")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu", "linear")
POOL_MODES = ("max", "avg")
LAYER_TYPES = ("conv2d", "activation", "pool2d")

Pair = tuple[int, int]
Padding = str | tuple[Pair, Pair]  # "same", "valid" or ((top, bottom), (left, right))


@dataclass(frozen=True)
class InputSpec:
    color: str = "rgb"
    size: Pair | None = None  # (height, width) to resize to, or None to keep

    @property
    def channels(self) -> int:
        return 1 if self.color == "grayscale" else 3


@dataclass(frozen=True)
class Filter:
    """One output channel's kernel: a preset, explicit weights, or a seeded initialiser.

    ``started_from`` names the preset that explicit weights were edited from, for the page to say so; it
    changes no number. In JSON such a filter is ``{"weights": [...], "from": "sobel_x"}`` (optional: plain
    weights are a list, as ever).
    """

    preset: str | None = None
    weights: tuple | None = None  # nested tuples, 2-D (kh, kw) or 3-D (kh, kw, c)
    init: str | None = None
    seed: int = 0
    init_size: Pair | None = None
    started_from: str | None = None

    @property
    def size(self) -> Pair:
        if self.preset is not None:
            a = PRESETS[self.preset].weights
            return (len(a), len(a[0]))
        if self.weights is not None:
            return (len(self.weights), len(self.weights[0]))
        return self.init_size  # type: ignore[return-value]

    @property
    def depth(self) -> int | None:
        """The kernel's own depth for a 3-D kernel, else None (it takes the input's depth)."""
        if self.weights is not None and isinstance(self.weights[0][0], tuple):
            return len(self.weights[0][0])
        return None

    def to_json(self) -> Any:
        if self.preset is not None:
            return self.preset
        if self.weights is not None:
            if self.started_from is not None:
                return {"weights": _to_lists(self.weights), "from": self.started_from}
            return _to_lists(self.weights)
        return {"init": self.init, "seed": self.seed, "size": list(self.init_size or ())}


@dataclass(frozen=True)
class Conv2D:
    filters: tuple[Filter, ...]
    stride: Pair = (1, 1)
    padding: Padding = "same"
    dilation: Pair = (1, 1)
    bias: tuple[float, ...] = ()
    type: str = field(default="conv2d", init=False)

    @property
    def kernel_size(self) -> Pair:
        return self.filters[0].size

    def to_dict(self) -> dict:
        bias: Any = list(self.bias)
        if len(set(self.bias)) == 1:
            bias = self.bias[0]
        return {
            "type": "conv2d",
            "filters": [f.to_json() for f in self.filters],
            "stride": _pair_json(self.stride),
            "padding": _padding_json(self.padding),
            "dilation": _pair_json(self.dilation),
            "bias": bias,
        }


@dataclass(frozen=True)
class Activation:
    function: str = "relu"
    alpha: float = 0.2  # only used by leaky_relu
    type: str = field(default="activation", init=False)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"type": "activation", "function": self.function}
        if self.function == "leaky_relu":
            d["alpha"] = self.alpha
        return d


@dataclass(frozen=True)
class Pool2D:
    mode: str = "max"
    size: Pair = (2, 2)
    stride: Pair = (2, 2)
    padding: str = "valid"
    type: str = field(default="pool2d", init=False)

    def to_dict(self) -> dict:
        return {
            "type": "pool2d",
            "mode": self.mode,
            "size": _pair_json(self.size),
            "stride": _pair_json(self.stride),
            "padding": self.padding,
        }


Layer = Conv2D | Activation | Pool2D


@dataclass(frozen=True)
class Spec:
    input: InputSpec = InputSpec()
    layers: tuple[Layer, ...] = ()
    version: int = VERSION

    def to_dict(self) -> dict:
        size = list(self.input.size) if self.input.size else None
        return {
            "version": self.version,
            "input": {"color": self.input.color, "size": size},
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The spec as JSON: compact on one line (links), or with ``indent`` the file format people read,
        one line per layer and one per filter (every download and the files in assets/stacks)."""
        if indent is None:
            return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        return _file_text(self.to_dict(), " " * indent)


def _file_text(d: dict, pad: str) -> str:
    def dump(v: Any) -> str:
        return json.dumps(v, allow_nan=False)

    lines = ["{", f'{pad}"version": {d["version"]},', f'{pad}"input": {dump(d["input"])},', f'{pad}"layers": [']
    for i, layer in enumerate(d["layers"]):
        comma = "," if i < len(d["layers"]) - 1 else ""
        if layer["type"] == "conv2d":
            head = dump({k: v for k, v in layer.items() if k != "filters"})
            lines.append(f'{pad * 2}{head[:-1]}, "filters": [')
            filters = layer["filters"]
            lines += [f"{pad * 3}{dump(f)}{',' if j < len(filters) - 1 else ''}" for j, f in enumerate(filters)]
            lines.append(f"{pad * 2}]}}{comma}")
        else:
            lines.append(f"{pad * 2}{dump(layer)}{comma}")
    lines += [f"{pad}]", "}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- serialising helpers


def _to_lists(t: Any) -> Any:
    return [_to_lists(v) for v in t] if isinstance(t, tuple) else t


def _pair_json(p: Pair) -> Any:
    return p[0] if p[0] == p[1] else list(p)


def _padding_json(p: Padding) -> Any:
    if isinstance(p, str):
        return p
    (t, b), (left, r) = p
    if t == b == left == r:
        return t
    return [[t, b], [left, r]]


# --------------------------------------------------------------------------- parsing


def parse_spec(spec: Spec | dict | str | bytes) -> Spec:
    """Validate a spec given as a dict or JSON text and return it as a frozen ``Spec``.

    Args:
        spec: a ``Spec`` (returned as is), a dict, or JSON text.

    Raises:
        SpecError: naming the field at fault and what is allowed.
    """
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, (str, bytes)):
        spec = _load_json(spec)
    if not isinstance(spec, dict):
        raise SpecError(f"must be a JSON object, got {_kind(spec)}", "spec")
    _check_keys(spec, {"version", "input", "layers"}, "spec")
    version = spec.get("version", None)
    if version is None:
        raise SpecError(f"is missing; this app reads version {VERSION}", "version")
    if isinstance(version, bool) or version != VERSION:
        raise SpecError(f"{_show(version)} is not supported; this app reads version {VERSION}", "version")
    inp = _parse_input(spec.get("input", {}))
    layers_raw = spec.get("layers", [])
    if not isinstance(layers_raw, list):
        raise SpecError(f"must be a list of layers, got {_kind(layers_raw)}", "layers")
    if len(layers_raw) > MAX_LAYERS:
        raise SpecError(f"has {len(layers_raw)} layers; at most {MAX_LAYERS} are allowed", "layers")
    layers = tuple(_parse_layer(raw, f"layers[{i}]") for i, raw in enumerate(layers_raw))
    return Spec(input=inp, layers=layers)


def _load_json(text: str | bytes) -> Any:
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(f"is {len(text):,} characters; at most {MAX_SPEC_CHARS:,} are allowed", "spec")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except SpecError:
        raise
    except RecursionError:
        raise SpecError("is nested too deeply to be a pipeline spec", "spec") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise SpecError(f"is not valid JSON ({e})", "spec") from None


def _reject_constant(name: str) -> Any:
    raise SpecError(f"contains {name}, which is not a number; weights must be finite", "spec")


def _parse_input(raw: Any) -> InputSpec:
    if raw is None:
        return InputSpec()
    if not isinstance(raw, dict):
        raise SpecError(f'must be an object like {{"color": "rgb", "size": null}}, got {_kind(raw)}', "input")
    _check_keys(raw, {"color", "size"}, "input")
    color = raw.get("color", "rgb")
    if color not in COLORS:
        raise SpecError(f"{_show(color)} is not allowed; use one of {', '.join(COLORS)}", "input.color")
    size = raw.get("size", None)
    if size is not None:
        size = _pair(size, "input.size", 1, MAX_SIDE, allow_int=False)
    return InputSpec(color=color, size=size)


def _parse_layer(raw: Any, where: str) -> Layer:
    if not isinstance(raw, dict):
        raise SpecError(f'must be an object with a "type", got {_kind(raw)}', where)
    kind = raw.get("type")
    if kind == "conv2d":
        return _parse_conv(raw, where)
    if kind == "activation":
        _check_keys(raw, {"type", "function", "alpha"}, where)
        fn = raw.get("function", "relu")
        if fn not in ACTIVATIONS:
            raise SpecError(f"{_show(fn)} is not allowed; use one of {', '.join(ACTIVATIONS)}", f"{where}.function")
        alpha = _number(raw.get("alpha", 0.2), f"{where}.alpha", limit=1e3)
        # Only leaky_relu uses alpha; keeping the default elsewhere makes equal specs compare equal.
        return Activation(function=fn, alpha=alpha if fn == "leaky_relu" else 0.2)
    if kind == "pool2d":
        _check_keys(raw, {"type", "mode", "size", "stride", "padding"}, where)
        mode = raw.get("mode", "max")
        if mode not in POOL_MODES:
            raise SpecError(f"{_show(mode)} is not allowed; use max or avg", f"{where}.mode")
        size = _pair(raw.get("size", 2), f"{where}.size", 1, MAX_POOL)
        stride = _pair(raw.get("stride", size), f"{where}.stride", 1, MAX_STRIDE)
        padding = raw.get("padding", "valid")
        if padding not in ("same", "valid"):
            raise SpecError(f'{_show(padding)} is not allowed; pooling takes "same" or "valid"', f"{where}.padding")
        return Pool2D(mode=mode, size=size, stride=stride, padding=padding)
    raise SpecError(f"{_show(kind)} is not a layer type; use one of {', '.join(LAYER_TYPES)}", f"{where}.type")


def _parse_conv(raw: dict, where: str) -> Conv2D:
    _check_keys(raw, {"type", "filters", "stride", "padding", "dilation", "bias"}, where)
    filters_raw = raw.get("filters")
    if not isinstance(filters_raw, list) or not filters_raw:
        raise SpecError(
            f"must be a non-empty list with one kernel per output channel; each kernel is {FILTER_FORMS}",
            f"{where}.filters",
        )
    if len(filters_raw) > MAX_FILTERS:
        raise SpecError(f"has {len(filters_raw)} filters; at most {MAX_FILTERS} are allowed", f"{where}.filters")
    filters = tuple(_parse_filter(f, f"{where}.filters[{i}]") for i, f in enumerate(filters_raw))
    size0 = filters[0].size
    for i, f in enumerate(filters):
        if f.size != size0:
            raise SpecError(
                f"is {f.size[0]}×{f.size[1]} but filters[0] is {size0[0]}×{size0[1]}; "
                "all filters of a layer must have the same size",
                f"{where}.filters[{i}]",
            )
    depths = {f.depth for f in filters if f.depth is not None}
    if len(depths) > 1:
        raise SpecError("3-D kernels of one layer must all have the same depth", f"{where}.filters")
    stride = _pair(raw.get("stride", 1), f"{where}.stride", 1, MAX_STRIDE)
    dilation = _pair(raw.get("dilation", 1), f"{where}.dilation", 1, MAX_DILATION)
    padding = _parse_padding(raw.get("padding", "same"), f"{where}.padding")
    bias_raw = raw.get("bias", 0.0)
    if isinstance(bias_raw, list):
        if len(bias_raw) != len(filters):
            raise SpecError(
                f"has {len(bias_raw)} values but the layer has {len(filters)} filters; give one per filter or a single number",
                f"{where}.bias",
            )
        bias = tuple(_number(b, f"{where}.bias[{i}]") for i, b in enumerate(bias_raw))
    else:
        bias = (_number(bias_raw, f"{where}.bias"),) * len(filters)
    return Conv2D(filters=filters, stride=stride, padding=padding, dilation=dilation, bias=bias)


# Every form a filter may take, for the messages that refuse one.
FILTER_FORMS = 'a preset name, a 2-D or 3-D list of numbers, {"weights": [...], "from": "<preset name>"} or {"init": ..., "seed": ...}'


def _parse_filter(raw: Any, where: str) -> Filter:
    if isinstance(raw, str):
        if raw not in PRESETS:
            raise SpecError(f"{_show(raw)} is not a preset; known presets: {', '.join(PRESETS)}", where)
        return Filter(preset=raw)
    if isinstance(raw, dict) and "weights" in raw:
        _check_keys(raw, {"weights", "from"}, where)
        weights = raw["weights"]
        if not isinstance(weights, list):
            raise SpecError(
                f'must be a 2-D or 3-D list of numbers, as in {{"weights": [[0, 1, 0], ...], "from": "<preset name>"}}; '
                f"got {_kind(weights)}",
                f"{where}.weights",
            )
        origin = raw.get("from")
        if origin is not None and origin not in PRESETS:
            raise SpecError(f"{_show(origin)} is not a preset; known presets: {', '.join(PRESETS)}", f"{where}.from")
        return Filter(weights=_kernel_weights(weights, f"{where}.weights"), started_from=origin)
    if isinstance(raw, dict) and "init" not in raw:
        raise SpecError(f'must be {FILTER_FORMS}; got an object with neither "weights" nor "init"', where)
    if isinstance(raw, dict):
        _check_keys(raw, {"init", "seed", "size"}, where)
        init = raw.get("init")
        if init not in INITIALISERS:
            raise SpecError(
                f"{_show(init)} is not an initialiser; use one of {', '.join(INITIALISERS)}", f"{where}.init"
            )
        seed = _int(raw.get("seed", 0), f"{where}.seed", 0, 2**31 - 1)
        size = _pair(raw.get("size", 3), f"{where}.size", 1, MAX_KERNEL)
        return Filter(init=init, seed=seed, init_size=size)
    if isinstance(raw, list):
        return Filter(weights=_kernel_weights(raw, where))
    raise SpecError(f"must be {FILTER_FORMS}; got {_kind(raw)}", where)


def _kernel_weights(raw: list, where: str) -> tuple:
    """Check a 2-D (kh, kw) or 3-D (kh, kw, c) nested list without ever recursing deeper than 3."""
    kh = len(raw)
    if not 1 <= kh <= MAX_KERNEL:
        raise SpecError(f"has {kh} rows; a kernel has 1 to {MAX_KERNEL}", where)
    if not all(isinstance(r, list) for r in raw):
        raise SpecError("must be a list of rows (a 2-D kernel) or of rows of channel lists (3-D)", where)
    kw = len(raw[0])
    if not 1 <= kw <= MAX_KERNEL:
        raise SpecError(f"has {kw} columns; a kernel has 1 to {MAX_KERNEL}", where)
    three_d = isinstance(raw[0][0], list)
    rows = []
    for i, row in enumerate(raw):
        if len(row) != kw:
            raise SpecError(f"has {len(row)} values but row 0 has {kw}; a kernel must be rectangular", f"{where}[{i}]")
        if three_d:
            cells = []
            for j, cell in enumerate(row):
                if not isinstance(cell, list) or not 1 <= len(cell) <= MAX_DEPTH_3D:
                    raise SpecError(
                        f"must be a list of 1 to {MAX_DEPTH_3D} numbers, one per input channel", f"{where}[{i}][{j}]"
                    )
                if len(cell) != len(raw[0][0]):
                    raise SpecError(
                        "every cell of a 3-D kernel needs the same number of channels", f"{where}[{i}][{j}]"
                    )
                cells.append(tuple(_number(v, f"{where}[{i}][{j}][{c}]") for c, v in enumerate(cell)))
            rows.append(tuple(cells))
        else:
            rows.append(tuple(_number(v, f"{where}[{i}][{j}]") for j, v in enumerate(row)))
    return tuple(rows)


def _parse_padding(raw: Any, where: str) -> Padding:
    if raw in ("same", "valid"):
        return raw
    if _is_int(raw):
        p = _int(raw, where, 0, MAX_PAD)
        return ((p, p), (p, p))
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(r, list) and len(r) == 2 for r in raw):
        (t, b), (left, r) = raw
        vals = [_int(v, f"{where}[{i // 2}][{i % 2}]", 0, MAX_PAD) for i, v in enumerate((t, b, left, r))]
        return ((vals[0], vals[1]), (vals[2], vals[3]))
    raise SpecError(
        f'{_show(raw)} is not allowed; use "same", "valid", an int p, or [[top, bottom], [left, right]]', where
    )


# --------------------------------------------------------------------------- small checks


def _check_keys(d: dict, allowed: set[str], where: str) -> None:
    unknown = [k for k in d if k not in allowed]
    if unknown:
        raise SpecError(
            f"unknown field {_show(str(unknown[0]))}; allowed fields are {', '.join(sorted(allowed))}", where
        )


def _is_int(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v) and v.is_integer()


def _int(v: Any, where: str, lo: int, hi: int) -> int:
    if not _is_int(v):
        raise SpecError(f"must be a whole number from {lo} to {hi}, got {_show(v)}", where)
    iv = int(v)
    if not lo <= iv <= hi:
        raise SpecError(f"must be from {lo} to {hi}, got {_show(iv)}", where)
    return iv


def _pair(v: Any, where: str, lo: int, hi: int, allow_int: bool = True) -> Pair:
    if allow_int and _is_int(v):
        iv = _int(v, where, lo, hi)
        return (iv, iv)
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return (_int(v[0], f"{where}[0]", lo, hi), _int(v[1], f"{where}[1]", lo, hi))
    form = "a whole number or [height, width]" if allow_int else "[height, width]"
    raise SpecError(f"must be {form} with values from {lo} to {hi}, got {_show(v)}", where)


def _number(v: Any, where: str, limit: float = FLOAT32_MAX) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SpecError(f"must be a number, got {_show(v)}", where)
    fv = float(v) if not isinstance(v, int) or abs(v) < 1e300 else math.inf
    if not math.isfinite(fv):
        raise SpecError(f"must be a finite number, got {_show(v)}", where)
    if abs(fv) > limit:
        raise SpecError(f"{fv:.3g} is out of range; the largest allowed magnitude is {limit:.3g}", where)
    return fv


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__
    )


def _show(v: Any) -> str:
    """A short, safe rendering of a user value for an error message."""
    if isinstance(v, (dict, list)):
        return _kind(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**16:
        # str() of an int over 4300 digits raises ValueError; a 300-digit echo helps nobody either.
        return f"{v:.3g}" if abs(v) < 1e300 else "a number with more than 300 digits"
    s = json.dumps(v) if isinstance(v, (str, int, float, bool, type(None))) else repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


# --------------------------------------------------------------------------- kernels of a layer


def layer_kernel(layer: Conv2D, in_channels: int) -> np.ndarray:
    """The layer's weights as one float32 array of shape (kh, kw, in_channels, filters).

    A 2-D filter is repeated over the input channels; a 3-D filter must match them.
    Raises SpecError if a 3-D kernel's depth differs from ``in_channels``.
    """
    from .kernels import random_kernel

    kh, kw = layer.kernel_size
    out = np.empty((kh, kw, in_channels, len(layer.filters)), dtype=np.float32)
    for i, f in enumerate(layer.filters):
        if f.preset is not None:
            out[:, :, :, i] = preset(f.preset)[:, :, None]
        elif f.init is not None:
            out[:, :, :, i] = random_kernel(f.init, f.seed, f.size, in_channels, len(layer.filters))
        else:
            w = np.array(f.weights, dtype=np.float32)
            if w.ndim == 2:
                out[:, :, :, i] = w[:, :, None]
            else:
                out[:, :, :, i] = w
    return out


# The reference article's worked example, also the Layer stack's "One outline filter" starting point.
DEFAULT_SPEC_FILE = Path(__file__).resolve().parent.parent / "assets" / "stacks" / "article_one_filter.json"


@cache
def default_spec() -> Spec:
    """The reference article's worked example (outline kernel, SAME, ReLU, 2×2 max pool), read from
    DEFAULT_SPEC_FILE so the pages and the command line start from the same file."""
    return parse_spec(DEFAULT_SPEC_FILE.read_text(encoding="utf-8"))
