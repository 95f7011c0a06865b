"""cnn_core.explain: the worked sum behind a value equals the map, padding is where TensorFlow puts it,
and the receptive field is the set of pixels a value really depends on.

The padding flags and window contents are checked against a padded array built here in NumPy from
``np_reference``'s pad rule; the receptive field against one-pixel perturbations of a linear twin of the
stack (positive weights, linear activations, average pooling in place of max) run in ``np_reference``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnn_core
import cnn_core.__main__ as cli
from cnn_core.explain import ActivationDetail, ConvDetail, ExplainError, InputDetail, PoolDetail, explain
from tests.core.np_reference import _pads, np_activation, np_layer_kernel, np_run_layer

REPO = Path(__file__).resolve().parents[2]
PADDINGS = ("same", "valid", "int", "pair")
ACTS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "gelu", "linear")


# --------------------------------------------------------------------------- random stacks


def _random_conv(rng, depth: int) -> dict:
    kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    n = int(rng.integers(1, 4))
    filters = []
    for _ in range(n):
        if rng.random() < 0.5:
            filters.append(np.round(rng.normal(size=(kh, kw, depth)), 3).tolist())
        else:
            filters.append(
                {
                    "init": str(rng.choice(["he_normal", "glorot_uniform"])),
                    "seed": int(rng.integers(99)),
                    "size": [kh, kw],
                }
            )
    form = PADDINGS[int(rng.integers(len(PADDINGS)))]
    padding = {
        "same": "same",
        "valid": "valid",
        "int": int(rng.integers(0, 3)),
        "pair": [[int(v) for v in rng.integers(0, 4, 2)], [int(v) for v in rng.integers(0, 4, 2)]],
    }[form]
    return {
        "type": "conv2d",
        "filters": filters,
        "padding": padding,
        "stride": [int(v) for v in rng.integers(1, 4, 2)],
        "dilation": [int(v) for v in rng.integers(1, 4, 2)],
        "bias": [round(float(b), 3) for b in rng.normal(size=n)],
    }


def _random_pool(rng) -> dict:
    return {
        "type": "pool2d",
        "mode": str(rng.choice(["max", "avg"])),
        "size": [int(v) for v in rng.integers(1, 4, 2)],
        "stride": [int(v) for v in rng.integers(1, 4, 2)],
        "padding": str(rng.choice(["same", "valid"])),
    }


def random_case(rng, max_layers: int = 4) -> tuple[np.ndarray, dict, list]:
    """A random image and a mixed stack that TensorFlow can run on it, and its stages."""
    while True:
        color = str(rng.choice(["grayscale", "rgb"]))
        depth = 1 if color == "grayscale" else 3
        h, w = (int(v) for v in rng.integers(4, 14, 2))
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        layers = []
        for _ in range(int(rng.integers(1, max_layers + 1))):
            kind = rng.choice(["conv2d", "activation", "pool2d"], p=[0.5, 0.25, 0.25])
            if kind == "conv2d":
                layers.append(_random_conv(rng, depth))
                depth = len(layers[-1]["filters"])
            elif kind == "activation":
                layers.append({"type": "activation", "function": str(rng.choice(ACTS)), "alpha": 0.15})
            else:
                layers.append(_random_pool(rng))
        spec = {"version": 1, "input": {"color": color, "size": None}, "layers": layers}
        try:
            return image, spec, cnn_core.run_pipeline(image, spec)
        except cnn_core.SpecError:  # the window doesn't fit this small image: draw again
            continue


def _window_reference(x: np.ndarray, layer: dict, kernel, stride, dilation, row: int, col: int):
    """(values with 0 for padding, padding mask) of output (row, col)'s window, from a padded copy of x."""
    (pt, pb), (pl, pr) = _pads(x.shape, kernel, stride, dilation, layer["padding"])
    h, w, c = x.shape
    padded = np.full((h + pt + pb, w + pl + pr, c), np.nan)
    padded[pt : pt + h, pl : pl + w] = x
    r0, c0 = row * stride[0], col * stride[1]
    win = padded[
        r0 : r0 + dilation[0] * (kernel[0] - 1) + 1 : dilation[0],
        c0 : c0 + dilation[1] * (kernel[1] - 1) + 1 : dilation[1],
    ]
    assert win.shape[:2] == tuple(kernel)
    pad = np.isnan(win[:, :, 0])
    return np.nan_to_num(win, nan=0.0), pad


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _check_value(stages, spec, k: int, row: int, col: int, ch: int) -> None:
    ex = explain(stages, k, row, col, ch)
    value = float(stages[k].maps[row, col, ch])
    assert ex.value == value and (ex.stage, ex.row, ex.col, ex.channel) == (k, row, col, ch)
    d = ex.detail
    if k == 0:
        assert isinstance(d, InputDetail) and d.value == value
        return
    layer = spec["layers"][k - 1]
    x = stages[k - 1].maps.astype(np.float64)
    if layer["type"] == "conv2d":
        assert isinstance(d, ConvDetail)
        kern = np_layer_kernel(layer["filters"], x.shape[2])[:, :, :, ch]
        stride, dil = _pair(layer["stride"]), _pair(layer["dilation"])
        ref, pad = _window_reference(x, layer, kern.shape[:2], stride, dil, row, col)
        np.testing.assert_array_equal(d.padding, pad)
        np.testing.assert_array_equal(d.inputs, ref)
        np.testing.assert_allclose(d.weights, kern, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(d.products, d.inputs * d.weights, rtol=1e-12)
        np.testing.assert_allclose(d.partial_sums, d.products.sum(axis=(0, 1)), rtol=1e-12, atol=1e-12)
        assert d.bias == pytest.approx(layer["bias"][ch])
        scale = max(1.0, float(np.abs(d.products).sum()) + abs(d.bias))
        assert abs(d.total - value) <= 1e-5 * scale, (d.total, value)
        assert abs(sum(t.product for t in d.terms) + d.bias - value) <= 1e-5 * scale
        # Every term names its cell in the input; a padding term reads 0.
        h, w = x.shape[:2]
        for t in d.terms:
            outside = not (0 <= t.row < h and 0 <= t.col < w)
            assert t.padding == outside
            assert t.input == (0.0 if outside else x[t.row, t.col, t.channel])
    elif layer["type"] == "activation":
        assert isinstance(d, ActivationDetail)
        assert d.input == x[row, col, ch] and d.output == value
        ref = float(np_activation(np.array([d.input]), layer["function"], layer["alpha"])[0])
        assert value == pytest.approx(ref, rel=1e-5, abs=1e-6)
    else:
        assert isinstance(d, PoolDetail)
        size, stride = _pair(layer["size"]), _pair(layer["stride"])
        ref, pad = _window_reference(x[:, :, ch : ch + 1], layer, size, stride, (1, 1), row, col)
        assert [c.padding for c in d.window] == pad.ravel().tolist()
        real = ref[:, :, 0][~pad]
        assert [c.value for c in d.window if not c.padding] == real.tolist()
        assert d.count == real.size and d.total == value
        if layer["mode"] == "max":
            assert d.winner is not None and not d.winner.padding
            assert d.winner.value == value == real.max()
        else:
            assert d.sum / d.count == pytest.approx(value, rel=1e-5, abs=1e-6)


def test_explained_values_equal_the_maps_over_many_random_stacks():
    rng = np.random.default_rng(11)
    checked = {"conv2d": 0, "activation": 0, "pool2d": 0, "input": 0}
    forms = set()
    for _ in range(70):
        _, spec, stages = random_case(rng)
        for layer in spec["layers"]:
            if layer["type"] == "conv2d":
                p = layer["padding"]
                forms.add(p if isinstance(p, str) else "int" if isinstance(p, int) else "pair")
        for _ in range(6):
            k = int(rng.integers(len(stages)))
            h, w, c = stages[k].shape
            # Corners are where padding lives; pick them often.
            row = int(rng.choice([0, h - 1, rng.integers(h)]))
            col = int(rng.choice([0, w - 1, rng.integers(w)]))
            _check_value(stages, spec, k, row, col, int(rng.integers(c)))
            checked[stages[k].name] += 1
    assert sum(checked.values()) == 420
    assert min(checked.values()) >= 20, checked
    assert forms == set(PADDINGS)


def test_same_padding_puts_the_extra_row_and_column_bottom_right():
    # 4×4, kernel 2, stride 2 → 2×2 out; total padding (2−1)·2 + 2 − 4 = 0. Kernel 3 → 1 extra: bottom/right.
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": None},
        "layers": [{"type": "conv2d", "filters": [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]], "stride": 2, "padding": "same"}],
    }
    stages = cnn_core.run_pipeline(np.full((4, 4), 255, np.uint8), spec)
    first = explain(stages, 1, 0, 0).detail
    last = explain(stages, 1, 1, 1).detail
    assert first.pads == ((0, 1), (0, 1))
    assert not first.padding.any() and first.rows[:, 0].tolist() == [0, 1, 2]
    assert last.rows[:, 0].tolist() == [2, 3, 4] and last.padding[2].all() and last.padding[:, 2].all()
    assert last.padding.sum() == 5 and last.total == pytest.approx(4.0) == explain(stages, 1, 1, 1).value


