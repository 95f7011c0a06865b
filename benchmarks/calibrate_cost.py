"""Measure what each kind of stage costs here and print the coefficients for cnn_core/cost.py.

    python -m benchmarks.calibrate_cost            # about 2 minutes on 2 quiet cores
    python -m benchmarks.calibrate_cost --quick    # a smaller grid, to check the script runs

Run it on the reference machine (the 2-core server the README's limit is stated for) when nothing
else is running, after any change to cnn_core/ops.py, and paste the printed ``COEFFS`` over the
ones in cnn_core/cost.py. It times each op the way ``run_pipeline`` calls it (the fastest of a few
repeats, which is the machine's own speed without other load), fits each family's coefficients by
least squares on relative error, and prints every measured stage with its estimate, so a model that
no longer fits shows as ratios far from 1.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

import numpy as np

from cnn_core import cost
from cnn_core.pipeline import _axes, plan, prepare_input, run_layer
from cnn_core.spec import Activation, Conv2D, parse_spec


def _best(fn, repeats: int) -> float:
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        gc.enable()
    return best


def _layer_cases(quick: bool) -> list[tuple[tuple[int, int, int], dict]]:
    """(input shape, layer dict) pairs spanning the sizes the app accepts."""
    sizes = (256, 1024) if quick else (256, 512, 1024, 2048)
    cases: list[tuple[tuple[int, int, int], dict]] = []
    for s in sizes:
        for cin, n, k in (
            (1, 1, 3),
            (1, 1, 15),
            (1, 4, 5),
            (1, 16, 7),
            (1, 17, 3),
            (3, 8, 3),
            (3, 32, 3),
            (16, 1, 15),
            (32, 32, 3),
            (8, 64, 5),
            (64, 64, 3),
            (32, 2, 7),
        ):
            if s * s * cin * n * k * k * max(n, 16) / n > (2e11 if not quick else 2e10):
                continue
            cases.append(
                (
                    (s, s, cin),
                    {
                        "type": "conv2d",
                        "stride": 1,
                        "padding": "same",
                        "filters": [{"init": "he_normal", "seed": j, "size": [k, k]} for j in range(n)],
                    },
                )
            )
        for c, k, st in (
            (1, 2, 2),
            (1, 3, 1),
            (1, 8, 1),
            (1, 16, 1),
            (1, 32, 1),
            (1, 64, 1),
            (8, 4, 1),
            (3, 16, 2),
            (3, 32, 1),
            (1, 64, 64),
            (32, 2, 2),
            (16, 8, 1),
            (4, 8, 1),
            (64, 3, 1),
        ):
            if s * s * c * k * k / (st * st) > (3e10 if not quick else 3e9):
                continue
            for mode in ("max", "avg"):
                cases.append(((s, s, c), {"type": "pool2d", "mode": mode, "size": k, "stride": st, "padding": "same"}))
        for fn in ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu"):
            cases.append(((s, s, 8), {"type": "activation", "function": fn}))
    return cases


def _input_cases(quick: bool) -> list[tuple[tuple[int, ...], dict]]:
    big = 2048 if quick else 4096
    return [
        ((big, big, 3), {"color": "rgb", "size": None}),
        ((big, big, 3), {"color": "grayscale", "size": None}),
        ((big, big, 3), {"color": "rgb", "size": [1024, 1024]}),
        ((1024, 1024, 3), {"color": "rgb", "size": [big, big]}),
        ((300, 300), {"color": "grayscale", "size": [big, big]}),
        ((big, big), {"color": "grayscale", "size": [300, 300]}),
    ]


def _cases(quick: bool):
    """(family, features, label, make) for every case; ``make()`` builds the input and returns the timed call.

    Inputs are built round by round and dropped after timing, so the grid never holds them all at once.
    """
    out = []
    for i, (shape, layer) in enumerate(_layer_cases(quick)):
        lay = parse_spec({"version": 1, "layers": [layer]}).layers[0]
        fam, feats = cost.layer_features(lay, shape, _out_shape(lay, shape))

        def make(shape=shape, lay=lay, seed=i):
            x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
            return lambda: np.ascontiguousarray(run_layer(x, lay), dtype=np.float32)

        out.append((fam, feats, f"{shape} {layer['type']} {_short(layer)}", make))
    for i, (image_shape, inp) in enumerate(_input_cases(quick)):
        spec = parse_spec({"version": 1, "input": inp, "layers": []})
        p = plan(spec, image_shape)[0]

        def make(image_shape=image_shape, spec=spec, seed=i):
            img = np.random.default_rng(seed).integers(0, 256, image_shape, dtype=np.uint8)
            return lambda: prepare_input(img, spec)

        out.append(("input", cost.input_features(image_shape, p.shape), f"{image_shape} -> {p.shape}", make))
    return out


def measure(quick: bool = False, rounds: int = 3, only: tuple[str, ...] = ()) -> list[tuple[str, tuple, float, str]]:
    """Time every case ``rounds`` times, round by round, keeping each case's fastest time.

    Going round by round spreads each case's repeats over the whole run, so a busy spell on a shared
    machine spoils one sample of many cases rather than every sample of one. The first call of each
    case in a round warms its kernels and is not counted.
    """
    cases = [c for c in _cases(quick) if not only or c[0].startswith(only)]
    best = [float("inf")] * len(cases)
    for _ in range(rounds):
        for i, (*_, make) in enumerate(cases):
            run = make()
            run()
            best[i] = min(best[i], _best(run, 1))
            del run
    return [(fam, feats, t, label) for (fam, feats, label, _), t in zip(cases, best)]


def _out_shape(layer, shape):
    """The layer's output (height, width, channels) on a ``shape`` input."""
    h, w, c = shape
    if isinstance(layer, Activation):
        return shape
    if isinstance(layer, Conv2D):
        a = _axes(shape, layer.kernel_size, layer.stride, layer.dilation, layer.padding)
        return (a[0].out, a[1].out, len(layer.filters))
    a = _axes(shape, layer.size, layer.stride, (1, 1), layer.padding)
    return (a[0].out, a[1].out, c)


