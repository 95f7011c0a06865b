"""Explaining a value of a Keras model agrees with Keras, for random seeded Sequential and functional models.

Each model is made from a random recipe (convolutions with strides, dilation, same/valid padding, bias and an
activation; depthwise convolutions; max and average pooling; batch normalisation; a nested functional block;
a Flatten or global pooling and a Dense head), saved and loaded through the page's checks. The reference runs
the in-memory model's own layers one by one, eagerly, and compares:

- the value with the layer's output;
- every term: its input with the layer's input (zero-padded by a wide margin, so a padding term must read 0),
  its weight with the layer's kernel at that tap, its product, and the sum plus bias with ``tf.nn`` on the
  layer's input (before the layer's own activation);
- the receptive field with the support of the input gradient, on a positive linear twin of the model (every
  kernel |w|, no activations, average instead of max pooling), where every pixel in the field matters.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

keras = pytest.importorskip("keras")

from cnn_core import model_maps  # noqa: E402
from cnn_core.errors import CnnError  # noqa: E402
from cnn_core.model_explain import explain_model  # noqa: E402
from tests.core import model_builders as mb  # noqa: E402

MARGIN = 16


def _recipe(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(12, 20)), int(rng.integers(12, 20))
    steps = []
    for _ in range(int(rng.integers(2, 4))):
        kind = rng.choice(["conv", "conv", "pool", "depthwise", "bn"])
        if kind in ("conv", "depthwise"):
            stride = int(rng.integers(1, 3))
            dilation = 1 if stride > 1 else int(rng.integers(1, 3))
            steps.append(
                dict(kind=kind, k=int(rng.integers(1, 4)), stride=stride, dilation=dilation,
                     padding=str(rng.choice(["same", "valid"])), act=str(rng.choice(["relu", "linear", "tanh"])),
                     filters=int(rng.integers(1, 4)))
            )  # fmt: skip
        elif kind == "pool":
            size = int(rng.integers(2, 4))
            steps.append(dict(kind="pool", mode=str(rng.choice(["max", "avg"])), size=size,
                              stride=int(rng.integers(1, 4)), padding=str(rng.choice(["same", "valid"]))))  # fmt: skip
        else:
            steps.append(dict(kind="bn"))
    return dict(
        seed=seed, shape=(h, w, int(rng.choice([1, 3]))), steps=steps,
        nested=bool(rng.integers(0, 2)), sequential=bool(rng.integers(0, 2)),
        head=str(rng.choice(["flatten", "gap"])), units=int(rng.integers(2, 5)),
    )  # fmt: skip


def _layers(r: dict, twin: bool) -> list:
    out = []
    for i, s in enumerate(r["steps"]):
        if s["kind"] == "conv":
            out.append(keras.layers.Conv2D(
                s["filters"], s["k"], strides=s["stride"], dilation_rate=s["dilation"], padding=s["padding"],
                activation="linear" if twin else s["act"], name=f"conv{i}"))  # fmt: skip
        elif s["kind"] == "depthwise":
            out.append(keras.layers.DepthwiseConv2D(
                s["k"], strides=s["stride"], dilation_rate=s["dilation"], padding=s["padding"],
                depth_multiplier=s["filters"], activation="linear" if twin else s["act"], name=f"dw{i}"))  # fmt: skip
        elif s["kind"] == "pool":
            cls = keras.layers.AveragePooling2D if (twin or s["mode"] == "avg") else keras.layers.MaxPooling2D
            out.append(cls(s["size"], strides=s["stride"], padding=s["padding"], name=f"pool{i}"))
        else:
            out.append(keras.layers.BatchNormalization(name=f"bn{i}"))
    return out


def _build(r: dict, twin: bool = False):
    """(model, [(path, layer)] in the order they run)."""
    keras.utils.set_random_seed(r["seed"])
    body = _layers(r, twin)
    head = [keras.layers.Flatten(name="flat") if r["head"] == "flatten" else keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(r["units"], name="logits")]  # fmt: skip
    inp = keras.Input(r["shape"])
    chain = []
    if r["nested"]:
        b_in = keras.Input(r["shape"])
        x = b_in
        for layer in body:
            x = layer(x)
        block = keras.Model(b_in, x, name="block")
        chain += [(f"block/{layer.name}", layer) for layer in body]
        if r["sequential"]:
            model = keras.Sequential([inp, block, *head])
        else:
            y = block(inp)
            for layer in head:
                y = layer(y)
            model = keras.Model(inp, y)
    else:
        if r["sequential"]:
            model = keras.Sequential([inp, *body, *head])
        else:
            y = inp
            for layer in body + head:
                y = layer(y)
            model = keras.Model(inp, y)
        chain += [(layer.name, layer) for layer in body]
    chain += [(layer.name, layer) for layer in head]
    rng = np.random.default_rng(r["seed"] + 1000)
    for _, layer in chain:  # random weights everywhere, biases and batch statistics included
        ws = [rng.uniform(-1, 1, w.shape).astype(np.float32) for w in layer.get_weights()]
        if isinstance(layer, keras.layers.BatchNormalization):
            ws[3] = np.abs(ws[3]) + 0.1  # variance
        if twin:
            ws = [np.abs(w) + 0.05 for w in ws]
        layer.set_weights(ws)
    return model, chain


def _reference(chain, x: np.ndarray) -> dict:
    """{path: (input, output)} of every layer, run one by one, eagerly."""
    out = {}
    for path, layer in chain:
        y = layer(x, training=False)
        out[path] = (np.asarray(x)[0], np.asarray(y)[0])
        x = y
    return out


def _pre_activation(layer, x: np.ndarray) -> np.ndarray:
    """The layer's sum before its own activation, by tf.nn on its input."""
    w = layer.get_weights()
    cfg = layer.get_config()
    s, d = cfg["strides"], cfg["dilation_rate"]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        y = tf.nn.depthwise_conv2d(x[None], w[0], [1, *s, 1], cfg["padding"].upper(), dilations=d)
    else:
        y = tf.nn.conv2d(x[None], w[0], s, cfg["padding"].upper(), dilations=d)
    return np.asarray(y)[0] + w[1]


