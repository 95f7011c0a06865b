"""A unit's weights, map and Grad-CAM, and the scan's picture sources (ZIP caps, samples, shapes)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from cnn_core import shapes_data, tiny_vgg, unit_cam, unit_sources
from cnn_core.errors import CnnError


@pytest.fixture(scope="module")
def tiny():
    return tiny_vgg.load_model()


@pytest.fixture(scope="module")
def star():
    return tiny_vgg.prepare_input(shapes_data.sample("star", 2))


def test_weights_of_a_convolution_and_through_relu_and_pooling(tiny):
    kernel, bias = tiny_vgg.conv_filters(tiny, "conv_2_2")
    w = unit_cam.unit_weights(tiny, "conv_2_2", 4)
    np.testing.assert_array_equal(w.kernel, kernel[:, :, :, 4])
    assert w.bias == pytest.approx(float(bias[4])) and w.note == ""
    through = unit_cam.unit_weights(tiny, "max_pool_2", 4)
    assert through.layer == "conv_2_2"
    np.testing.assert_array_equal(through.kernel, kernel[:, :, :, 4])
    assert (
        "max_pool_2 has no weights; its channel 4 is channel 4 of conv_2_2, through max_pool_2, relu_2_2"
        in through.note
    )


def test_maps_are_the_forward_pass(tiny, star):
    maps = tiny_vgg.activations(tiny, star).maps("relu_1_2")
    np.testing.assert_allclose(unit_cam.unit_maps(tiny, "relu_1_2", star[None]), maps, rtol=1e-5, atol=1e-5)


def test_grad_cam_of_a_convolution_unit_against_the_closed_form(tiny, star):
    # score = mean of conv_2_2's channel c over its (valid) map. Every output position uses each tap of the
    # kernel once, so the mean gradient over relu_2_1's grid (H × W) of map k is Σ_taps w[:, :, k, c] / (H·W).
    c = 6
    cam = unit_cam.unit_grad_cam(tiny, "conv_2_2", c, star[None])
    assert cam.read == "relu_2_1"
    a = tiny_vgg.activations(tiny, star).maps("relu_2_1")
    kernel, _ = tiny_vgg.conv_filters(tiny, "conv_2_2")
    alpha = kernel[:, :, :, c].sum(axis=(0, 1)) / (a.shape[0] * a.shape[1])
    coarse = np.maximum(np.tensordot(a, alpha, axes=([2], [0])), 0)
    np.testing.assert_allclose(cam.coarse, coarse, rtol=1e-4, atol=1e-6)
    assert cam.heat.shape == (64, 64) and cam.heat.min() >= 0
    assert cam.heat.max() == pytest.approx(1.0) or not coarse.any()


def test_grad_cam_of_a_first_layer_unit_reads_the_input(tiny, star):
    cam = unit_cam.unit_grad_cam(tiny, "relu_1_1", 0, star[None])
    assert cam.read == "the input" and cam.coarse.shape == (64, 64)


def test_grad_cam_inside_a_nested_model_reads_what_is_fed_into_it():
    import keras

    keras.utils.set_random_seed(4)
    inner_in = keras.Input((9, 9, 2))
    y = keras.layers.Conv2D(3, 3, name="conv")(inner_in)
    inner = keras.Model(inner_in, keras.layers.Activation("linear", name="same")(y), name="inner")
    inp = keras.Input((9, 9, 1))
    first = keras.layers.Conv2D(2, 1, name="first")
    model = keras.Model(inp, inner(first(inp)), name="outer")
    x = np.random.default_rng(5).uniform(0, 1, (1, 9, 9, 1)).astype(np.float32)
    c = 1
    cam = unit_cam.unit_grad_cam(model, "inner/same", c, x)
    # The unit's window is inner/conv, which reads the nested model's input: the maps of "first", on the
    # Your model page's path. With a linear activation the closed form of the existing test holds: α = Σ_taps w / (H·W).
    assert cam.read == "first"
    a = keras.Model(inp, first.output)(x).numpy()[0]
    kernel = inner.get_layer("conv").get_weights()[0]
    alpha = kernel[:, :, :, c].sum(axis=(0, 1)) / (a.shape[0] * a.shape[1])
    np.testing.assert_allclose(cam.coarse, np.maximum(np.tensordot(a, alpha, axes=([2], [0])), 0), rtol=1e-4, atol=1e-6)
    w = unit_cam.unit_weights(model, "inner/same", c)
    assert w.layer == "inner/conv" and "through inner/same" in w.note
    np.testing.assert_array_equal(w.kernel, kernel[:, :, :, c])


def test_outlined_draws_the_box_at_the_enlarged_scale():
    pixels = np.zeros((8, 8, 1), np.uint8)
    out = unit_cam.outlined(pixels, (2, 3, 4, 6), side=16)  # ×2
    assert out.shape == (16, 16, 3)
    red = np.all(out == [230, 30, 30], axis=2)
    rows, cols = np.nonzero(red)
    assert (rows.min(), cols.min(), rows.max(), cols.max()) == (4, 6, 9, 13)
    assert not red[6:8, 8:12].any()  # the inside stays the picture


# --------------------------------------------------------------------------- picture sources


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in entries.items():
            z.writestr(name, body)
    return buf.getvalue()


def test_zip_pictures_are_sorted_and_capped_by_count_and_bytes():
    data = _zip({"b/2.png": _png(2), "a.png": _png(1), "notes.txt": b"x", "c.PNG": _png(3), "d.png": _png(4)})
    items, skipped = unit_sources.zip_items(data)
    assert [i.name for i in items] == ["a.png", "b/2.png", "c.PNG", "d.png"] and skipped == []
    assert items[0].data == _png(1)
    items, skipped = unit_sources.zip_items(data, max_pictures=2)
    assert [i.name for i in items] == ["a.png", "b/2.png"]
    assert skipped == [(n, "over the limit of 2 pictures per ZIP") for n in ("c.PNG", "d.png")]
    one = len(_png(1))
    items, skipped = unit_sources.zip_items(data, max_bytes=2 * one)
    assert len(items) == 2 and [n for n, _ in skipped] == ["c.PNG", "d.png"]


def test_a_broken_zip_is_refused():
    with pytest.raises(CnnError, match="not a readable ZIP"):
        unit_sources.zip_items(b"PK\x03\x04 broken")


def test_shapes_and_samples():
    items = unit_sources.shape_items(per_class=2, seed=5)
    assert len(items) == 2 * len(shapes_data.CLASSES) and items[0].name == "circle/0000.png"
    pictures, labels = shapes_data.make_dataset(2 * len(shapes_data.CLASSES), seed=5)
    first_circle = pictures[list(labels).index(0)]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(items[0].data))), first_circle)
    names = [i.name for i in unit_sources.sample_items()]
    assert "camera.png" in names and "rocket.jpg" in names
