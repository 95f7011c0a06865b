"""The Units scan: top-K pictures per channel through Ray Data, against a brute-force Keras computation, and the
receptive-field boxes against where the input gradient of a value is non-zero."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from cnn_core import units
from cnn_core.errors import CnnError, ModelError
from tests.core import model_builders


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(address="local", num_cpus=2, object_store_memory=80 * 2**20, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _model_bytes(model: keras.Model, tmp: Path) -> bytes:
    path = tmp / f"{model.name}.keras"
    model.save(path)
    return path.read_bytes()


def _folder(tmp: Path, side: tuple[int, int], n: int, seed: int) -> Path:
    """``n`` random RGB pictures at exactly the model's input size (so feeding them is only a rescale), some in a
    sub-folder, plus a broken file and a text file that is no picture."""
    rng = np.random.default_rng(seed)
    root = tmp / "pictures"
    (root / "more").mkdir(parents=True)
    for k in range(n):
        pixels = rng.integers(0, 256, (*side, 3), dtype=np.uint8)
        # A bright blob somewhere, so maxima move around rather than sit on noise alone.
        r, c = rng.integers(0, side[0] - 4), rng.integers(0, side[1] - 4)
        pixels[r : r + 4, c : c + 4] = rng.integers(150, 256, 3, dtype=np.uint8)
        Image.fromarray(pixels).save(root / ("more" if k % 4 == 0 else "") / f"pic{k:02d}.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "notes.txt").write_text("not a picture")
    return root


def _brute_force(model: keras.Model, layer_output, root: Path, scale: float, k: int) -> dict:
    """Every picture through Keras at once; per channel the k best (value, name, row, col), ties by name."""
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("pic*.png"))
    x = np.stack([np.asarray(Image.open(root / n).convert("RGB"), np.float32) * scale for n in names])
    maps = keras.Model(model.inputs[0], layer_output)(x, training=False).numpy()
    out = {}
    for ch in range(maps.shape[-1]):
        rows = []
        for i, name in enumerate(names):
            m = maps[i, :, :, ch]
            r, c = np.unravel_index(np.argmax(m), m.shape)
            rows.append((-float(m[r, c]), name, int(r), int(c)))
        out[ch] = sorted(rows)[:k]
    return out


def _compare(result: units.ScanResult, expected: dict) -> None:
    assert len(result.channels) == len(expected)
    for ch, hits in enumerate(result.channels):
        want = expected[ch]
        assert [h.image for h in hits] == [w[1] for w in want], f"channel {ch}"
        np.testing.assert_allclose([h.value for h in hits], [-w[0] for w in want], rtol=1e-4, atol=1e-5)
        assert [(h.row, h.col) for h in hits] == [(w[2], w[3]) for w in want]


@pytest.mark.slow
def test_top_k_matches_brute_force_keras_through_ray_with_two_workers(local_ray, tmp_path):
    keras.utils.set_random_seed(7)
    inp = keras.Input((20, 24, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", name="c1")(inp)
    x = keras.layers.ReLU(name="r1")(x)
    x = keras.layers.MaxPooling2D(2, name="p1")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, name="c2")(x)
    out = keras.layers.Dense(3, name="head")(keras.layers.GlobalAveragePooling2D(name="gap")(x))
    model = keras.Model(inp, out, name="plain")
    root = _folder(tmp_path, (20, 24), 23, seed=1)
    items, skipped = units.folder_items(root)
    assert len(items) == 24 and skipped == []  # 23 pictures and the broken one; the .txt is not a picture
    data = _model_bytes(model, tmp_path)
    seen = []
    result = units.scan(
        data,
        "plain.keras",
        items,
        "c2",
        top=4,
        workers=2,
        batch_size=5,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.workers == 2
    assert seen[-1] == (24, 24) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert result.scanned == 23
    assert [n for n, _ in result.skipped] == ["broken.png"]
    assert result.map_shape == (4, 5, 5)
    _compare(result, _brute_force(model, model.get_layer("c2").output, root, 1 / 255, 4))

    # The file and the crops: each crop is the picture's receptive-field box, cut from the pixels fed.
    doc = json.loads(units.write(result, items, data, "plain.keras", tmp_path / "out").read_text())
    assert doc["layer"] == "c2" and [c["channel"] for c in doc["channels"]] == list(range(5))
    assert doc["scanned"] == 23 and [s["image"] for s in doc["skipped"]] == ["broken.png"]
    for c in doc["channels"]:
        for hit in c["top"]:
            t, left, b, r = hit["box"]
            # c2 (3×3) over 2×2 pooling over a 3×3 "same" convolution: (3 − 1)·2 + 2 + 2 = 8 cells a side,
            # one fewer where "same" padding's row or column falls outside the picture.
            assert b - t + 1 == (7 if hit["row"] == 0 else 8) and r - left + 1 == (7 if hit["col"] == 0 else 8)
            assert (t, left) == (max(4 * hit["row"] - 1, 0), max(4 * hit["col"] - 1, 0))
            crop = np.asarray(Image.open(tmp_path / "out" / hit["crop"]))
            np.testing.assert_array_equal(crop, np.asarray(Image.open(root / hit["image"]))[t : b + 1, left : r + 1])


@pytest.mark.slow
def test_nested_layer_and_raw_pixel_range_match_brute_force(local_ray, tmp_path):
    model = model_builders.nested()  # Rescaling(1/255) first, so the scan feeds raw 0–255 pixels
    root = _folder(tmp_path, (16, 16), 10, seed=2)
    items, _ = units.folder_items(root)
    result = units.scan(
        _model_bytes(model, tmp_path), "nested.keras", items, "backbone/block/blk_conv", top=3, workers=1, batch_size=4
    )
    assert result.value_range == "0-255"
    backbone = model.get_layer("backbone")
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("pic*.png"))
    x = np.stack([np.asarray(Image.open(root / n), np.float32) / 255 for n in names])
    # Layer by layer, eagerly: the backbone's first convolution, then the block's convolution on its output.
    maps = backbone.get_layer("block").get_layer("blk_conv")(backbone.get_layer("b_conv1")(x)).numpy()
    for ch, hits in enumerate(result.channels):
        best = sorted((-maps[i, :, :, ch].max(), n) for i, n in enumerate(names))[:3]
        assert [h.image for h in hits] == [n for _, n in best]
        np.testing.assert_allclose([h.value for h in hits], [-v for v, _ in best], rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- settings and refusals


def test_a_layer_without_maps_is_refused_with_the_choices(tmp_path):
    model = model_builders.sequential()
    items = [units.Item("a.png", data=_png(np.zeros((12, 10, 3), np.uint8)))]
    with pytest.raises(ModelError, match="no feature maps.*height × width × channels"):
        units.scan(_model_bytes(model, tmp_path), "seq.keras", items, "flat")
    with pytest.raises(ModelError, match="no layer at 'nope'; layers with maps include conv_a"):
        units.scan(_model_bytes(model, tmp_path), "seq.keras", items, "nope")


def test_a_refused_model_file_never_reaches_ray(tmp_path):
    with pytest.raises(ModelError, match="model"):
        units.scan(b"PK\x03\x04 not a keras file", "m.keras", [units.Item("a.png", data=b"x")], "c")


@pytest.mark.parametrize(("kw", "field"), [({"top": 0}, "top"), ({"workers": 0}, "workers"), ({"top": 101}, "top")])
def test_bad_settings_name_the_setting(kw, field):
    with pytest.raises(CnnError) as e:
        units.scan(b"", "m.keras", [units.Item("a.png", data=b"x")], "c", **kw)
    assert e.value.field == field


def test_an_empty_folder_says_so(tmp_path):
    with pytest.raises(CnnError, match="no pictures"):
        units.scan(b"", "m.keras", [], "c")
    with pytest.raises(CnnError, match="not a folder"):
        units.folder_items(tmp_path / "missing")


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- pieces, against NumPy


def test_batch_maxima_takes_the_first_largest_place():
    maps = np.zeros((2, 3, 4, 2), np.float32)
    maps[0, 1, 2, 0] = 5
    maps[0, 2, 3, 0] = 5  # a tie: the first in row-major order wins
    maps[1, :, :, 1] = -1
    maps[1, 2, 0, 1] = -0.5
    v, r, c = units.batch_maxima(maps)
    np.testing.assert_array_equal(v, [[5, 0], [0, -0.5]])
    np.testing.assert_array_equal(r, [[1, 0], [0, 2]])
    np.testing.assert_array_equal(c, [[2, 0], [0, 0]])


def test_top_k_merge_is_independent_of_batch_order():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, (40, 3)).astype(np.float32)  # many ties
    rows = rng.integers(0, 9, (40, 3)).astype(np.int32)
    idx = np.arange(40)
    results = []
    for order in (idx, idx[::-1], rng.permutation(40)):
        t = units.TopK(3, 6)
        for chunk in np.array_split(order, 7):
            t.add(chunk, values[chunk], rows[chunk], rows[chunk])
        results.append((t.values.copy(), t.index.copy()))
    for v, i in results[1:]:
        np.testing.assert_array_equal(v, results[0][0])
        np.testing.assert_array_equal(i, results[0][1])
    for ch in range(3):
        want = sorted(range(40), key=lambda k: (-values[k, ch], k))[:6]
        assert list(results[0][1][ch]) == want


# --------------------------------------------------------------------------- receptive fields


def _gradient_box(model: keras.Model, path: str, row: int, col: int, ch: int = 0) -> tuple[int, int, int, int]:
    """The bounding box of the input pixels whose gradient on the value is non-zero."""
    import tensorflow as tf

    fn = units.layer_model(model, path)
    x = tf.Variable(np.random.default_rng(0).uniform(0.5, 1.5, (1, *model.inputs[0].shape[1:])).astype(np.float32))
    with tf.GradientTape() as tape:
        v = fn(x)[0, row, col, ch]
    g = np.abs(tape.gradient(v, x).numpy()[0]).sum(axis=-1)
    rows, cols = np.nonzero(g)
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def _positive(layer_cls, **kw):
    """A layer with weights drawn from [0.5, 1.5]: every path adds, so no gradient cancels to zero by chance."""
    return layer_cls(kernel_initializer=keras.initializers.RandomUniform(0.5, 1.5, seed=1), **kw)


def _chain(hw, layers, name="chain") -> keras.Model:
    inp = keras.Input((*hw, 1))
    x = inp
    for layer in layers:
        x = layer(x)
    return keras.Model(inp, x, name=name)


RF_CASES = {
    "same 3x3": ((9, 9), lambda: [_positive(keras.layers.Conv2D, filters=1, kernel_size=3, padding="same")]),
    "valid 5x3 stride 2": (
        (13, 11),
        lambda: [_positive(keras.layers.Conv2D, filters=1, kernel_size=(5, 3), strides=2)],
    ),
    "same stride 2 even": (
        (10, 8),
        lambda: [_positive(keras.layers.Conv2D, filters=1, kernel_size=4, strides=2, padding="same")],
    ),
    "dilated": (
        (15, 15),
        lambda: [_positive(keras.layers.Conv2D, filters=1, kernel_size=3, dilation_rate=3, padding="same")],
    ),
    "conv avgpool-same conv": (
        (17, 14),
        lambda: [
            _positive(keras.layers.Conv2D, filters=2, kernel_size=3, padding="same"),
            keras.layers.AveragePooling2D(3, strides=2, padding="same"),
            _positive(keras.layers.Conv2D, filters=1, kernel_size=3, strides=2),
        ],
    ),
    "pad and crop": (
        (10, 10),
        lambda: [
            keras.layers.ZeroPadding2D(((2, 0), (1, 3))),
            _positive(keras.layers.Conv2D, filters=1, kernel_size=3),
            keras.layers.Cropping2D(((1, 0), (0, 2))),
        ],
    ),
    "depthwise stride 3": (
        (16, 16),
        lambda: [
            keras.layers.DepthwiseConv2D(
                4, strides=3, depthwise_initializer=keras.initializers.RandomUniform(0.5, 1.5, seed=2)
            )
        ],
    ),
}


@pytest.mark.parametrize("case", list(RF_CASES))
def test_receptive_field_box_is_the_input_gradients_support(case):
    hw, make = RF_CASES[case]
    model = _chain(hw, make())
    path = model.layers[-1].name
    h, w = model.outputs[0].shape[1:3]
    acts = units.network(model, (*hw, 1))
    for r in range(h):
        for c in range(w):
            assert units.field_box(acts, path, r, c) == _gradient_box(model, path, r, c), (case, r, c)


def test_receptive_field_of_branches_is_their_union_and_follows_nested_models():
    inner_in = keras.Input((12, 12, 2))
    a = _positive(keras.layers.Conv2D, filters=2, kernel_size=5, padding="same", name="wide")(inner_in)
    b = _positive(keras.layers.Conv2D, filters=2, kernel_size=1, name="narrow")(inner_in)
    inner = keras.Model(inner_in, keras.layers.Add(name="sum")([a, b]), name="inner")
    inp = keras.Input((24, 24, 1))
    x = keras.layers.AveragePooling2D(2, name="halve")(
        _positive(keras.layers.Conv2D, filters=2, kernel_size=3, padding="same", name="first")(inp)
    )
    model = keras.Model(inp, inner(x), name="outer")
    acts = units.network(model, (24, 24, 1))
    for r, c in [(0, 0), (5, 7), (11, 11), (3, 10)]:
        assert units.field_box(acts, "inner/sum", r, c) == _gradient_box(model, "inner/sum", r, c)
    # 3×3 "same" then 2×2 pooling then a 5×5 "same": 2·(5 − 1) + 3 + 1 = 12 pixels a side, away from the borders.
    t, left, b, right = units.field_box(acts, "inner/sum", 6, 6)
    assert (b - t + 1, right - left + 1) == (12, 12)


def test_a_shared_nested_models_second_call_has_the_your_model_pages_path_and_its_own_field():
    from cnn_core import model_maps

    inner_in = keras.Input((None, None, 1))
    conv = _positive(keras.layers.Conv2D, filters=1, kernel_size=3, name="conv")
    shared = keras.Model(inner_in, conv(inner_in), name="shared")
    inp = keras.Input((12, 12, 1))
    model = keras.Model(inp, shared(shared(inp)), name="twice")
    assert "shared@2/conv" in [x.path for x in model_maps.describe(model).layers]
    x = np.random.default_rng(3).uniform(0, 1, (1, 12, 12, 1)).astype(np.float32)
    second = units.layer_model(model, "shared@2/conv")(x).numpy()
    np.testing.assert_allclose(second, model(x).numpy(), rtol=1e-5, atol=1e-6)  # the 2nd call is the output
    first = units.layer_model(model, "shared@1/conv")(x).numpy()
    assert first.shape == (1, 10, 10, 1)
    acts = units.network(model, (12, 12, 1))
    for r, c in [(0, 0), (3, 5), (7, 7)]:
        # Two valid 3×3 convolutions: 5×5 pixels from (r, c); the 1st call's value sees 3×3.
        assert units.field_box(acts, "shared@2/conv", r, c) == (r, c, r + 4, c + 4)
        assert units.field_box(acts, "shared@2/conv", r, c) == _gradient_box(model, "shared@2/conv", r, c)
        assert units.field_box(acts, "shared@1/conv", r, c) == (r, c, r + 2, c + 2)


def test_a_layer_of_unknown_geometry_counts_as_seeing_its_whole_input():
    model = _chain(
        (8, 8),
        [
            keras.layers.Resizing(4, 4, name="shrink"),
            _positive(keras.layers.Conv2D, filters=1, kernel_size=1, name="c"),
        ],
    )
    assert units.field_box(units.network(model, (8, 8, 1)), "c", 1, 1) == (0, 0, 7, 7)


@pytest.mark.slow
def test_the_command_line_writes_units_json_and_counts_skipped_pictures(local_ray, tmp_path, capsys):
    from cnn_core.__main__ import main

    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(3, 3, name="c")], name="cli")
    model.save(tmp_path / "cli.keras")
    root = _folder(tmp_path, (12, 12), 5, seed=6)
    args = ["units", str(tmp_path / "cli.keras"), "--images", str(root), "--layer", "c", "--top", "2"]
    assert main([*args, "--out", str(tmp_path / "out"), "--workers", "1"]) == 0
    out = capsys.readouterr()
    assert "5 pictures scanned" in out.out and "1 skipped" in out.out
    assert "broken.png: skipped" in out.err and "6/6 pictures" in out.err
    doc = json.loads((tmp_path / "out" / "units.json").read_text())
    _compare(
        units.ScanResult(
            "c",
            [
                [
                    units.Hit(**{**h, "box": tuple(h["box"])})
                    for h in [{k: v for k, v in x.items() if k != "crop"} for x in c["top"]]
                ]
                for c in doc["channels"]
            ],
            5,
            [],
            (12, 12, 3),
            (10, 10, 3),
            "0-1",
        ),
        _brute_force(model, model.get_layer("c").output, root, 1 / 255, 2),
    )
    assert main(["units", str(tmp_path / "cli.keras"), "--images", str(root), "--layer", "nope"]) == 1
    assert "error: layer: no layer at 'nope'" in capsys.readouterr().err
