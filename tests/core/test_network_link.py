"""The Trained network page's URL state, and the links that open one learned filter on other pages."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from cnn_core import network_link, run_pipeline, shapes_data, share, tiny_vgg
from cnn_core.network_link import NetView, decode_view, encode_view


def test_sample_view_round_trips():
    view = NetView(source="sample", shape="cross", seed=42, explain="ring", cmap="viridis", scale="map")
    params = encode_view(view)
    assert params["p"] == "network" and "img" not in params
    back, warning = decode_view({k: [v] for k, v in params.items()})
    assert warning is None and back == view


def test_drawn_picture_travels_as_a_small_image():
    picture = shapes_data.sample("triangle", 1)
    data = network_link.link_picture(picture)
    assert data is not None
    params = encode_view(NetView(source="image", image=data))
    assert len(params["img"]) <= share.MAX_IMAGE_CHARS
    back, warning = decode_view(params)
    assert warning is None and back.source == "image" and back.image == data


def test_another_pages_link_or_an_empty_query_is_not_ours():
    assert decode_view({}) == (None, None)
    assert decode_view({"p": "stack", "c": "x"}) == (None, None)


@pytest.mark.parametrize(
    "params, words",
    [
        ({"p": "network", "cls": "hexagon"}, "shapes are"),
        ({"p": "network", "seed": "-1"}, "whole number"),
        ({"p": "network", "seed": "1" * 7}, "too long"),
        ({"p": "network", "k": "dog"}, "class to explain"),
        ({"p": "network", "v": "rainbow.layer"}, "colour settings"),
        ({"p": "network", "in": "image"}, "picture is missing"),
        ({"p": "network", "in": "image", "img": base64.urlsafe_b64encode(b"not a png").decode()}, "could not"),
        ({"p": "network", "zzz": "1"}, "does not know"),
        ({"p": ["network", "network"]}, "given 2 times"),
    ],
)
def test_bad_links_give_one_warning_and_no_view(params, words):
    view, warning = decode_view(params)
    assert view is None
    assert warning.startswith("This link could not be used") and words in warning


@pytest.fixture(scope="module")
def model():
    return tiny_vgg.load_model()


def test_stack_link_spec_reproduces_the_filters_map(model):
    """The Layer stack runs the network's own layers up to the filter: its last map is the network's channel."""
    x = tiny_vgg.prepare_input(shapes_data.sample("star", 2))
    picture = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
    acts = tiny_vgg.activations(model, tiny_vgg.prepare_input(picture, frame=False))  # as a link's picture is read
    convs = [tiny_vgg.conv_filters(model, n) for n in tiny_vgg.CONV_LAYERS]
    for layer, name in ((0, "relu_1_1"), (1, "relu_1_2"), (2, "relu_2_1")):
        spec = network_link.stack_spec(convs, layer, 4)
        assert spec.layers[-2].filters[0].depth == convs[layer][0].shape[2]  # a 3-D kernel
        stages = run_pipeline(picture, spec)
        want = acts.maps(name)[:, :, 4]
        np.testing.assert_allclose(stages[-1].maps[:, :, 0], want, atol=2e-3)  # weights rounded to 4 decimals


def test_filter_links_fit_or_say_why(model):
    convs = [tiny_vgg.conv_filters(model, n) for n in tiny_vgg.CONV_LAYERS]
    image = network_link.link_picture(shapes_data.sample("ring", 0))
    url, why = network_link.filter_link("http://h/layer_stack", "stack", network_link.stack_spec(convs, 0, 0), image)
    assert why is None and url.startswith("http://h/layer_stack?p=stack&")
    state, warning = share.decode_state(dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&")))
    assert warning is None and state.image == image and len(state.spec.layers) == 2
    url, why = network_link.filter_link("http://h/layer_stack", "stack", network_link.stack_spec(convs, 3, 0), image)
    assert url is None and "does not fit in a link" in why


def test_playground_link_holds_one_kernel_slice_the_playground_accepts(model):
    from ui.playground.state import misfit

    kernel, bias = tiny_vgg.conv_filters(model, "conv_1_2")
    spec = network_link.playground_spec(kernel[:, :, :, 3], float(bias[3]), 7, pool=True)
    assert misfit(spec) is None
    f = spec.layers[0].filters[0]
    np.testing.assert_allclose(np.array(f.weights), kernel[:, :, 7, 3], atol=5e-5)
    assert f.preset is None and spec.layers[0].padding == "valid" and spec.layers[2].type == "pool2d"
