"""How long a pipeline takes to compute, estimated before anything runs.

Every stage has a cost in seconds on the reference machine (2 CPU cores, TensorFlow's CPU kernels): a
few features of the stage (multiply-adds, window cells visited, elements read and written) times
coefficients measured there by ``python -m benchmarks.calibrate_cost``. The planner refuses a stack
whose estimate is over ``MAX_SECONDS``, so a link, an uploaded spec, the editor and the command line
all meet the same budget. On a GPU the estimate is pessimistic, which only makes the limit safe.

Features, per stage (counts, not seconds):

- input: decoded pixels converted to float (and to grey), and a bilinear resize reading its input
  and writing its output;
- conv2d: output pixels × kernel cells × input channels × filters rounded up to a multiple of 16
  (TensorFlow's CPU convolution works on blocks of 16 output channels, so one filter costs nearly
  what sixteen do), plus elements written and read;
- pool2d: output pixels × window cells × channels rounded up to a multiple of 8 (every window is
  visited in full, eight channels at a time), the same weighted by the window's longer side (large
  windows cost more per cell), plus elements written and read;
- activation: elements, at a rate per function (gelu's erf costs ~10× relu).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import SpecError

# The budget: at most this many seconds of computation on the reference machine for one view.
MAX_SECONDS = 4.0

# Each stage also pays a fixed overhead (a TensorFlow call, a copy into NumPy), in seconds.
STAGE_OVERHEAD = 0.0005

# Nanoseconds per unit of each feature, measured with ``python -m benchmarks.calibrate_cost`` (fastest of
# several rounds) on the reference machine: 2 cores (AMD EPYC), TensorFlow 2.21 on the CPU, 2026-11-25.
# Re-run it after changing cnn_core/ops.py and paste its COEFFS here. Measured 2026-11-25 on the quiet
# 2-core reference machine after the per-layer formulations landed. Pooling fits least well: its
# measured/estimated ratios spread from 0.5 to 2.5, because which formulation wins changes with the window.
COEFFS: dict[str, tuple[float, ...]] = {
    # (elements made float, pixels made grey, resize input elements, resize output pixels, output elements)
    "input": (0.415, 3.33, 0.954, 5.63, 0.837),
    # (blocked multiply-adds, output elements, input elements)
    "conv2d": (0.00404, 0.0811, 0.142),
    # (blocked window cells, output elements, input elements, blocked window cells × longer window side)
    "pool2d:max": (0.0025, 0.254, 0.116, 0.0003),
    "pool2d:avg": (0.00292, 0.209, 0.0831, 0.000226),
    # (elements,) per activation function
    "activation:relu": (0.16,),
    "activation:leaky_relu": (0.364,),
    "activation:tanh": (0.201,),
    "activation:sigmoid": (0.492,),
    "activation:elu": (0.277,),
    "activation:gelu": (1.61,),
    "activation:linear": (0.0,),
}

# Pooling visits channels in blocks of this many (one channel costs about what eight do).
POOL_CHANNEL_BLOCK = 8
# TensorFlow's CPU convolution computes output channels in blocks of this many.
CONV_CHANNEL_BLOCK = 16

# Nanoseconds per blocked window cell of an eager pooling call, which is what a window over
# formulations.SHIFTED_POOL_MAX_CELLS always runs as. Eager pooling costs about the same per cell whatever
# the window (measured side by side for windows 8–64, 2026-12-03: within 2× of each other), where COEFFS'
# large-window term fits 64×64 and reads mid-size windows 2–4× too cheap; a 24×24 max pool on 2048²
# came out at 0.19 s, under BAND_SECONDS, and ran unbanded for 3–30 s under load (issue 28). COEFFS'
# per-cell cost at a 64-wide window times the ratio of eager per-cell times (mid windows / 64×64) measured
# under load gave 0.036 (max) and 0.021 (avg); with those, a band of that pool took 6–9 s at load average
# 20–27 on 2 cores (tests/e2e/test_cancel_browser.py's work log), so these are doubled: a band is
# pessimistically ~0.12 s of quiet-machine work. Used to decide bands (``StageCost.band_seconds``), not the
# budget; a band too many costs only its window's overlap of rows.
EAGER_POOL_NS = {"max": 0.07, "avg": 0.045}


@dataclass(frozen=True)
class StageCost:
    """One stage's estimated time and the features it was computed from.

    ``band_seconds`` is what one uninterruptible call of the stage may take, for deciding whether it runs in
    bands (a cancellation waits at most one band): ``seconds``, or more where the stage's first call runs a
    slower formulation than the one its estimate describes.
    """

    family: str  # a key of COEFFS
    features: tuple[float, ...]
    seconds: float
    band_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.band_seconds < self.seconds:
            object.__setattr__(self, "band_seconds", self.seconds)


def _round_up(n: int, block: int) -> int:
    return -(-n // block) * block


def input_features(image_shape: tuple[int, ...], out_shape: tuple[int, int, int]) -> tuple[float, ...]:
    """Features of preparing the input.

    (elements made float, pixels turned grey, resize input elements, resize output pixels, resize output
    elements); the resize terms are 0 when the size is kept.

    Args:
        image_shape: the decoded image, (height, width) or (height, width, channels).
        out_shape: the prepared input, (height, width, channels).
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    c_in = int(image_shape[2]) if len(image_shape) > 2 else 1
    ho, wo, c = out_shape
    gray = h * w if (c == 1 and c_in > 1) else 0
    if (ho, wo) == (h, w):
        return (h * w * c_in, gray, 0, 0, 0)
    return (h * w * c_in, gray, h * w * c, ho * wo, ho * wo * c)


