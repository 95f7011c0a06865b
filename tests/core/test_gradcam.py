"""Grad-CAM for any model equals a reference computed with the whole model under one gradient tape."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

keras = pytest.importorskip("keras")

from cnn_core import gradcam, model_maps  # noqa: E402
from cnn_core.errors import ModelError  # noqa: E402


def _reference(maps_and_logits, x: np.ndarray, unit: int) -> np.ndarray:
    """ReLU(Σₖ αₖ Aₖ) from a function giving (maps, logits) of the whole batch."""
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        a, logits = maps_and_logits(xt)
        score = logits[0, unit]
    g = np.asarray(tape.gradient(score, a))[0]
    return np.maximum(np.tensordot(np.asarray(a)[0], g.mean(axis=(0, 1)), axes=([2], [0])), 0.0)


def test_grad_cam_of_a_softmax_model_uses_the_logit_before_the_softmax():
    keras.utils.set_random_seed(11)
    inp = keras.Input((14, 14, 3))
    c1 = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inp)
    c2 = keras.layers.Conv2D(5, 3, strides=2, name="c2")(c1)
    flat = keras.layers.Flatten()(c2)
    dense = keras.layers.Dense(4, activation="softmax", name="probs")
    model = keras.Model(inp, dense(flat))
    x = np.random.default_rng(0).random((1, 14, 14, 3), dtype=np.float32)
    probe = keras.Model(inp, [c2, flat])
    k, b = dense.get_weights()

    def maps_and_logits(t):
        a, f = probe(t)
        return a, tf.matmul(f, k) + b

    for unit in range(4):
        cam = gradcam.grad_cam(model_maps.MapComputer(model), x, "c2", unit)
        np.testing.assert_allclose(cam.coarse, _reference(maps_and_logits, x, unit), rtol=1e-4, atol=1e-6)
        assert cam.score == "logit before softmax"
        assert cam.heat.shape == (14, 14) and 0.0 <= cam.heat.min() and cam.heat.max() <= 1.0


def test_grad_cam_inside_a_nested_block_of_a_sequential_uses_the_chosen_output_unit():
    keras.utils.set_random_seed(12)
    b_in = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="inner")
    base = keras.Model(b_in, keras.layers.MaxPooling2D(name="pool")(conv(b_in)), name="base")
    gap, head = keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, name="out")
    model = keras.Sequential([keras.Input((12, 12, 1)), base, gap, head])
    x = np.random.default_rng(1).random((1, 12, 12, 1), dtype=np.float32)
    pool = base.get_layer("pool")

    def maps_and_logits(t):
        a = conv(t)
        return a, head(gap(pool(a)))

    computer = model_maps.MapComputer(model)
    for unit in range(3):
        cam = gradcam.grad_cam(computer, x, "base/inner", unit)
        np.testing.assert_allclose(cam.coarse, _reference(maps_and_logits, x, unit), rtol=1e-4, atol=1e-6)
        assert cam.score == "output"
    with pytest.raises(ModelError, match="unit 3 does not exist"):
        gradcam.grad_cam(computer, x, "base/inner", 3)
    with pytest.raises(ModelError, match="no image-shaped maps"):
        gradcam.grad_cam(computer, x, "out", 0)


def test_a_layer_the_network_goes_around_is_refused_in_one_sentence():
    keras.utils.set_random_seed(13)
    inp = keras.Input((8, 8, 2))
    a = keras.layers.Conv2D(2, 3, padding="same", name="a")(inp)
    out = keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Add()([a, inp])))
    model = keras.Model(inp, out)
    x = np.zeros((1, 8, 8, 2), np.float32)
    with pytest.raises(ModelError, match="goes around it"):
        gradcam.grad_cam(model_maps.MapComputer(model), x, "a", 0)