def test_average_pooling_with_same_padding_counts_only_real_cells():
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": None},
        "layers": [{"type": "pool2d", "mode": "avg", "size": 3, "stride": 2, "padding": "same"}],
    }
    image = np.arange(25, dtype=np.uint8).reshape(5, 5) * 10
    stages = cnn_core.run_pipeline(image, spec)
    corner = explain(stages, 1, 0, 0).detail  # pads (1, 1): the top-left window has 4 real cells
    assert corner.count == 4 and sum(c.padding for c in corner.window) == 5
    assert corner.sum / 4 == pytest.approx(stages[1].maps[0, 0, 0], rel=1e-6)
    assert explain(stages, 1, 0, 0).to_dict()["count"] == 4


def test_activation_shows_its_formula_and_the_numbers():
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": None},
        "layers": [{"type": "conv2d", "filters": [[[-1.0]]], "bias": 0.25}, {"type": "activation"}],
    }
    stages = cnn_core.run_pipeline(np.full((3, 3), 255, np.uint8), spec)
    d = explain(stages, 2, 1, 1).detail
    assert d.formula == "max(0, x)" and d.input == pytest.approx(-0.75) and d.output == 0
    assert d.worked == "max(0, -0.75) = 0"


def test_explaining_reads_the_stages_and_runs_no_tensorflow(monkeypatch):
    rng = np.random.default_rng(3)
    _, _, stages = random_case(rng)

    def refuse(*a, **k):
        raise AssertionError("explain recomputed a map")

    for name in ("conv2d", "activation", "pool2d"):
        monkeypatch.setattr(cnn_core.ops, name, refuse)
    for k in range(len(stages)):
        explain(stages, k, 0, 0, 0)