def _short(layer: dict) -> str:
    if layer["type"] == "conv2d":
        f = layer["filters"]
        return f"{len(f)}x{f[0]['size'][0]}x{f[0]['size'][1]}"
    if layer["type"] == "pool2d":
        return f"{layer['mode']} {layer['size']} /{layer['stride']}"
    return layer["function"]


def fit(rows) -> dict[str, tuple[float, ...]]:
    """Non-negative least squares on relative error, per family; coefficients in nanoseconds."""
    out = {}
    for fam in sorted({r[0] for r in rows}):
        sel = [r for r in rows if r[0] == fam]
        a = np.array([r[1] for r in sel], dtype=np.float64) * 1e-9
        t = np.array([r[2] for r in sel]) - cost.STAGE_OVERHEAD
        t = np.maximum(t, 1e-5)
        w = 1.0 / (t + cost.STAGE_OVERHEAD)
        active = [j for j in range(a.shape[1]) if a[:, j].any()]
        coef = np.zeros(a.shape[1])
        while active:
            sol, *_ = np.linalg.lstsq(a[:, active] * w[:, None], t * w, rcond=None)
            if (sol >= 0).all():
                coef[active] = sol
                break
            active = [j for j, v in zip(active, sol) if v > 0]
        out[fam] = tuple(float(f"{c:.3g}") for c in coef)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="times each case is measured (the fastest counts)")
    ap.add_argument("--only", help="measure only these families, e.g. pool2d,input (the rest keep their coefficients)")
    ap.add_argument("--save", help="write the measured rows to this JSON file")
    ap.add_argument("--load", help="fit rows saved by --save instead of measuring")
    args = ap.parse_args(argv)
    if args.load:
        rows = [(f, tuple(x), t, lab) for f, x, t, lab in json.loads(Path(args.load).read_text())]
    else:
        rows = measure(args.quick, args.rounds, tuple(args.only.split(",")) if args.only else ())
    if args.save:
        Path(args.save).write_text(json.dumps(rows))
    coeffs = fit(rows)
    # Families the grid does not cover keep their current coefficients.
    merged = {**cost.COEFFS, **coeffs}
    print(f"{'stage':<44} {'measured':>9} {'estimate':>9} {'ratio':>6}")
    worst = 1.0
    for fam, feats, t, label in rows:
        est = cost.STAGE_OVERHEAD + 1e-9 * sum(c * f for c, f in zip(merged[fam], feats))
        ratio = t / est
        worst = max(worst, ratio, 1 / ratio)
        print(f"{label[:44]:<44} {t * 1e3:8.1f}m {est * 1e3:8.1f}m {ratio:6.2f}")
    print(f"\nworst ratio either way: {worst:.2f}")
    print("\nCOEFFS = {")
    for fam, c in merged.items():
        print(f"    {fam!r}: {c},")
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
