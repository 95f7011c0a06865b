"""The training engine: determinism, the held-out split, history files, folder errors and the --data CLI."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnn_core import class_folders, learn, shapes_data
from cnn_core.errors import CnnError


def _png(picture: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG")
    return buf.getvalue()


def _folder(root, classes=("circle", "star"), per_class=10):
    for name in classes:
        (root / name).mkdir(parents=True)
        k = shapes_data.class_index(name)
        for i in range(per_class):
            (root / name / f"{i}.png").write_bytes(_png(shapes_data.draw(k, np.random.default_rng([3, i, k]))))
    return root


@pytest.fixture(scope="module")
def small():
    return learn.shapes(("circle", "square", "cross"), 60, seed=4)


def test_same_seed_same_curves_and_filters(small):
    settings = learn.Settings(epochs=2, seed=5, learning_rate=3e-3)
    a = learn.train(small, settings)
    b = learn.train(small, settings)
    assert [e.metrics() | {"seconds": 0} for e in a.history] == [e.metrics() | {"seconds": 0} for e in b.history]
    np.testing.assert_array_equal(a.history[-1].filters, b.history[-1].filters)
    c = learn.train(small, learn.Settings(epochs=2, seed=6, learning_rate=3e-3))
    assert not np.array_equal(a.history[-1].filters, c.history[-1].filters)


def test_filters_change_each_epoch_and_match_the_model(small):
    run = learn.train(small, learn.Settings(epochs=2, seed=1))
    assert [e.epoch for e in run.history] == [1, 2]
    assert not np.array_equal(run.history[0].filters, run.history[1].filters)
    kernel = run.model.get_layer("conv_1_1").get_weights()[0]
    np.testing.assert_array_equal(run.history[-1].filters, kernel)
    assert run.model.output_shape == (None, 3)
    assert run.names == ("circle", "square", "cross")


def test_split_holds_out_a_fifth_of_every_class_without_overlap():
    labels = np.repeat(np.arange(3), [10, 20, 5])
    tr, va = learn.split(labels, seed=0)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == 35
    assert [int((labels[va] == k).sum()) for k in range(3)] == [2, 4, 1]
    np.testing.assert_array_equal(va, learn.split(labels, seed=0)[1])


def test_augment_keeps_range_and_is_seeded():
    pics = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    a = learn.augment(pics, np.random.default_rng(1))
    b = learn.augment(pics, np.random.default_rng(1))
    assert a.shape == (4, 64, 64, 3) and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, pics / 255.0)


def test_stop_keeps_finished_epochs(small):
    control = learn.Control()

    def after(epoch, _model):
        if epoch.epoch == 1:
            control.stop()

    run = learn.train(small, learn.Settings(epochs=4, seed=0), on_epoch=after, control=control)
    assert run.stopped and [e.epoch for e in run.history] == [1]


def test_confusion_against_counting():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    m = learn.confusion(y, p, 3)
    expected = np.zeros((3, 3), int)
    for t, q in zip(y, p, strict=True):
        expected[t, q] += 1
    np.testing.assert_array_equal(m, expected)


def test_filters_picture_scales_each_filter():
    f = np.zeros((3, 3, 3, 2), np.float32)
    f[0, 0, :, 0] = 1.0
    pic = learn.filters_picture(f, scale=2)
    assert pic.shape == (3 * 2 + 2, 2 * (3 * 2 + 2), 3)
    assert pic[1, 1].tolist() == [255, 255, 255] and pic[3, 3].tolist() == [0, 0, 0]


def test_stack_architecture_gets_a_dense_head():
    spec = {
        "version": 1,
        "input": {"color": "rgb", "size": None},
        "layers": [
            {"type": "conv2d", "filters": ["sobel_x", "sobel_y", "box_blur_3"], "padding": "same"},
            {"type": "activation", "function": "relu"},
            {"type": "pool2d", "mode": "max", "size": 2, "stride": 2},
        ],
    }
    model = learn.build(learn.Settings(architecture="stack", stack_spec=spec), 4)
    assert model.output_shape == (None, 4)
    assert learn.first_filters(model).shape == (3, 3, 3, 3)


def _stack(*layers):
    return {"version": 1, "input": {"color": "grayscale", "size": None}, "layers": list(layers)}


def test_each_stack_layer_becomes_the_keras_layer_with_its_settings():
    conv = {"type": "conv2d", "filters": [{"init": "he_normal", "seed": s, "size": [5, 3]} for s in range(6)]}
    spec = _stack(
        {**conv, "stride": [2, 1], "padding": "valid"},
        {"type": "activation", "function": "leaky_relu", "alpha": 0.05},
        {**conv, "dilation": [1, 2], "padding": "same"},
        {"type": "activation", "function": "tanh"},
        {"type": "pool2d", "mode": "avg", "size": [3, 2], "stride": [1, 2], "padding": "same"},
    )
    model = learn.build(learn.Settings(architecture="stack", stack_spec=spec), 3)
    got = {layer.name: layer.get_config() for layer in model.layers}
    assert [n for n in got if n not in ("input", "flatten", "dense", "softmax")] == [
        "conv_1", "leaky_relu_2", "conv_3", "tanh_4", "avg_pool_5",
    ]  # fmt: skip
    assert (got["conv_1"]["filters"], tuple(got["conv_1"]["kernel_size"])) == (6, (5, 3))
    assert tuple(got["conv_1"]["strides"]) == (2, 1) and got["conv_1"]["padding"] == "valid"
    assert tuple(got["conv_3"]["dilation_rate"]) == (1, 2) and got["conv_3"]["padding"] == "same"
    # the stack's own slope, not Keras's default 0.2: -2 comes out as -0.1
    assert got["leaky_relu_2"]["negative_slope"] == pytest.approx(0.05) and got["tanh_4"]["activation"] == "tanh"
    assert float(model.get_layer("leaky_relu_2")(np.array([[-2.0]], "float32"))[0, 0]) == pytest.approx(-0.1)
    assert tuple(got["avg_pool_5"]["pool_size"]) == (3, 2) and tuple(got["avg_pool_5"]["strides"]) == (1, 2)
    # 64 → valid 5×3 stride (2, 1): (64 − 5) // 2 + 1 = 30 rows, 64 − 2 = 62 columns; same keeps them;
    # the same-padded pool with stride (1, 2) gives 30 × ceil(62 / 2) = 31.
    assert model.get_layer("avg_pool_5").output.shape[1:] == (30, 31, 6)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"type": "conv2d", "filters": ["edge"], "padding": [[1, 1], [1, 1]]}, "Layer 1: training supports 'same'"),
        ({"type": "conv2d", "filters": ["edge"], "stride": 2, "dilation": 2}, "Layer 1: a convolution with both"),
        ({"type": "activation", "function": "gelu"}, "Layer 1: training supports the activations relu"),
    ],
)
def test_stack_layers_training_cant_take_are_named(layer, message):
    with pytest.raises(CnnError, match=message):
        learn.build(learn.Settings(architecture="stack", stack_spec=_stack(layer)), 3)


def test_a_stack_without_a_convolution_is_refused():
    spec = _stack({"type": "activation", "function": "relu"}, {"type": "pool2d"})
    with pytest.raises(CnnError, match="no convolution to train"):
        learn.build(learn.Settings(architecture="stack", stack_spec=spec), 3)


def test_read_folder_counts_skips_and_orders_classes(tmp_path):
    root = _folder(tmp_path / "d", ("star", "circle"), 3)
    (root / "star" / "broken.png").write_bytes(b"not a picture")
    (root / "star" / "notes.txt").write_text("ignored")
    data = class_folders.read_folder(root)
    assert data.names == ("circle", "star")
    assert data.images.shape == (6, 64, 64, 3) and data.unreadable == 1
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert "skipped 1 unreadable" in data.summary()


def test_read_folder_errors_say_what_is_wrong(tmp_path):
    _folder(tmp_path / "one", ("circle",), 2)
    with pytest.raises(CnnError, match="at least 2 classes, found only 'circle'"):
        class_folders.read_folder(tmp_path / "one")
    root = _folder(tmp_path / "empty", ("circle",), 2)
    (root / "star").mkdir()
    with pytest.raises(CnnError, match="Class 'star' has no pictures"):
        class_folders.read_folder(root)
    (root / "star" / "x.png").write_bytes(b"junk")
    with pytest.raises(CnnError, match="could not be read or were over the size cap"):
        class_folders.read_folder(root)
    with pytest.raises(CnnError, match="is not a folder"):
        class_folders.read_folder(tmp_path / "nowhere")


def test_oversized_picture_is_skipped_and_counted(tmp_path, monkeypatch):
    root = _folder(tmp_path / "d", ("circle", "star"), 2)
    monkeypatch.setattr(class_folders, "MAX_PICTURE_PIXELS", 80 * 80)
    (root / "star" / "big.png").write_bytes(_png(np.zeros((100, 100, 3), np.uint8)))
    data = class_folders.read_folder(root)
    assert data.too_big == 1 and data.unreadable == 0 and len(data.labels) == 4


def test_read_zip_with_a_top_folder(tmp_path):
    buf = io.BytesIO()
    pic = _png(shapes_data.sample("ring"))
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("b", "a"):
            for i in range(2):
                zf.writestr(f"top/{name}/{i}.png", pic)
        zf.writestr("__MACOSX/top/a/._0.png", b"junk")
    data = class_folders.read_zip(buf.getvalue())
    assert data.names == ("a", "b") and len(data.labels) == 4
    with pytest.raises(CnnError, match="not a readable ZIP"):
        class_folders.read_zip(b"PK nonsense")


def test_cli_with_data_writes_model_labels_and_history(tmp_path, capsys):
    from cnn_core import train

    root = _folder(tmp_path / "d", ("circle", "star"), 5)
    out, hist = tmp_path / "m.keras", tmp_path / "h"
    argv = ["--data", str(root), "--epochs", "2", "--seed", "3", "--out", str(out), "--history", str(hist)]
    assert train.main(argv) == 0
    history = json.loads((hist / "history.json").read_text())
    assert [sorted(e) for e in history] == [["accuracy", "epoch", "loss", "seconds", "val_accuracy", "val_loss"]] * 2
    assert [e["epoch"] for e in history] == [1, 2]
    assert json.loads(learn.labels_path(out).read_text()) == ["circle", "star"]
    assert (hist / "filters" / "epoch_002.npy").is_file() and (hist / "filters" / "epoch_001.png").is_file()
    assert "epoch 2/2" in capsys.readouterr().out
    assert train.main(["--data", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert "is not a folder" in capsys.readouterr().err