def test_bad_stage_position_and_channel_say_what_is_allowed():
    stages = cnn_core.run_pipeline(np.zeros((6, 5), np.uint8), cnn_core.default_spec())
    with pytest.raises(ExplainError, match=r"stage: 4 is not a stage; stages are numbered 0 \(the input\) to 3"):
        explain(stages, 4, 0, 0)
    with pytest.raises(ExplainError, match=r"position: \(300, 0\) is outside stage 1's 300×300 map; rows are 0–299"):
        explain(stages, 1, 300, 0)
    with pytest.raises(ExplainError, match="position"):
        explain(stages, 3, 0, -1)
    with pytest.raises(ExplainError, match="channel: 1 is not a channel of stage 2; it has channels 0–0"):
        explain(stages, 2, 0, 0, 1)


# --------------------------------------------------------------------------- receptive field


def _twin(spec: dict, rng) -> list[dict]:
    """The stack with the same geometry made linear: positive weights, linear activations, avg for max."""
    layers = []
    for layer in spec["layers"]:
        if layer["type"] == "conv2d":
            first = layer["filters"][0]
            kh, kw = np.array(first).shape[:2] if isinstance(first, list) else first["size"]
            layers.append({**layer, "bias": 0.0, "filters": [rng.uniform(0.5, 1.5, (kh, kw)).tolist()]})
        elif layer["type"] == "activation":
            layers.append({"type": "activation", "function": "linear"})
        else:
            layers.append({**layer, "mode": "avg"})
    return layers


def _dependence(x0: np.ndarray, layers: list[dict]) -> list[np.ndarray]:
    """For every stage after the input, a bool (H, W, h, w) array: does output (H, W) change when pixel
    (h, w) of the input is perturbed? One pixel at a time, through the twin."""

    def run(x):
        outs = []
        for layer in layers:
            x = np_run_layer(x, layer)
            outs.append(x.sum(axis=2))  # positive weights: no channel can cancel another
        return outs

    base = run(x0)
    h, w = x0.shape[:2]
    dep = [np.zeros((*b.shape, h, w), bool) for b in base]
    for i in range(h):
        for j in range(w):
            x = x0.copy()
            x[i, j] += 1.0
            for d, b, o in zip(dep, base, run(x)):
                d[:, :, i, j] = np.abs(o - b) > 1e-9
    return dep


