"""Drawn-style pictures, the "none" class, the temperature and the unsure answer: the generators against their
promises, calibration against NumPy references written here, and the shipped network on fresh drawings made
by ``sketch_check`` (a separate code path and seed family from anything training uses)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from cnn_core import nonshapes, shapes_data, sketch_check, sketches, tiny_vgg, train
from tests.core.generator_checks import assert_seeded

NONE = shapes_data.NONE


def test_none_is_a_class_named_with_the_word_none():
    assert len(shapes_data.CLASSES) == 7 and "none" in shapes_data.CLASSES[NONE].split()
    assert shapes_data.CLASSES[:6] == ("circle", "square", "triangle", "star", "cross", "ring")


# --------------------------------------------------------------------------- the generators


def test_sketches_are_deterministic_balanced_and_network_sized():
    _, la = assert_seeded(sketches.make_dataset, 21, seed=4)
    assert np.bincount(la, minlength=7).tolist() == [3] * 7
    canvas = sketches.sample("star", 2)
    assert canvas.shape == (256, 256, 3) and np.array_equal(canvas, sketches.sample("star", 2))


def test_a_sketch_has_ink_covering_a_visible_part_of_the_canvas():
    for name in shapes_data.CLASSES[:6]:
        for seed in range(3):
            pic = sketches.sample(name, seed).astype(int)
            paper = np.median(pic.reshape(-1, 3), axis=0)
            inked = (np.abs(pic - paper).sum(axis=2) > 60).mean()
            assert 0.005 < inked < 0.95, (name, seed, inked)


def test_circles_are_filled_and_rings_are_open():
    """The page's promise: a circle is a filled disk, a ring an outline with paper in its middle."""
    for seed in range(6):
        for name, filled in (("circle", True), ("ring", False)):
            pic = sketch_check.drawing(name, np.random.default_rng([99, seed])).astype(int)
            paper = pic[0, 0] if np.abs(pic[0, 0] - pic[-1, -1]).sum() < 10 else np.median(pic.reshape(-1, 3), 0)
            inked = np.abs(pic - paper).sum(axis=2) > 60
            ys, xs = np.nonzero(inked)
            cy, cx = int(ys.mean()), int(xs.mean())
            assert inked[cy, cx] == filled, (name, seed)
    for seed in range(6):
        train_ring = sketches.sample("ring", seed).astype(int)
        paper = train_ring[np.abs(train_ring - train_ring[0, 0]).sum(axis=2) < 200].mean(axis=0)
        inked = np.abs(train_ring - paper).sum(axis=2) > 80
        ys, xs = np.nonzero(inked)
        assert not inked[int(ys.mean()), int(xs.mean())], seed


def test_non_shapes_are_deterministic_and_varied():
    one = [nonshapes.picture(np.random.default_rng([1, i]), 64) for i in range(40)]
    again = [nonshapes.picture(np.random.default_rng([1, i]), 64) for i in range(40)]
    for a, b in zip(one, again):
        assert a.shape == (64, 64, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
    spreads = sorted(float(p.std()) for p in one)
    assert spreads[0] < 8 and spreads[-1] > 40  # blank paper and busy pictures both appear


def test_the_check_set_is_deterministic_and_labelled_shapes_then_none():
    pics, labels = sketch_check.make_set(12, seed=3)
    again, _ = sketch_check.make_set(12, seed=3)
    assert labels.tolist() == [0, 1, 2, 3, 4, 5] * 2 + [NONE] * 12
    for a, b in zip(pics, again):
        np.testing.assert_array_equal(a, b)
    assert all(p.shape == (256, 256, 3) for p in pics[:12])


# --------------------------------------------------------------------------- augmentation


def _dihedral(x: np.ndarray) -> list[np.ndarray]:
    out = []
    for t in (x, x.transpose(1, 0, 2)):
        out += [t, t[::-1], t[:, ::-1], t[::-1, ::-1]]
    return out


def test_augmentation_is_a_symmetry_of_the_square_and_a_channel_shuffle_seeded():
    rng = np.random.default_rng(0)
    images = rng.random((8, 64, 64, 3)).astype(np.float32)
    labels = np.arange(8)
    seed = tf.constant([3, 7], tf.int64)
    out, same = train.augment(tf.constant(images), tf.constant(labels), seed)
    again, _ = train.augment(tf.constant(images), tf.constant(labels), seed)
    np.testing.assert_array_equal(out.numpy(), again.numpy())
    np.testing.assert_array_equal(same.numpy(), labels)
    moved = 0
    for x, y in zip(images, out.numpy()):
        options = [t[..., list(p)] for t in _dihedral(x) for p in np.ndindex(3, 3, 3) if len(set(p)) == 3]
        assert any(np.array_equal(y, o) for o in options)
        moved += not np.array_equal(x, y)
    assert moved >= 4


# --------------------------------------------------------------------------- calibration


def _np_ece(probs: np.ndarray, labels: np.ndarray, bins: int) -> float:
    """ECE by a plain loop: each picture goes into the bin of its top probability."""
    sums = np.zeros((bins, 3))  # count, right, confidence
    for p, y in zip(probs, labels):
        top = p.max()
        b = min(int(top * bins), bins - 1)
        sums[b] += [1, float(p.argmax() == y), top]
    total = 0.0
    for count, right, conf in sums:
        if count:
            total += count / len(labels) * abs(right / count - conf / count)
    return total


def test_calibration_error_equals_a_plain_loop():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (500, 7))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 7, 500)
    assert train.calibration_error(probs, labels, 15) == pytest.approx(_np_ece(probs, labels, 15), abs=1e-12)
    assert train.calibration_error(probs, labels, 15) > 0.3  # confident and random: badly calibrated


