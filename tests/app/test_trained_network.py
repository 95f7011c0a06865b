"""The Trained network page under AppTest: it runs, follows the input, keeps its state in the URL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from cnn_core import network_link, shapes_data, tiny_vgg

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "trained_network.py")


def _app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def _headline(at: AppTest) -> str:
    """The answer's line: "It's a …", "None of these …" or "Not sure: …"."""
    starts = ("#### It's a", "#### **None of these**", "#### Not sure")
    return next(m.value for m in at.markdown if m.value.startswith(starts))


def _expected(shape: str, seed: int) -> tuple[str, float]:
    m = tiny_vgg.load_model()
    acts = tiny_vgg.activations(m, tiny_vgg.prepare_input(shapes_data.sample(shape, seed)))
    k = tiny_vgg.predicted(acts)
    return shapes_data.CLASSES[k], float(acts.output[k])


def test_page_runs_and_shows_every_section():
    at = _app()
    assert not at.exception and not at.error
    headers = [h.value for h in at.header]
    assert headers == [
        "1 · Every layer's maps",
        "2 · The learned filters",
        "3 · Flatten",
        "4 · Dense layer and softmax",
        "5 · Grad-CAM: where it looked",
        "6 · Inside any layer",
    ]
    name, p = _expected("star", 0)
    assert _headline(at) == f"#### It's a **{name}** · {p:.1%}"
    assert any("channels-last" in m.value for m in at.markdown)


def test_picking_another_shape_changes_the_prediction_and_the_url():
    at = _app()
    at.sidebar.selectbox(key="net_shape").set_value("ring").run()
    at.sidebar.number_input(key="net_seed").set_value(3).run()
    assert not at.exception
    name, p = _expected("ring", 3)
    assert _headline(at) == f"#### It's a **{name}** · {p:.1%}"
    assert at.query_params["cls"] == "ring" and at.query_params["seed"] == "3"


def test_flatten_entry_names_its_channel_row_and_column():
    at = _app()
    at.number_input(key="net_flat_index").set_value(137).run()
    row, col, ch = tiny_vgg.flat_position(137, (13, 13, 10))
    assert any(f"channel {ch}, row {row}, column {col}" in m.value for m in at.markdown)


def test_explained_class_changes_the_worked_softmax():
    at = _app()
    at.selectbox(key="net_explain").set_value("cross").run()
    assert any("Softmax, worked out for cross" in m.value for m in at.markdown)
    assert at.query_params["k"] == "cross"


def test_a_link_opens_its_view():
    at = _app({"p": "network", "in": "sample", "cls": "square", "seed": "11", "k": "pred", "v": "viridis.map"})
    assert not at.exception
    assert at.sidebar.selectbox(key="net_shape").value == "square"
    assert at.sidebar.selectbox(key="net_cmap").value == "viridis"
    name, p = _expected("square", 11)
    assert _headline(at) == f"#### It's a **{name}** · {p:.1%}"


def test_a_link_with_a_drawn_picture_shows_that_picture():
    picture = np.full((64, 64, 3), 255, np.uint8)
    picture[16:48, 16:48] = (20, 40, 160)  # a filled square, as drawn
    params = network_link.encode_view(network_link.NetView(source="image", image=network_link.link_picture(picture)))
    at = _app(params)
    assert not at.exception
    assert at.sidebar.radio(key="net_source").value == "link"
    acts = tiny_vgg.activations(tiny_vgg.load_model(), tiny_vgg.prepare_input(picture, frame=False))
    assert _headline(at).startswith(f"#### It's a **{shapes_data.CLASSES[tiny_vgg.predicted(acts)]}**")


def test_a_bad_link_warns_once_and_shows_a_sample():
    at = _app({"p": "network", "cls": "hexagon"})
    assert not at.exception
    assert len(at.warning) == 1 and "could not be used" in at.warning[0].value
    assert at.sidebar.selectbox(key="net_shape").value == "star"


def test_draw_mode_without_a_drawing_asks_for_one():
    at = _app()
    at.sidebar.radio(key="net_source").set_value("draw").run()
    assert not at.exception
    assert any("Draw a shape" in i.value for i in at.info)


def test_a_picture_of_no_shape_is_answered_none_or_unsure():
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::8] = 255
    stripes[:, 1::8] = 255  # vertical stripes: no shape at all
    params = network_link.encode_view(network_link.NetView(source="image", image=network_link.link_picture(stripes)))
    at = _app(params)
    assert not at.exception
    acts = tiny_vgg.activations(tiny_vgg.load_model(), tiny_vgg.prepare_input(stripes, frame=False))
    probs = acts.output
    answer = tiny_vgg.verdict(probs)
    assert not answer.sure
    head = _headline(at)
    if answer.label == shapes_data.NONE:
        assert head == f"#### **None of these** shapes · {probs[tiny_vgg.predicted(acts)]:.1%}"
    else:
        assert head.startswith("#### Not sure:")
    assert any(i.value.startswith(("The network isn't sure", "The network answers none")) for i in at.info)


def test_the_none_class_has_samples_and_travels_in_links():
    at = _app({"p": "network", "in": "sample", "cls": "none", "seed": "2", "k": "none", "v": "auto.layer"})
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="net_shape").value == "none"
    assert any("Softmax, worked out for none" in m.value and "/T" in m.value for m in at.markdown)