def test_receptive_field_matches_one_pixel_perturbations_of_a_linear_twin():
    rng = np.random.default_rng(5)
    compared = exact_sides = 0
    for _ in range(14):
        image, spec, stages = random_case(rng, max_layers=3)
        x0 = np.ones(stages[0].shape[:2] + (1,))
        dep = _dependence(x0, _twin(spec, rng))
        h, w = x0.shape[:2]
        for k in range(1, len(stages)):
            assert dep[k - 1].shape[:2] == stages[k].shape[:2]
            for r in range(stages[k].shape[0]):
                for c in range(stages[k].shape[1]):
                    rf = cnn_core.receptive_field(stages, k, r, c)
                    rows, cols = np.nonzero(dep[k - 1][r, c])
                    if rf.box is None:  # wholly in padding
                        assert rows.size == 0
                        continue
                    t, left, b, right = rf.box
                    assert rows.size, "a field inside the image must depend on some pixel"
                    # Every pixel that matters is inside the box...
                    assert t <= rows.min() and rows.max() <= b and left <= cols.min() and cols.max() <= right
                    # ...and each side of the box that the image does not clip is reached exactly.
                    top, lft = rf.start
                    bot, rgt = top + rf.size[0] - 1, lft + rf.size[1] - 1
                    for side_in_image, got, want in (
                        (top >= 0, rows.min(), top),
                        (lft >= 0, cols.min(), lft),
                        (bot < h, rows.max(), bot),
                        (rgt < w, cols.max(), rgt),
                    ):
                        if side_in_image:
                            assert got == want
                            exact_sides += 1
                    assert rf.padding_pixels == rf.size[0] * rf.size[1] - (b - t + 1) * (right - left + 1)
                    compared += 1
    assert compared > 300 and exact_sides > 600, (compared, exact_sides)


def test_receptive_field_recurrence_by_hand():
    # conv 3×3 (d 2) → pool 2/2 → conv 3×3 s 2: r = 1 + 2·2·1 = 5, j 1; r = 5 + 1·1 = 6, j 2; r = 6 + 2·2 = 10, j 4.
    spec = {
        "version": 1,
        "input": {"color": "grayscale", "size": None},
        "layers": [
            {"type": "conv2d", "filters": ["edge"], "dilation": 2, "padding": "valid"},
            {"type": "pool2d", "size": 2},
            {"type": "conv2d", "filters": ["edge"], "stride": 2, "padding": "valid"},
        ],
    }
    stages = cnn_core.run_pipeline(np.zeros((40, 40), np.uint8), spec)
    rf = cnn_core.receptive_field(stages, 3, 1, 2)
    assert rf.size == (10, 10) and rf.jump == (4, 4)
    assert rf.box == (4, 8, 13, 17) and rf.padding_pixels == 0


# --------------------------------------------------------------------------- command line


CLI_SPEC = {
    "version": 1,
    "input": {"color": "rgb", "size": None},
    "layers": [
        {
            "type": "conv2d",
            "filters": [{"init": "he_normal", "seed": 2, "size": 3}, "edge"],
            "stride": 2,
            "padding": "same",
            "bias": [0.5, -0.25],
        },
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "avg", "size": 3, "stride": 2, "padding": "same"},
    ],
}


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain_cli")
    image = np.random.default_rng(9).integers(0, 256, (11, 14, 3), dtype=np.uint8)
    Image.fromarray(image).save(root / "pic.png")
    (root / "spec.json").write_text(json.dumps(CLI_SPEC))
    return root, image


def test_cli_prints_the_conv_sum_as_json(cli_files):
    root, image = cli_files
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cnn_core",
            "explain",
            str(root / "pic.png"),
            "--spec",
            str(root / "spec.json"),
            "--stage",
            "1",
            "--at",
            "5",
            "6",
            "--channel",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    stages = cnn_core.run_pipeline(image, CLI_SPEC)
    assert out["value"] == float(stages[1].maps[5, 6, 0])
    assert len(out["terms"]) == 3 * 3 * 3
    assert set(out["terms"][0]) == {"row", "col", "channel", "input", "padding", "weight", "product"}
    assert abs(sum(t["product"] for t in out["terms"]) + out["bias"] - out["value"]) < 1e-5
    assert out["bias"] == 0.5 and out["total"] == pytest.approx(out["value"], abs=1e-5)
    # 14 wide, stride 2, kernel 3 → 7 out, total padding 1: none on the left, one column on the right;
    # 11 high → 6 out, total padding 2: one row on top, so row 5 reads rows 9–11.
    assert [t["col"] for t in out["terms"][:3]] == [12, 13, 14] and [t["padding"] for t in out["terms"][:3]] == [
        False,
        False,
        True,
    ]
    assert out["receptive_field"] == {
        "size": [3, 3],
        "start": [9, 12],
        "box": [9, 12, 10, 13],
        "jump": [2, 2],
        "padding_pixels": 5,
        "padding_share": round(5 / 9, 6),
    }


