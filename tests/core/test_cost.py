"""The cost model: every stage costs something, the budget is the same everywhere, and it predicts time.

The grid test runs adversarial stacks chosen just under the budget and compares the measured time with
the estimate. A shared machine runs slower than the idle reference machine the model describes, so each
measurement is taken as the fastest of up to three and scaled by a yardstick (a fixed small pipeline,
timed right before and after, against its own estimate); it is never scaled up when the machine is fast.
On an idle 2-core machine the yardstick is ~1 and this is a plain comparison; on a heavily loaded one
(load average several times the core count) load that comes and goes can still push a ratio past 2.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import cnn_core
import cnn_core.__main__ as cli
from cnn_core import cost, share
from cnn_core.pipeline import MAX_STACK_BYTES, plan

BUDGET = cost.MAX_SECONDS


def _pool(size, mode="max", stride=1):
    return {"type": "pool2d", "mode": mode, "size": size, "stride": stride, "padding": "same"}


def _conv(n, k, seed=0):
    return {"type": "conv2d", "filters": [{"init": "he_normal", "seed": seed + j, "size": [k, k]} for j in range(n)]}


def _spec(color, side, layers):
    return {"version": 1, "input": {"color": color, "size": [side, side]}, "layers": layers}


def _estimate(spec, image_shape) -> float:
    return cost.estimate_seconds(plan(spec, image_shape, limits=False), image_shape)


# --------------------------------------------------------------------------- no layer is free


def test_every_layer_type_and_the_resize_has_a_cost():
    base = _spec("grayscale", 512, [])
    for layer in [
        _conv(1, 3),
        _pool(2),
        _pool(2, "avg"),
        {"type": "activation", "function": "relu"},
        {"type": "activation", "function": "gelu"},
    ]:
        with_layer = _estimate({**base, "layers": [layer]}, (512, 512))
        assert with_layer > _estimate(base, (512, 512)), layer
    # A resize costs more the more pixels it makes.
    assert _estimate(_spec("rgb", 2048, []), (300, 300, 3)) > 3 * _estimate(_spec("rgb", 1024, []), (300, 300, 3))
    # Pooling pays for every cell of every window.
    small, big = (_estimate(_spec("grayscale", 1024, [_pool(k)]), (1024, 1024)) for k in (4, 64))
    assert big > 100 * small


def test_the_review_s_pooling_link_is_refused_naming_the_layer():
    # 21 max pools of 64×64 with stride 1 on 4096²: free under a multiply-add budget, hours of CPU in fact.
    spec = _spec("grayscale", 4096, [_pool(64)] * 21)
    t0 = time.perf_counter()
    with pytest.raises(cnn_core.SpecError) as e:
        cnn_core.plan(spec, (300, 300))
    assert time.perf_counter() - t0 < 1.0
    assert e.value.field == "layers[0] (pool2d)"  # the first layer alone is over the budget
    assert f"the limit is {BUDGET:g} s" in e.value.detail
    assert "pooling windows" in e.value.detail


def test_the_refusal_names_the_layer_that_passes_the_budget():
    one = _estimate(_spec("grayscale", 2048, [_pool(32)]), (2048, 2048))
    n = int(BUDGET // one) + 1
    assert n >= 2
    with pytest.raises(cnn_core.SpecError) as e:
        cnn_core.plan(_spec("grayscale", 2048, [_pool(32)] * (n + 2)), (2048, 2048))
    assert e.value.field == f"layers[{n - 1}] (pool2d)"
    cnn_core.plan(_spec("grayscale", 2048, [_pool(32)] * (n - 1)), (2048, 2048))  # just under: fine


def test_links_spec_files_and_the_command_line_meet_the_same_budget(tmp_path, monkeypatch):
    heavy = _spec("grayscale", 4096, [_pool(64)] * 2)
    state = share.LinkState(
        page="stack", sample="camera", spec=cnn_core.parse_spec(heavy), view={"cmap": "auto", "scale": "layer"}
    )
    params = share.encode_state(state)
    _, warning = share.decode_state({k: [v] for k, v in params.items()})
    assert warning is not None and "limit is 4 s" in warning, warning
    # The command line: refused by default, allowed with --no-limits (the run itself is replaced here).
    (tmp_path / "heavy.json").write_text(cnn_core.parse_spec(heavy).to_json())
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    seen = {}

    def fake_write(image, spec, out, cmap, scale, limits=True):
        seen["limits"] = limits
        cnn_core.plan(spec, image.shape, limits=limits)
        return []  # no stage overflowed

    monkeypatch.setattr(cli, "_write", fake_write)
    args = ["run", str(tmp_path / "a.png"), "--spec", str(tmp_path / "heavy.json"), "--out", str(tmp_path / "o")]
    assert cli.main(args) == 1 and seen["limits"] is True
    assert cli.main(args + ["--no-limits"]) == 0 and seen["limits"] is False


# --------------------------------------------------------------------------- the estimate predicts time


def _near_budget(build, lo=64, hi=4096, target=0.7 * BUDGET):
    """The largest side (a multiple of 16) whose spec from ``build(side)`` is estimated under ``target``."""
    while hi - lo > 16:
        mid = (lo + hi) // 32 * 16
        spec, image_shape = build(mid)
        try:
            ok = _estimate(spec, image_shape) <= target and plan(spec, image_shape) is not None
        except cnn_core.SpecError:
            ok = False
        lo, hi = (mid, hi) if ok else (lo, mid)
    return build(lo)


ADVERSARIAL = {
    "huge max pools": lambda s: (_spec("grayscale", s, [_pool(64)] * 2), (s, s)),
    "huge avg pools, rgb": lambda s: (_spec("rgb", s, [_pool(48, "avg"), _pool(24, "avg")]), (s, s, 3)),
    "15x15 single filters": lambda s: (_spec("grayscale", s, [_conv(1, 15, i) for i in range(4)]), (s, s)),
    "16 channels into one 15x15": lambda s: (_spec("grayscale", s, [_conv(16, 3), _conv(1, 15)]), (s, s)),
    "many filters": lambda s: (_spec("rgb", s, [_conv(64, 7), _conv(64, 7, 64)]), (s, s, 3)),
    "deep stack": lambda s: (
        _spec("grayscale", s, [layer for i in range(16) for layer in (_conv(1, 7, i), _pool(8))]),
        (s, s),
    ),
    "big input, resized, and gelu": lambda s: (
        _spec(
            "rgb",
            s,
            [
                _conv(4, 5),
                {"type": "activation", "function": "gelu"},
                {"type": "activation", "function": "sigmoid"},
                {"type": "activation", "function": "gelu"},
            ],
        ),
        (300, 300, 3),
    ),
}

# The yardstick: a small pipeline with a convolution, pooling and an activation, about 0.1 s here.
YARD = (_spec("grayscale", 768, [_conv(4, 5), _pool(8), {"type": "activation", "function": "tanh"}]), (768, 768))


def _timed(spec, image) -> float:
    t0 = time.perf_counter()
    cnn_core.run_pipeline(image, spec)
    return time.perf_counter() - t0


@pytest.mark.slow
def _within_2x(est: float, raw: float, scaled: float) -> bool:
    # The raw time is the truth on an idle machine (CI); under load the yardstick's slowdown correction
    # stands in. The correction assumes the yardstick's own estimate is exact, so it can over-correct
    # on an idle machine: either reading within 2× of the estimate passes, neither fails.
    return est / 2 <= raw <= 2 * est or est / 2 <= scaled <= 2 * est


def test_actual_time_is_within_2x_of_the_estimate_near_the_budget():
    rng = np.random.default_rng(0)
    yard_image = (rng.random(YARD[1]) * 255).astype(np.uint8)
    yard_est = _estimate(*YARD)
    _timed(YARD[0], yard_image)  # warm up TensorFlow's kernels
    report = []
    for name, build in ADVERSARIAL.items():
        spec, image_shape = _near_budget(build)
        est = _estimate(spec, image_shape)
        # Near a limit, not a toy: a good part of the time budget (4096² caps the single-filter stacks at
        # about 1 s), or (for the biggest inputs) the feature-map memory.
        near_memory = sum(4 * math.prod(p.shape) for p in plan(spec, image_shape)) > 0.6 * MAX_STACK_BYTES
        assert est > 0.2 * BUDGET or near_memory, (name, est)
        image = (rng.random(image_shape) * 255).astype(np.uint8)
        best_raw = best = float("inf")
        for attempt in range(3):
            y0 = _timed(YARD[0], yard_image)
            t = _timed(spec, image)
            y1 = _timed(YARD[0], yard_image)
            slowdown = max(1.0, (y0 + y1) / 2 / yard_est)
            best_raw, best = min(best_raw, t), min(best, t / slowdown)
            if attempt >= 1 and _within_2x(est, best_raw, best):
                break
        report.append(
            f"{name}: estimate {est:.2f} s, measured {best_raw:.2f} s, scaled to an idle machine {best:.2f} s"
        )
        print(report[-1], flush=True)
        assert _within_2x(est, best_raw, best), report[-1]
        assert best <= 10.0, report[-1]


# --------------------------------------------------------------------------- the first run holds the budget too

# The probe's views (issue 27), each estimated at 3.98–4.0 s; before, their first run took 3–6× that,
# because the chooser measured and compiled while the visitor waited.
FIRST_RUN_VIEWS = {
    "two 64×64 max pools at 1672²": (_spec("grayscale", 1672, [_pool(64)] * 2), (1672, 1672)),
    "48 + 24 average pools at 3680² RGB": (_spec("rgb", 3680, [_pool(48, "avg"), _pool(24, "avg")]), (3680, 3680, 3)),
    "3×3 then 15×15, 64 filters, at 1032²": (_spec("grayscale", 1032, [_conv(64, 3), _conv(64, 15, 64)]), (1032, 1032)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FIRST_RUN_VIEWS))
def test_a_view_s_first_run_stays_within_2x_of_its_estimate(name, monkeypatch):
    from cnn_core import chooser, formulations

    fresh = chooser.Chooser(background=True)  # nothing chosen yet: every shape here is new to it
    monkeypatch.setattr(formulations, "CHOOSER", fresh)
    spec, image_shape = FIRST_RUN_VIEWS[name]
    est = _estimate(spec, image_shape)
    assert 3.9 <= est <= BUDGET, (name, est)  # the probe's views, just under the budget
    rng = np.random.default_rng(1)
    yard_image = (rng.random(YARD[1]) * 255).astype(np.uint8)
    _timed(YARD[0], yard_image)
    y0 = _timed(YARD[0], yard_image)
    image = (rng.random(image_shape) * 255).astype(np.uint8)
    first = _timed(spec, image)
    y1 = _timed(YARD[0], yard_image)
    slowdown = max(1.0, (y0 + y1) / 2 / _estimate(*YARD))
    report = (
        f"{name}: estimate {est:.2f} s, first run {first:.2f} s, scaled to an idle machine {first / slowdown:.2f} s"
    )
    print(report, flush=True)
    assert _within_2x(est, first, first / slowdown), report
    fresh.wait_idle(120)  # what it measured after the answer, before the next test times anything
    fresh.clear()
