"""run_pipeline(image, spec) -> stages, the shape arithmetic, and a prefix cache.

The first stage is the prepared input; after it comes one stage per layer.
``plan`` works out every stage's shape, weight count and cost without
computing anything, so an impossible or too-large stack is refused before
any memory is allocated.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import cost, formulations, kinds, ops
from .errors import Cancelled, ImageError, SpecError
from .geometry import AxisArithmetic, axis_arithmetic  # noqa: F401  (their home is geometry; kept reachable here)
from .spec import Layer, Spec, parse_spec

# A stack whose feature maps would need more than this is refused up front; so is one whose
# estimated compute time is over cost.MAX_SECONDS (cnn_core/cost.py).
MAX_STACK_BYTES = 1_500_000_000

STAGE_TITLES = {"input": "Input", "conv2d": "Convolution", "activation": "Activation", "pool2d": "Pooling"}


@dataclass(frozen=True)
class StagePlan:
    """What a stage will be, known before running: shape, weights and multiply-adds."""

    index: int
    name: str  # "input", "conv2d", "activation" or "pool2d"
    shape: tuple[int, int, int]  # (height, width, channels)
    params: int = 0
    madds: int = 0
    arithmetic: tuple[AxisArithmetic, ...] = ()
    layer: Layer | None = None

    @property
    def title(self) -> str:
        return STAGE_TITLES[self.name]


@dataclass
class Stage:
    """One computed stage.

    Attributes:
        name: "input", "conv2d", "activation" or "pool2d".
        maps: float32 (height, width, channels), read-only.
        plan: the stage's shape arithmetic, weight and cost counts.
        seconds: time spent computing it (0 when it came from the cache).
        cached: whether it came from the cache.
        fused: whether it was computed in one compiled call with its neighbours (conv → activation →
            pool); that call's whole time is the first of those stages' ``seconds``, the others have 0.
    """

    name: str
    maps: np.ndarray
    plan: StagePlan
    seconds: float = 0.0
    cached: bool = False
    device: str = field(default_factory=ops.device_label)
    key: str = ""  # identifies the image and settings up to this stage ("" when run without a cache)
    fused: bool = False

    @property
    def index(self) -> int:
        return self.plan.index

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.plan.shape

    @property
    def title(self) -> str:
        return self.plan.title


class PlanError(SpecError):
    """``plan`` could not build the whole stack; what it could build comes with the error.

    Attributes:
        layer: 0-based index of the layer that can't be built, or None when the
            stack as a whole is over a limit (memory or multiply-adds).
        reason: what is wrong, in words (the same as ``detail``).
        plans: the StagePlans of the part that can be built: the input, then
            every layer before ``layer`` (for a limit: the longest start within it).
    """

    def __init__(self, reason: str, field: str, *, layer: int | None, plans: list[StagePlan]) -> None:
        super().__init__(reason, field)
        self.layer = layer
        self.reason = reason
        self.plans = plans


# --------------------------------------------------------------------------- shape arithmetic


def plan(spec: Spec | dict | str, input_shape: tuple[int, ...], *, limits: bool = True) -> list[StagePlan]:
    """Every stage's shape, weight count and multiply-adds, without computing maps.

    Args:
        spec: the pipeline spec.
        input_shape: the decoded image's shape, (height, width) or (height, width, channels).
        limits: refuse stacks over MAX_STACK_BYTES or the compute budget (cost.MAX_SECONDS).
            Only the command line's ``--no-limits`` turns this off.

    Returns:
        One StagePlan for the prepared input, then one per layer.

    Raises:
        PlanError (a SpecError): naming the layer, if a layer shrinks the map to
            nothing or a 3-D kernel's depth does not match its input, or the
            layer at which the estimated compute time passes cost.MAX_SECONDS;
            or the whole stack, if its maps would need more than MAX_STACK_BYTES.
            Its ``layer``, ``reason`` and ``plans`` fields say which layer, why,
            and what can be built.
    """
    spec = parse_spec(spec)
    h, w = spec.input.size if spec.input.size else input_shape[:2]
    shape = (int(h), int(w), spec.input.channels)
    plans = [StagePlan(0, "input", shape)]
    total = shape[0] * shape[1] * shape[2]
    for i, layer in enumerate(spec.layers):
        where = f"layers[{i}] ({layer.type})"
        kind, op = kinds.of_spec(layer, shape[2])
        problem = kind.problem(op, shape)
        if problem:
            raise PlanError(problem, where, layer=i, plans=_within_limits(plans))
        arith = kind.arithmetic(op, shape)
        for a in arith:
            if a.out < 1:
                raise PlanError(
                    f"turns the {a.size}-pixel {a.axis} into nothing: a window spanning "
                    f"{a.dilation * (a.kernel - 1) + 1} pixels does not fit in {a.size + a.pad_total} "
                    f'(with padding {a.pad_total}). Use "same" padding, a smaller window, or a larger input.',
                    where,
                    layer=i,
                    plans=_within_limits(plans),
                )
        new_shape = kind.out_shape(op, shape)
        params, madds = kind.params(op, shape), kind.madds(op, shape, new_shape)
        shape = new_shape
        total += shape[0] * shape[1] * shape[2]
        plans.append(StagePlan(i + 1, layer.type, shape, params, madds, arith, layer))
    if limits and total * 4 > MAX_STACK_BYTES:
        raise PlanError(
            f"would need about {total * 4 / 1e6:,.0f} MB of feature maps; the limit is "
            f"{MAX_STACK_BYTES / 1e6:,.0f} MB. Use a smaller input size or fewer filters.",
            "layers",
            layer=None,
            plans=_within_limits(plans),
        )
    if limits:
        problem = cost.budget_problem(plans, input_shape)
        if problem is not None:
            k, detail, where = problem
            raise PlanError(detail, where, layer=k - 1 if k > 0 else None, plans=plans[:k])
    return plans


def _within_limits(plans: list[StagePlan]) -> list[StagePlan]:
    """The longest start of ``plans`` whose maps stay within MAX_STACK_BYTES."""
    nbytes = 0
    for k, p in enumerate(plans):
        nbytes += 4 * math.prod(p.shape)
        if nbytes > MAX_STACK_BYTES:
            return plans[:k]
    return list(plans)


# --------------------------------------------------------------------------- running


def prepare_input(image: np.ndarray, spec: Spec) -> np.ndarray:
    """Scale a decoded uint8 image to [0, 1], convert its colour and resize it.

    Args:
        image: uint8 (height, width) or (height, width, channels) with 1, 3 or 4 channels.
        spec: the spec whose ``input`` says the colour and size.

    Returns:
        float32 (height, width, 1) for grayscale or (height, width, 3) for rgb.
    """
    image = check_image_array(image)
    x = image.astype(np.float32) / np.float32(255.0)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape[2] == 4:  # an array that still has alpha: drop it
        x = x[:, :, :3]
    want = spec.input.channels
    if want == 1 and x.shape[2] == 3:
        x = ops.rgb_to_grayscale(x)
    elif want == 3 and x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    if spec.input.size and tuple(spec.input.size) != x.shape[:2]:
        x = ops.resize_bilinear(x, spec.input.size)
    return np.ascontiguousarray(x, dtype=np.float32)


def check_image_array(image) -> np.ndarray:
    """Raise ImageError unless ``image`` is a uint8 (H, W) or (H, W, 1|3|4) array of a sane size."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"must be a NumPy array, got {type(image).__name__}", "image")
    if image.dtype != np.uint8:
        raise ImageError(f"must be uint8 (0–255), got {image.dtype}", "image")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ImageError(f"must be (H, W) or (H, W, 1|3|4), got shape {image.shape}", "image")
    if min(image.shape[:2]) < 1:
        raise ImageError(f"is empty (shape {image.shape})", "image")
    from .images import MAX_PIXELS

    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ImageError(
            f"has {image.shape[0] * image.shape[1]:,} pixels; the limit is {MAX_PIXELS:,}. Downscale it first.", "image"
        )
    return image