def test_cli_pool_stage_gives_window_and_count(cli_files, capsys):
    root, image = cli_files
    rc = cli.main(
        [
            "explain",
            str(root / "pic.png"),
            "--spec",
            str(root / "spec.json"),
            "--stage",
            "3",
            "--at",
            "0",
            "0",
            "--channel",
            "1",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    # Stage 2 is 6×7. Height: 3 out, total padding 1, all of it below → rows 0–2 real. Width: 4 out, total
    # padding 2, one column on the left → columns −1 (padding), 0, 1. So 3·2 = 6 real cells.
    assert out["mode"] == "avg" and out["count"] == 6 and len(out["window"]) == 9
    assert [c["padding"] for c in out["window"]] == [True, False, False] * 3
    assert out["sum"] / out["count"] == pytest.approx(out["value"], rel=1e-5)
    assert out["receptive_field"]["size"] == [7, 7] and out["receptive_field"]["jump"] == [4, 4]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--stage", "4", "--at", "0", "0"], "error: stage: 4 is not a stage; stages are numbered 0 (the input) to 3"),
        (["--stage", "1", "--at", "6", "0"], "error: position: (6, 0) is outside stage 1's 6×7 map"),
        (["--stage", "1", "--at", "0", "-1"], "error: position: (0, -1) is outside"),
        (["--stage", "2", "--at", "0", "0", "--channel", "2"], "error: channel: 2 is not a channel of stage 2"),
    ],
)
def test_cli_bad_requests_get_one_error_line(cli_files, capsys, args, message):
    root, _ = cli_files
    rc = cli.main(["explain", str(root / "pic.png"), "--spec", str(root / "spec.json"), *args])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith(message) and err.count("\n") == 1


# --------------------------------------------------------------------------- the position in a link


def test_a_link_carries_the_explained_position_and_old_links_still_open():
    from cnn_core import share

    state = share.LinkState(at=(1, 299, 7, 0))
    params = share.encode_state(state)
    assert params["at"] == "1.299.7.0"
    back, warning = share.decode_state(params)
    assert warning is None and back.at == (1, 299, 7, 0) and back.spec == state.spec
    old = {k: v for k, v in params.items() if k != "at"}
    back, warning = share.decode_state(old)
    assert warning is None and back.at is None


@pytest.mark.parametrize(
    "at, reason",
    [
        ("4.0.0.0", "stage 4, but its layers make stages 0 to 3"),
        ("3.150.0.0", "outside stage 3's 150×150×1 maps"),
        ("1.0.0.1", "outside stage 1's 300×300×1 maps"),
        ("1.-1.0.0", "four whole numbers"),
        ("1.2.3", "four whole numbers"),
        ("<b>1</b>", "four whole numbers"),
    ],
)
def test_a_link_pointing_outside_the_maps_is_refused_with_one_warning(at, reason):
    from cnn_core import share

    params = {**share.encode_state(share.LinkState()), "at": at}
    state, warning = share.decode_state(params)
    assert state == share.LinkState() and reason in warning


def test_the_click_benchmark_runs_and_reports_against_its_target():
    from benchmarks import explain as bench

    figures, detail = bench.run(quick=True, repeats=1)
    assert [f.target.text() for f in figures] == ["≤ 100 ms", "≤ 100 ms"]
    assert all(len(f.samples) == detail["clicks"] == 3 for f in figures)
    assert all(f.status == "" for f in figures)  # quick runs are not judged