def _photo(r: dict) -> np.ndarray:
    rng = np.random.default_rng(r["seed"] + 7)
    h, w, c = r["shape"]
    return rng.integers(25, 255, (h, w) if c == 1 else (h, w, 3), dtype=np.uint8)


def _positions(shape, rng, n: int = 3):
    if len(shape) == 1:
        return [(0, 0, int(c)) for c in rng.integers(0, shape[0], n)]
    return [tuple(int(rng.integers(0, s)) for s in shape) for _ in range(n)]


def _loaded(model, tmp_path, name: str):
    from cnn_core import model_file

    path = mb.save(model, tmp_path, name)
    loaded, _ = model_file.load_model(path.read_bytes(), name)
    return loaded


SEEDS = range(10)


@pytest.mark.parametrize("seed", SEEDS)
def test_explained_values_terms_and_bias_agree_with_keras(seed, tmp_path):
    r = _recipe(seed)
    model, chain = _build(r)
    loaded = _loaded(model, tmp_path, f"m{seed}.keras")
    image = _photo(r)
    batch = (image.astype(np.float32) / 255.0).reshape((1, *r["shape"]))
    ref = _reference(chain, batch)
    rng = np.random.default_rng(seed)
    checked = 0
    for path, layer in chain:
        x, y = ref[path]
        for row, col, ch in _positions(y.shape, rng):
            ex = explain_model(loaded, image, path, row, col, ch, "0-1").to_dict()
            want = y[ch] if y.ndim == 1 else y[row, col, ch]
            assert ex["value"] == pytest.approx(float(want), rel=1e-4, abs=1e-5), (path, row, col, ch)
            if "terms" not in ex:
                continue
            w = layer.get_weights()
            if isinstance(layer, keras.layers.Dense):
                flat = x.reshape(-1)
                assert len(ex["terms"]) == flat.size
                for t in ex["terms"]:
                    i = t["index"]
                    assert t["input"] == pytest.approx(float(flat[i]), abs=1e-6)
                    assert t["weight"] == pytest.approx(float(w[0][i, ch]), abs=1e-7)
                    if x.ndim == 3:
                        assert x[t["row"], t["col"], t["channel"]] == pytest.approx(flat[i], abs=1e-6)
                pre = float(flat @ w[0][:, ch] + w[1][ch])
            else:
                kh, kw = w[0].shape[:2]
                padded = np.pad(x, ((MARGIN, MARGIN), (MARGIN, MARGIN), (0, 0)))
                for k, t in enumerate(ex["terms"]):
                    i, j = divmod(k % (kh * kw), kw)
                    inside = 0 <= t["row"] < x.shape[0] and 0 <= t["col"] < x.shape[1]
                    assert t["padding"] is (not inside)
                    assert t["input"] == pytest.approx(
                        float(padded[t["row"] + MARGIN, t["col"] + MARGIN, t["channel"]]), abs=1e-6
                    )
                    if isinstance(layer, keras.layers.DepthwiseConv2D):
                        m = w[0].shape[3]
                        assert t["channel"] == ch // m
                        assert t["weight"] == pytest.approx(float(w[0][i, j, ch // m, ch % m]), abs=1e-7)
                    else:
                        assert t["weight"] == pytest.approx(float(w[0][i, j, t["channel"], ch]), abs=1e-7)
                    assert t["product"] == pytest.approx(t["input"] * t["weight"], rel=1e-9, abs=1e-12)
                pre = float(_pre_activation(layer, x)[row, col, ch])
                assert ex["bias"] == pytest.approx(float(w[1][ch]), abs=1e-7)
            assert ex["total"] == pytest.approx(pre, rel=1e-4, abs=1e-5), (path, row, col, ch)
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("seed", SEEDS)
def test_receptive_field_is_the_input_gradients_support(seed, tmp_path):
    r = _recipe(seed)
    model, chain = _build(r, twin=True)
    loaded = _loaded(model, tmp_path, f"t{seed}.keras")
    image = _photo(r)
    batch = tf.constant((image.astype(np.float32) / 255.0).reshape((1, *r["shape"])))
    rng = np.random.default_rng(seed)
    h, w = r["shape"][:2]
    for path, _ in chain:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(batch)
            x = batch
            outs = {}
            for p, layer in chain:
                x = layer(x, training=False)
                outs[p] = x
        y = outs[path]
        for row, col, ch in _positions(tuple(y.shape[1:]), rng, 2):
            with tape:
                v = y[0, ch] if len(y.shape) == 2 else y[0, row, col, ch]
            grad = np.abs(np.asarray(tape.gradient(v, batch))[0]).sum(axis=2)
            rows, cols = np.nonzero(grad > 0)
            rf = explain_model(loaded, image, path, row, col, ch, "0-1").to_dict()["receptive_field"]
            assert rows.size, (path, row, col)
            want = [int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())]
            assert rf["reads"] == want, (path, row, col, ch, rf)
            top, left = rf["start"]
            clipped = [max(top, 0), max(left, 0), min(top + rf["size"][0], h) - 1, min(left + rf["size"][1], w) - 1]
            assert rf["box"] == clipped
            b = rf["box"]
            assert b[0] <= want[0] and b[1] <= want[1] and want[2] <= b[2] and want[3] <= b[3]
        del tape


def test_each_call_of_a_nested_model_called_twice_is_named_and_explained(tmp_path):
    keras.utils.set_random_seed(4)
    b_in = keras.Input((10, 10, 3))
    shared = keras.Model(b_in, keras.layers.Conv2D(2, 3, padding="same", name="c")(b_in), name="shared")
    inp = keras.Input((10, 10, 3))
    flipped = keras.layers.Rescaling(-1.0, 1.0, name="negate")(inp)
    out = keras.layers.Add(name="sum")([shared(inp), shared(flipped)])
    model = keras.Model(inp, out)
    loaded = _loaded(model, tmp_path, "twice.keras")
    info = model_maps.describe(loaded)
    paths = [x.path for x in info.layers]
    assert {"shared@1", "shared@1/c", "shared@2", "shared@2/c", "sum"} <= set(paths)
    image = np.random.default_rng(0).integers(0, 255, (10, 10, 3), dtype=np.uint8)
    x = image.astype(np.float32)[None] / 255.0
    conv = model.get_layer("shared").get_layer("c")
    want1, want2 = np.asarray(conv(x))[0], np.asarray(conv(1.0 - x))[0]
    batch = model_maps.prepare_photo(image, info, "0-1").batch
    got = model_maps.MapComputer(loaded).compute(batch, ["shared@1/c", "shared@2/c"])
    np.testing.assert_allclose(got["shared@1/c"], want1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got["shared@2/c"], want2, rtol=1e-5, atol=1e-5)
    ex = explain_model(loaded, image, "shared@2/c", 4, 5, 1, "0-1")
    assert ex.value == pytest.approx(float(want2[4, 5, 1]), rel=1e-5, abs=1e-6)
    assert ex.detail.terms[0].input == pytest.approx(float(1.0 - x[0, 3, 4, 0]), abs=1e-6)


def test_a_functional_model_inside_a_sequential_pages_through_its_maps(tmp_path):
    keras.utils.set_random_seed(5)
    b_in = keras.Input((12, 12, 3))
    y = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(b_in)
    base = keras.Model(b_in, keras.layers.MaxPooling2D(name="p1")(y), name="base")
    model = keras.Sequential([keras.Input((12, 12, 3)), base, keras.layers.GlobalAveragePooling2D(name="gap"),
                              keras.layers.Dense(3, name="logits")])  # fmt: skip
    loaded = _loaded(model, tmp_path, "transfer.keras")
    info = model_maps.describe(loaded)
    assert [x.path for x in info.image_layers] == ["base", "base/c1", "base/p1"]
    assert not any(x.note for x in info.layers)
    image = np.random.default_rng(1).integers(0, 255, (12, 12, 3), dtype=np.uint8)
    batch = model_maps.prepare_photo(image, info, "0-1").batch
    computer = model_maps.MapComputer(loaded)
    for page in model_maps.pages(info, batch.shape):
        got = computer.compute(batch, [x.path for x in page])
        np.testing.assert_allclose(got["base/p1"], np.asarray(base(batch))[0], rtol=1e-5, atol=1e-5)
    ex = explain_model(loaded, image, "logits", 0, 0, 2, "0-1")
    assert ex.value == pytest.approx(float(np.asarray(model(batch))[0, 2]), rel=1e-5, abs=1e-6)
    # The command line pages through the same maps.
    import json

    from PIL import Image

    from cnn_core.__main__ import main

    Image.fromarray(image).save(tmp_path / "photo.png")
    path = mb.save(model, tmp_path, "transfer_cli.keras")
    argv = ["model-maps", str(path), str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"), "--range", "0-1"]
    assert main(argv) == 0
    listed = json.loads((tmp_path / "out" / "layers.json").read_text())["layers"]
    files = {x["path"]: x["file"] for x in listed if "file" in x}
    assert set(files) == {"base", "base/c1", "base/p1"}
    np.testing.assert_allclose(
        np.load(tmp_path / "out" / files["base/p1"]), np.asarray(base(batch))[0], rtol=1e-5, atol=1e-5
    )


def test_cli_explains_a_model_value_and_refuses_in_one_line(tmp_path, capsys):
    import json

    from cnn_core.__main__ import main

    r = _recipe(3)
    model, chain = _build(r)
    path = mb.save(model, tmp_path, "cli.keras")
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(_photo(r)).save(photo)
    target = chain[0][0]
    assert (
        main(["explain", str(photo), "--model", str(path), "--layer", target, "--at", "0", "0", "--range", "0-1"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert {"value", "bias", "total", "receptive_field"} <= set(out) or {"value", "total"} <= set(out)
    assert set(out["receptive_field"]) >= {"size", "box", "jump"}
    for bad in (["--layer", "no/such"], ["--layer", target, "--at", "999", "0"]):
        argv = ["explain", str(photo), "--model", str(path), "--at", "0", "0", *bad]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ")
    assert (
        main(["explain", str(photo), "--model", str(tmp_path / "missing.keras"), "--layer", "x", "--at", "0", "0"]) == 2
    )
    assert capsys.readouterr().err.startswith("error: ")


def test_a_layer_without_a_kind_says_so_in_one_sentence(tmp_path):
    keras.utils.set_random_seed(6)
    inp = keras.Input((8, 8, 1))
    y = keras.layers.UpSampling2D(name="up")(keras.layers.Conv2D(2, 3, name="c")(inp))
    loaded = _loaded(keras.Model(inp, y), tmp_path, "up.keras")
    image = np.zeros((8, 8), np.uint8)
    with pytest.raises(CnnError, match="can't be explained value by value"):
        explain_model(loaded, image, "up", 0, 0, 0, "0-1")