def layer_features(layer, in_shape: tuple[int, int, int], out_shape: tuple[int, int, int]) -> tuple[str, tuple]:
    """The cost family and features of one layer, from its input and output (height, width, channels)."""
    from . import kinds

    kind, op = kinds.of_spec(layer, in_shape[2])
    return kind.cost(op, in_shape, out_shape)


def _longest_call(layer, in_shape, out_shape) -> float:
    from . import kinds

    kind, op = kinds.of_spec(layer, in_shape[2])
    return kind.longest_call_seconds(op, in_shape, out_shape)


def seconds(family: str, features: tuple[float, ...]) -> float:
    """Estimated seconds for a stage with these features on the reference machine."""
    coeffs = COEFFS[family]
    return STAGE_OVERHEAD + 1e-9 * math.fsum(a * f for a, f in zip(coeffs, features, strict=True))


def stage_costs(plans, image_shape: tuple[int, ...]) -> list[StageCost]:
    """One StageCost per planned stage (the input first).

    Args:
        plans: ``cnn_core.plan``'s StagePlans.
        image_shape: the decoded image's shape, (height, width) or (height, width, channels).
    """
    out: list[StageCost] = []
    prev = None
    for p in plans:
        if p.layer is None:
            fam, feats = "input", input_features(image_shape, p.shape)
            out.append(StageCost(fam, feats, seconds(fam, feats)))
        else:
            fam, feats = layer_features(p.layer, prev.shape, p.shape)
            out.append(StageCost(fam, feats, seconds(fam, feats), _longest_call(p.layer, prev.shape, p.shape)))
        prev = p
    return out


def estimate_seconds(plans, image_shape: tuple[int, ...]) -> float:
    """The estimated seconds to compute every planned stage on the reference machine."""
    return math.fsum(c.seconds for c in stage_costs(plans, image_shape))


def budget_problem(
    plans, image_shape: tuple[int, ...], max_seconds: float = MAX_SECONDS
) -> tuple[int, str, str] | None:
    """Where the running total of estimated seconds passes ``max_seconds``, or None if it never does.

    Returns:
        (k, detail, field): the index in ``plans`` of the stage that passes the budget, what to tell the
        person, and the spec field at fault (``layers[i] (type)``, or ``input.size`` for the input).
    """
    costs = stage_costs(plans, image_shape)
    total = 0.0
    for k, (p, c) in enumerate(zip(plans, costs)):
        total += c.seconds
        if total > max_seconds:
            whole = math.fsum(x.seconds for x in costs)
            where = f"layers[{p.index - 1}] ({p.name})" if p.layer is not None else "input.size"
            detail = (
                f"would take about {_secs(whole)} to compute on this server (this stage alone "
                f"{_secs(c.seconds)}); the limit is {max_seconds:g} s. Use a smaller input size, fewer "
                "filters, smaller kernels or pooling windows, or a larger stride."
            )
            return k, detail, where
    return None


def check_budget(plans, image_shape: tuple[int, ...], max_seconds: float = MAX_SECONDS) -> list[StageCost]:
    """Raise SpecError naming the layer at which the running total passes ``max_seconds``.

    Returns:
        The stage costs, when the stack is within the budget.
    """
    problem = budget_problem(plans, image_shape, max_seconds)
    if problem is not None:
        raise SpecError(problem[1], problem[2])
    return stage_costs(plans, image_shape)


def _secs(s: float) -> str:
    return f"{s:,.1f} s" if s >= 0.95 else f"{s:.2f} s"