# --------------------------------------------------------------------------- the animation around a value


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_animation_around_a_value_covers_it_and_shows_the_computed_maps(seed):
    """Frames around output (r, c) hold (r, c), its neighbours clipped at the borders, and at every cell the
    layer's own value: the stage's TensorFlow map for pooling and for a one-channel convolution (less its
    bias), and a NumPy partial sum over the chosen input channel for a deeper one."""
    from cnn_core import kinds

    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 25:
        _, spec, stages = random_case(rng)
        for k in range(1, len(stages)):
            layer = spec["layers"][k - 1]
            if layer["type"] not in ("conv2d", "pool2d"):
                continue
            x, y = stages[k - 1].maps, stages[k].maps
            kind, op = kinds.of_spec(stages[k].plan.layer, x.shape[2])
            if kind.window(op) is None:
                continue
            radius = int(rng.integers(1, 4))
            r, c, ch = (int(rng.integers(0, n)) for n in y.shape)
            in_ch = int(rng.integers(0, x.shape[2])) if layer["type"] == "conv2d" else ch
            fr = kind.frames_at(op, x, in_ch, ch, (r, c), radius)
            (o0, q0), (ho, wo) = fr.out_origin, fr.out.shape
            # The block holds the clicked cell, has the full side unless the map is smaller, stays inside.
            assert o0 <= r < o0 + ho and q0 <= c < q0 + wo
            assert (ho, wo) == (min(2 * radius + 1, y.shape[0]), min(2 * radius + 1, y.shape[1]))
            assert o0 + ho <= y.shape[0] and q0 + wo <= y.shape[1]
            if 0 < r < y.shape[0] - 1 and ho == 2 * radius + 1 and radius <= r < y.shape[0] - radius:
                assert r - o0 == radius  # centred where there is room
            # Each frame's taps, moved to the whole input, are that output's window in the whole input.
            kernel, stride, dil, _ = kind.window(op)
            pads = _pads(
                x.shape, kernel, stride, dil, layer.get("padding", "same" if layer["type"] == "conv2d" else "valid")
            )
            (i0, j0) = fr.in_origin
            for t, (tr, tc, pad) in enumerate(fr.taps):
                i, j = divmod(t, wo)
                rows = (i + o0) * stride[0] - pads[0][0] + dil[0] * np.arange(kernel[0])
                cols = (j + q0) * stride[1] - pads[1][0] + dil[1] * np.arange(kernel[1])
                rr, cc = np.meshgrid(rows, cols, indexing="ij")
                assert (tr + i0 == rr.ravel()).all() and (tc + j0 == cc.ravel()).all()
                outside = (rr < 0) | (rr >= x.shape[0]) | (cc < 0) | (cc >= x.shape[1])
                assert (pad == outside.ravel()).all()
            if layer["type"] == "pool2d":
                ref = y[o0 : o0 + ho, q0 : q0 + wo, ch].astype(np.float64)
                seen = np.isfinite(fr.out)
                np.testing.assert_allclose(fr.out[seen], ref[seen], rtol=1e-5, atol=1e-6)
            else:
                kern = np_layer_kernel(layer["filters"], x.shape[2])[:, :, in_ch : in_ch + 1, ch : ch + 1]
                part = np.zeros((ho, wo))
                for i in range(ho):
                    for j in range(wo):
                        win, _ = _window_reference(x[:, :, in_ch : in_ch + 1].astype(np.float64), layer, kernel,
                                                   stride, dil, i + o0, j + q0)  # fmt: skip
                        part[i, j] = float((win[:, :, 0] * kern[:, :, 0, 0]).sum())
                np.testing.assert_allclose(fr.out, part, rtol=1e-4, atol=1e-4)
                if x.shape[2] == 1:
                    bias = stages[k].plan.layer.bias[ch]
                    ref = y[o0 : o0 + ho, q0 : q0 + wo, ch].astype(np.float64) - bias
                    np.testing.assert_allclose(fr.out, ref, rtol=1e-4, atol=1e-4)
            checked += 1


def test_the_animation_around_a_corner_value_is_clipped_not_shifted_off_the_map():
    from cnn_core import kinds

    spec = cnn_core.default_spec().to_dict()
    spec["input"]["size"] = None
    image = np.random.default_rng(5).integers(0, 256, (30, 40), dtype=np.uint8)
    stages = cnn_core.run_pipeline(image, spec)
    assert stages[1].shape == (30, 40, 1)
    kind, op = kinds.of_spec(stages[1].plan.layer, stages[0].shape[2])
    for at, origin in (((0, 0), (0, 0)), ((29, 39), (23, 33)), ((15, 20), (12, 17)), ((1, 38), (0, 33))):
        fr = kind.frames_at(op, stages[0].maps, 0, 0, at)
        assert fr.out_origin == origin and fr.out.shape == (7, 7)
        ref = stages[1].maps[origin[0] : origin[0] + 7, origin[1] : origin[1] + 7, 0] - stages[1].plan.layer.bias[0]
        np.testing.assert_allclose(fr.out, ref, rtol=1e-5, atol=1e-4)