def run_layer(x: np.ndarray, layer: Layer) -> np.ndarray:
    """Apply one layer to float32 (height, width, channels) maps."""
    kind, op = kinds.of_spec(layer, x.shape[2])
    return kind.run(op, x)


def image_digest(image: np.ndarray) -> str:
    """A content hash of a decoded image (pixels and shape), for cache keys."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((image.shape, str(image.dtype))).encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


def run_pipeline(
    image: np.ndarray,
    spec: Spec | dict | str,
    *,
    cache: StageCache | None = None,
    image_key: str | None = None,
    plans: list[StagePlan] | None = None,
    should_stop: Callable[[], bool] | None = None,
    limits: bool = True,
) -> list[Stage]:
    """Run the spec's layers on an image and return every stage.

    Args:
        image: a decoded image, uint8 (height, width) or (height, width, channels).
        spec: the pipeline spec as a Spec, dict or JSON text.
        cache: optional StageCache. Stage i is keyed by the image and by the
            input settings and layers 0..i, so editing one layer recomputes
            only that layer and the ones after it.
        image_key: optional precomputed ``image_digest(image)``.
        plans: optional ``plan(spec, image.shape)``, when the caller has just
            worked it out (so a page plans once per rerun).
        should_stop: optional callable, asked between layers and, for a layer
            estimated to take longer than BAND_SECONDS, between bands of its
            output rows; when it returns True the run stops with Cancelled.
            Stages finished before that stay in the cache.
        limits: refuse stacks over the memory and compute limits (see ``plan``).

    Returns:
        A list of Stage: the prepared input first, then one per layer. Each
        ``Stage.maps`` is float32 (height, width, channels) and read-only.

    Raises:
        SpecError, ImageError: for a bad spec or image, with a message naming the problem.
        Cancelled: when ``should_stop`` asked to stop.
    """
    spec = parse_spec(spec)
    image = check_image_array(image)
    if plans is None:
        plans = plan(spec, image.shape, limits=limits)
    costs = cost.stage_costs(plans, image.shape) if should_stop is not None else None
    keys: list[str | None] = [None] * len(plans)
    if cache is not None:
        parts = [image_key or image_digest(image), spec.to_dict()["input"].__repr__()]
        for p in plans:
            if p.layer is not None:
                parts.append(repr(p.layer.to_dict()))
            keys[p.index] = "|".join(parts)
    looked: dict[int, np.ndarray | None] = {}

    def lookup(i: int) -> np.ndarray | None:
        """Stage i from the cache, asked once per run (so hits and misses count each stage once)."""
        if i not in looked:
            looked[i] = cache.get(keys[i]) if keys[i] is not None else None
        return looked[i]

    def banded(i: int) -> bool:
        return costs is not None and costs[i].band_seconds > BAND_SECONDS

    stages: list[Stage] = []
    x: np.ndarray | None = None
    i = 0
    while i < len(plans):
        p = plans[i]
        hit = lookup(i)
        if hit is not None:
            x = hit
            stages.append(Stage(p.name, x, p, 0.0, True, key=cache.digest(keys[i])))
            i += 1
            continue
        if should_stop is not None and should_stop():
            raise Cancelled(f"stopped before stage {p.index} ({p.name})", "run")
        t0 = time.perf_counter()
        block = _fused_block(plans, i, x, lookup, banded)
        if block is not None:
            seconds = time.perf_counter() - t0
            for k, maps in enumerate(block):
                # The block's time goes to its first stage; the others took no time of their own.
                stages.append(_finish(plans[i + k], maps, seconds if k == 0 else 0.0, cache, keys[i + k], True))
            x = stages[-1].maps
            i += len(block)
            continue
        if p.layer is None:
            x = prepare_input(image, spec)
        else:
            assert x is not None
            if banded(i):
                n = math.ceil(costs[p.index].band_seconds / BAND_SECONDS)
                # Bands have shapes of their own: eager ops keep a band from starting a first-use
                # measurement and compile, which could not be stopped.
                with formulations.forcing("eager"):
                    x = run_layer_in_bands(x, p, -(-p.shape[0] // n), should_stop)
            else:
                x = run_layer(x, p.layer)
        stages.append(_finish(p, x, time.perf_counter() - t0, cache, keys[i], False))
        x = stages[-1].maps
        i += 1
    return stages


def _finish(p: StagePlan, maps: np.ndarray, seconds: float, cache, key: str | None, fused: bool) -> Stage:
    """A computed stage: its maps made contiguous float32 and read-only, and put in the cache."""
    maps = np.ascontiguousarray(maps, dtype=np.float32)
    maps.flags.writeable = False
    if key is not None:
        cache.put(key, maps)
    return Stage(p.name, maps, p, seconds, False, key=cache.digest(key) if key is not None else "", fused=fused)


def _fused_block(plans: list[StagePlan], i: int, x, lookup, banded) -> tuple[np.ndarray, ...] | None:
    """The maps of stages i, i+1, i+2 from one fused call, or None where they run one at a time.

    Only for a Conv2D → Activation → Pool2D run of layers none of which is in the cache (a cached later
    stage is taken from the cache, not recomputed) and none long enough to run in bands (a fused call
    could not stop between bands). ``ops.conv_activation_pool`` decides whether fusing is quicker here.
    """
    if i + 2 >= len(plans) or x is None:
        return None
    conv, act, pool = (plans[i + k].layer for k in range(3))
    if [kinds.spec_kind(layer).name for layer in (conv, act, pool)] != ["conv2d", "activation", "pool2d"]:
        return None
    if any(banded(i + k) for k in range(3)) or lookup(i + 1) is not None or lookup(i + 2) is not None:
        return None
    _, op = kinds.of_spec(conv, x.shape[2])
    return ops.conv_activation_pool(
        x,
        op.kernel,
        strides=op.strides,
        padding=op.padding,
        dilation_rate=op.dilation,
        bias=op.bias,
        function=act.function,
        alpha=act.alpha,
        mode=pool.mode,
        pool_size=pool.size,
        pool_strides=pool.stride,
        pool_padding=pool.padding,
    )


# A layer estimated to take longer than this runs in bands of output rows, each about this long,
# so a cancelled run stops within about this time (only when run_pipeline is given should_stop).
BAND_SECONDS = 0.25


def run_layer_in_bands(
    x: np.ndarray, p: StagePlan, rows: int, should_stop: Callable[[], bool] | None = None
) -> np.ndarray:
    """``run_layer`` computed ``rows`` output rows at a time, asking ``should_stop`` between bands.

    Each band reads only the input rows its windows cover, padded as the whole layer would pad them,
    so the result equals ``run_layer(x, p.layer)`` (to float32 rounding).

    Args:
        x: float32 (height, width, channels), the layer's input.
        p: the layer's StagePlan (its shape arithmetic gives the padding).
        rows: output rows per band, at least 1.
        should_stop: optional; when it returns True, Cancelled is raised.

    Returns:
        float32 (out_height, out_width, out_channels).
    """
    kind, op = kinds.of_spec(p.layer, x.shape[2])
    out = np.empty(p.shape, dtype=np.float32)
    for r0 in range(0, p.shape[0], max(1, rows)):
        if should_stop is not None and should_stop():
            raise Cancelled(f"stopped inside stage {p.index} ({p.name})", "run")
        r1 = min(r0 + max(1, rows), p.shape[0])
        out[r0:r1] = kind.run_rows(op, x, p.arithmetic, r0, r1)
    return out


class StageCache:
    """A thread-safe LRU of stage outputs, bounded in bytes.

    Keys are content hashes of the image plus the settings up to a stage, so
    two visitors with the same image and settings share an entry and nobody
    can see a result computed from another visitor's different input.
    """

    def __init__(self, max_bytes: int = 512_000_000) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()

    def get(self, key: str) -> np.ndarray | None:
        k = self.digest(key)
        with self._lock:
            v = self._items.get(k)
            if v is None:
                self.misses += 1
                return None
            self._items.move_to_end(k)
            self.hits += 1
            return v

    def put(self, key: str, value: np.ndarray) -> None:
        if value.nbytes > self.max_bytes:
            return
        k = self.digest(key)
        with self._lock:
            old = self._items.pop(k, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._items[k] = value
            self._bytes += value.nbytes
            while self._bytes > self.max_bytes and self._items:
                _, ev = self._items.popitem(last=False)
                self._bytes -= ev.nbytes
                self.evictions += 1

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