def test_fitted_temperature_finds_the_one_the_labels_were_drawn_with():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 4, (20_000, 7))
    true_t = 2.5
    p = np.exp(logits / true_t)
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(7, p=row) for row in p])
    t = train.fit_temperature(logits, labels)
    assert abs(t - true_t) < 0.15
    calibrated = np.exp(logits / t) / np.exp(logits / t).sum(axis=1, keepdims=True)
    raw = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert train.calibration_error(calibrated, labels) < 0.02 < train.calibration_error(raw, labels)


def test_the_temperature_travels_with_the_model_and_divides_the_logits(tmp_path):
    m = tiny_vgg.build_model()
    hot = tiny_vgg.with_temperature(m, 3.0)
    path = tmp_path / "t.keras"
    hot.save(path)
    loaded = tiny_vgg.load_model(path)
    assert tiny_vgg.temperature(loaded) == pytest.approx(3.0)
    x = np.random.default_rng(3).random((64, 64, 3)).astype(np.float32)
    acts = tiny_vgg.activations(loaded, x)
    logits = acts.maps(tiny_vgg.LOGITS)
    np.testing.assert_allclose(logits, tiny_vgg.activations(m, x).maps(tiny_vgg.LOGITS), atol=1e-6)  # same weights
    z = logits.astype(np.float64) / 3.0
    np.testing.assert_allclose(acts.output, np.exp(z - z.max()) / np.exp(z - z.max()).sum(), atol=1e-6)


# --------------------------------------------------------------------------- the unsure answer


@pytest.mark.parametrize(
    "probs, sure, words",
    [
        ([0.9, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01], True, ""),
        ([0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.7], False, "none of the six"),
        ([0.55, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05], False, "only 55%"),
        ([0.0, 0.0, 0.0, 0.62, 0.36, 0.02, 0.0], False, "star (62%) and cross (36%) are close"),
        ([0.0, 0.66, 0.0, 0.0, 0.0, 0.34, 0.0], True, ""),
    ],
)
def test_verdict_says_when_it_is_unsure(probs, sure, words):
    v = tiny_vgg.verdict(np.array(probs))
    assert v.label == int(np.argmax(probs)) and v.sure == sure and words in v.reason
    assert v.runner_up == int(np.argsort(-np.array(probs), kind="stable")[1])


# --------------------------------------------------------------------------- the shipped network


@pytest.fixture(scope="module")
def model():
    return tiny_vgg.load_model()


def test_shipped_network_reads_fresh_drawings_and_knows_non_shapes(model):
    """300 pictures no training code has seen: 150 shapes drawn by sketch_check and 150 non-shapes, through
    the page's own path (prepare_input, activations)."""
    pictures, labels = sketch_check.make_set(150, seed=2026_12_03)
    probs = np.stack([tiny_vgg.activations(model, tiny_vgg.prepare_input(p)).output for p in pictures])
    predicted = probs.argmax(axis=1)
    shape = labels != NONE
    accuracy = (predicted[shape] == labels[shape]).mean()
    per_class = train.per_class(predicted[shape], labels[shape])
    assert accuracy >= 0.9 and min(per_class.values()) >= 0.75, (accuracy, per_class)
    said_none = (predicted == NONE) | (probs.max(axis=1) <= 0.6)
    assert said_none[~shape].mean() >= 0.8
    assert train.calibration_error(probs, labels) <= 0.08


def test_shipped_network_is_calibrated_on_held_out_pictures(model):
    images, labels = shapes_data.make_dataset(700, seed=31_415)
    drawn, dlabels = sketches.make_dataset(700, seed=27_182)
    framed = np.stack([tiny_vgg.prepare_input(p) for p in images])  # sketches come framed already
    x = np.concatenate([framed, drawn.astype(np.float32) / 255.0])
    probs = train.probabilities_of(model, x)
    assert train.calibration_error(probs, np.concatenate([labels, dlabels])) <= 0.05
