"""The trained network: generated data, the model, its forward pass against Keras sub-models, the dense layer
against NumPy, Grad-CAM against a reference written here, training end to end, and the shipped accuracy."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnn_core import CnnError, shapes_data, tiny_vgg, train
from tests.core.generator_checks import assert_seeded


@pytest.fixture(scope="module")
def model():
    return tiny_vgg.load_model()


@pytest.fixture(scope="module")
def pictures():
    """Three fresh pictures (seed 777, never used in training) prepared for the network."""
    images, labels = shapes_data.make_dataset(3, 777)
    return [tiny_vgg.prepare_input(im) for im in images], labels


# --------------------------------------------------------------------------- the data set


def test_generator_is_deterministic_for_a_seed():
    a, _ = assert_seeded(shapes_data.make_dataset, 18, seed=5)
    # Picture i depends on (seed, i) alone: a longer set starts with the shorter one.
    longer, _ = shapes_data.make_dataset(24, seed=5)
    np.testing.assert_array_equal(longer[:18], a)


def test_generator_classes_are_balanced():
    _, labels = shapes_data.make_dataset(6 * 7 + 2, seed=1)
    counts = np.bincount(labels, minlength=len(shapes_data.CLASSES))
    assert len(shapes_data.CLASSES) >= 6
    assert counts.max() - counts.min() <= 1 and counts.sum() == 44


def test_generator_varies_colour_size_and_position():
    images, labels = shapes_data.make_dataset(14, seed=2)
    shapes = images[labels != shapes_data.NONE]
    corners = shapes[:, 0, 0].astype(int)
    assert len(shapes) == 12 and len({tuple(c) for c in corners}) == 12  # backgrounds differ
    assert shapes.reshape(12, -1).std(axis=1).min() > 5  # every picture has a visible shape


def test_sample_is_deterministic_and_checks_its_class():
    np.testing.assert_array_equal(shapes_data.sample("ring", 4), shapes_data.sample("ring", 4))
    assert not np.array_equal(shapes_data.sample("ring", 4), shapes_data.sample("ring", 5))
    with pytest.raises(CnnError, match="circle, square"):
        shapes_data.sample("hexagon")


# --------------------------------------------------------------------------- the input


def test_prepare_input_crops_the_centre_square_and_scales_to_unit_range():
    wide = np.zeros((64, 128, 3), np.uint8)
    wide[:, 32:96] = 200  # exactly the centre square
    x = tiny_vgg.prepare_input(wide)
    assert x.shape == (64, 64, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, 200 / 255, atol=1e-6)


def test_prepare_input_lays_transparency_over_white_and_spreads_grey():
    rgba = np.zeros((128, 128, 4), np.uint8)  # fully transparent: an empty canvas
    np.testing.assert_allclose(tiny_vgg.prepare_input(rgba), 1.0)
    grey = np.full((32, 32), 51, np.uint8)
    np.testing.assert_allclose(tiny_vgg.prepare_input(grey), 0.2, atol=1e-6)
    with pytest.raises(CnnError, match="uint8"):
        tiny_vgg.prepare_input(np.zeros((8, 8, 2), np.uint8))


# --------------------------------------------------------------------------- the model


def test_architecture_matches_cnn_explainers_tiny_vgg():
    m = tiny_vgg.build_model()
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in m.layers}
    assert shapes["conv_1_1"] == (62, 62, 10)
    assert shapes["max_pool_1"] == (30, 30, 10)
    assert shapes["max_pool_2"] == (13, 13, 10)
    assert shapes["flatten"] == (1690,)
    assert shapes["dense"] == (len(shapes_data.CLASSES),)
    assert [type(layer).__name__ for layer in m.layers][-3:] == ["Dense", "Rescaling", "Softmax"]
    assert tiny_vgg.temperature(m) == 1.0 and tiny_vgg.temperature(tiny_vgg.build_model(temperature=2.5)) == 2.5


def test_shipped_model_file_is_small():
    assert tiny_vgg.MODEL_PATH.stat().st_size < 2_000_000


def test_page_maps_equal_keras_sub_models(model, pictures):
    xs, _ = pictures
    for x in xs:
        acts = tiny_vgg.activations(model, x)
        shown = acts.image_layers
        assert [m.path for m in shown[1:]] == [layer.name for layer in tiny_vgg.map_layers(model)]
        for maps in shown[1:]:
            sub = keras.Model(model.inputs, model.get_layer(maps.path).output)
            want = sub([x[None]], training=False).numpy()[0]
            np.testing.assert_allclose(maps.maps, want, atol=1e-5, err_msg=maps.path)
        np.testing.assert_array_equal(shown[0].maps, x)
        np.testing.assert_allclose(acts.output, model([x[None]], training=False).numpy()[0], atol=1e-6)


def test_logits_equal_flatten_times_weights_plus_bias(model, pictures):
    w, b = (a.astype(np.float64) for a in model.get_layer("dense").get_weights())
    for x in pictures[0]:
        acts = tiny_vgg.activations(model, x)
        pooled = acts.image_layers[-1].maps.astype(np.float64)
        flat = pooled.reshape(-1)  # NumPy's C order on (row, col, channel) = channels-last
        np.testing.assert_allclose(acts.maps(tiny_vgg.FLAT), flat, atol=1e-6)
        logits = acts.maps(tiny_vgg.LOGITS)
        # float32 sums of 1,690 products against float64: equal to float32 precision (logits reach ~100).
        np.testing.assert_allclose(logits, flat @ w + b, rtol=1e-6, atol=1e-5)
        # The probabilities are softmax(logits / T), T the calibrated temperature stored in the model.
        t = tiny_vgg.temperature(model)
        assert t == pytest.approx(tiny_vgg.model_card()["temperature"], abs=1e-4)
        z = logits.astype(np.float64) / t
        e = np.exp(z - z.max())
        np.testing.assert_allclose(acts.output, e / e.sum(), atol=1e-6)
        k = tiny_vgg.predicted(acts)
        assert k == int(np.argmax(e))
        terms = tiny_vgg.contributions(acts.maps(tiny_vgg.FLAT), w.astype(np.float32), k, pooled.shape)
        np.testing.assert_allclose(terms.sum() + b[k], logits[k], atol=1e-4)


def test_flat_position_is_channels_last():
    shape = (13, 13, 10)
    for i in (0, 1, 9, 10, 129, 1689):
        assert tiny_vgg.flat_position(i, shape) == tuple(int(v) for v in np.unravel_index(i, shape))
    with pytest.raises(CnnError, match="0 to 1689"):
        tiny_vgg.flat_position(1690, shape)


def test_top_contributions_are_the_largest_terms(model, pictures):
    w, _ = tiny_vgg.dense_weights(model)
    acts = tiny_vgg.activations(model, pictures[0][0])
    flat = acts.maps(tiny_vgg.FLAT)
    top = tiny_vgg.top_contributions(flat, w, 2, (13, 13, 10), k=5)
    terms = flat * w[:, 2]
    np.testing.assert_allclose(sorted(abs(t.product) for t in top), np.sort(np.abs(terms))[-5:], rtol=1e-6)
    for t in top:
        assert acts.maps("max_pool_2")[t.row, t.col, t.channel] == pytest.approx(t.activation)


def _reference_grad_cam(model, x: np.ndarray, label: int) -> np.ndarray:
    """Grad-CAM the long way: relu_2_2 from a sub-model, the rest of the network rebuilt with tf ops here."""
    to_maps = keras.Model(model.inputs, model.get_layer("relu_2_2").output)
    w, b = model.get_layer("dense").get_weights()
    maps = tf.constant(to_maps([x[None]], training=False).numpy())
    with tf.GradientTape() as tape:
        tape.watch(maps)
        pooled = tf.nn.max_pool2d(maps, ksize=2, strides=2, padding="VALID")
        logits = tf.matmul(tf.reshape(pooled, (1, -1)), w) + b
        score = logits[0, label]
    grads = tape.gradient(score, maps).numpy()[0]
    a = maps.numpy()[0]
    cam = np.zeros(a.shape[:2])
    for k in range(a.shape[2]):
        cam += grads[:, :, k].mean() * a[:, :, k]
    cam = np.maximum(cam, 0)
    big = tf.image.resize(cam[None, :, :, None].astype(np.float32), (64, 64), method="bilinear").numpy()[0, :, :, 0]
    return cam, (big / big.max() if big.max() > 0 else big)


def test_grad_cam_equals_a_reference(model, pictures):
    xs, labels = pictures
    for x, label in zip(xs, labels):
        for k in {int(label), (int(label) + 1) % 7}:
            cam = tiny_vgg.grad_cam(model, x, k)
            coarse, heat = _reference_grad_cam(model, x, k)
            np.testing.assert_allclose(cam.coarse, coarse, atol=1e-5)
            np.testing.assert_allclose(cam.heat, heat, atol=1e-5)
    # Scaled to [0, 1]: 1 at its hottest, unless nothing speaks for the class (then all zeros).
    tops = [float(tiny_vgg.grad_cam(model, x, int(label)).heat.max()) for x, label in zip(xs, labels)]
    assert all(t == pytest.approx(1.0) or t == 0.0 for t in tops) and max(tops) == pytest.approx(1.0)
    with pytest.raises(CnnError, match="0 to 6"):
        tiny_vgg.grad_cam(model, xs[0], 7)


# --------------------------------------------------------------------------- training and accuracy


def test_a_short_training_run_end_to_end(tmp_path):
    out = tmp_path / "tiny.keras"
    trained = train.train(out, seed=3, samples=48, epochs=1, steps=2, verbose=0)
    again = tiny_vgg.load_model(out)
    x = tiny_vgg.prepare_input(shapes_data.sample("cross", 1))
    np.testing.assert_allclose(
        tiny_vgg.activations(again, x).output, trained(x[None], training=False).numpy()[0], atol=1e-6
    )
    accuracy, per_class = train.evaluate(again, seed=9, samples=12)
    assert 0.0 <= accuracy <= 1.0 and set(per_class) == set(shapes_data.CLASSES)


def test_shipped_model_scores_at_least_97_percent_on_fresh_pictures(model):
    accuracy, per_class = train.evaluate(model, seed=424242, samples=700)
    assert accuracy >= 0.97, per_class


def test_evaluate_command_prints_every_figure_and_a_last_accuracy_line(capsys):
    assert train.main(["evaluate", "--seed", "31337", "--samples", "140", "--drawn", "14"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    per_class = [ln.split(":")[0].strip() for ln in lines if ln.startswith("  ")]
    assert per_class == list(shapes_data.CLASSES) + list(shapes_data.CLASSES[:-1])  # generated, then drawn
    heads = [ln.split(":")[0] for ln in lines if not ln.startswith("  ")]
    assert heads == [
        "generated pictures (seed 31337, 140)",
        "drawn-style shapes (sketch_check, seed 31337, 14)",
        "non-shapes answered none or unsure (top probability <= 0.6, sketch_check, 14)",
        "calibration error (ECE, 15 bins, the generated, drawn and non-shape pictures above)",
        "accuracy",
    ]
    assert lines[-1].startswith("accuracy: ") and float(lines[-1].split()[1]) >= 0.9


def test_missing_model_file_says_how_to_make_it(tmp_path):
    with pytest.raises(CnnError, match="python -m cnn_core.train"):
        tiny_vgg.load_model(tmp_path / "none.keras")


def test_each_network_gets_its_own_forward_pass_even_after_others_are_dropped():
    import gc

    x = tiny_vgg.prepare_input(shapes_data.sample("square", 3))
    for seed in (1, 2, 3):
        keras.utils.set_random_seed(seed)
        m = tiny_vgg.build_model()
        want = m(x[None], training=False).numpy()[0]
        np.testing.assert_allclose(tiny_vgg.activations(m, x).output, want, atol=1e-6)
        del m
        gc.collect()


def test_generator_reports_progress_without_changing_the_pictures():
    seen = []
    with_progress, _ = shapes_data.make_dataset(1001, seed=4, progress=seen.append)
    assert seen == [500, 1000, 1001]
    np.testing.assert_array_equal(with_progress[-5:], shapes_data.make_dataset(1001, seed=4)[0][-5:])
