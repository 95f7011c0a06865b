"""The "Your model" page under AppTest, with the demo model (assets/tiny_vgg.keras when bundled, else a small
nested model saved for the test) standing in for an upload, which AppTest can't make."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import backbones, model_file, model_maps
from tests.core import model_builders as mb
from ui.model import source as model_source

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "your_model.py")
BUNDLED = ROOT / "assets" / "tiny_vgg.keras"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    if BUNDLED.exists():
        return BUNDLED
    return mb.save(mb.nested(), tmp_path_factory.mktemp("demo"), "demo.keras")


@pytest.fixture()
def offline(monkeypatch):
    monkeypatch.setattr(backbones, "weights_reachable", lambda timeout=1.5: False)
    model_source._reachable.clear()


def _run(monkeypatch, demo_path: Path) -> AppTest:
    monkeypatch.setattr(model_source, "DEMO_PATH", demo_path)
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_the_demo_model_shows_its_summary_maps_and_output(monkeypatch, demo, offline):
    at = _run(monkeypatch, demo)
    assert at.title[0].value == "Your model"
    assert not at.error
    loaded, _ = model_file.load_model(demo.read_bytes())
    info = model_maps.describe(loaded)
    table = at.dataframe[0].value
    assert len(table) == len(info.layers) and list(table["Class"]) == [x.cls for x in info.layers]
    text = _text(at)
    first_page = model_maps.pages(info, (1, *[d or 1 for d in info.input_shape]))[0]
    for layer in first_page:
        assert f"**{layer.path}**" in text
        assert "×".join(map(str, layer.shape)) in text
    assert ("softmax" in text) == info.softmax
    assert len(at.get("plotly_chart")) == 1  # the enlarged map, with hover values
    assert "can't reach storage.googleapis.com" in text  # the one line about ImageNet backbones
    assert any(n in text for n in ("resized", "keeps its", "shrunk"))


def test_paging_shows_the_next_layers(monkeypatch, demo, offline):
    at = _run(monkeypatch, demo)
    pager = next(s for s in at.selectbox if s.label.startswith("Page of layers"))
    loaded, _ = model_file.load_model(demo.read_bytes())
    info = model_maps.describe(loaded)
    pages = model_maps.pages(info, (1, *[d or 1 for d in info.input_shape]))
    assert len(pager.options) == len(pages)
    # Pages count from 0, like every other index on the pages.
    assert [o.split(":")[0] for o in pager.options] == [str(i) for i in range(len(pages))]
    last = len(pages) - 1
    pager.set_value(last).run()
    assert not at.exception
    text = _text(at)
    assert f"**{pages[last][-1].path}**" in text
    assert last == 0 or f"**{pages[0][0].path}**" not in text  # another page replaces the first


@pytest.mark.slow
def test_nested_layers_are_shown_with_their_path(monkeypatch, tmp_path, offline):
    path = mb.save(mb.nested(), tmp_path, "n.keras")
    at = _run(monkeypatch, path)
    pager = next(s for s in at.selectbox if s.label.startswith("Page of layers"))
    seen = _text(at)
    for i in range(1, len(pager.options)):
        pager.set_value(i).run()
        seen += _text(at)
    for p in ("backbone/b_conv1", "backbone/block/blk_conv", "backbone/block/blk_relu", "backbone/b_pool"):
        assert f"**{p}**" in seen
    assert "inside backbone/block" in seen
    assert "rescales pixels itself" in seen


def test_without_a_demo_the_page_asks_for_a_model_and_states_the_caps(monkeypatch, tmp_path, offline):
    at = _run(monkeypatch, tmp_path / "missing.keras")
    assert "upload a `.keras` file" in at.info[0].value
    caps = _text(at)
    assert "50 MB" in caps and "Lambda" in caps and "safe mode" in caps


def test_imagenet_backbones_are_offered_when_online(monkeypatch, tmp_path):
    monkeypatch.setattr(backbones, "weights_reachable", lambda timeout=1.5: True)
    model_source._reachable.clear()
    at = _run(monkeypatch, tmp_path / "missing.keras")
    assert model_source.IMAGENET in at.radio[0].options
    assert "can't reach" not in _text(at)
    model_source._reachable.clear()


def test_per_map_colour_scale(monkeypatch, demo, offline):
    at = _run(monkeypatch, demo)
    assert "(whole layer)" in _text(at)
    at.radio(key="ym_scale").set_value("Per map").run()
    assert not at.exception
    assert "each map has its own range" in _text(at) and "(whole layer)" not in _text(at)


@pytest.mark.slow
def test_an_imagenet_backbone_runs_when_its_weights_can_be_had(monkeypatch, tmp_path):
    # No download here: the same wrapper with random weights stands in for the ImageNet one.
    build = backbones.build_backbone
    monkeypatch.setattr(backbones, "weights_reachable", lambda timeout=1.5: True)
    monkeypatch.setattr(backbones, "build_backbone", lambda name: build(name, weights=None))
    monkeypatch.setattr(backbones, "class_names", lambda: [f"thing {i}" for i in range(1000)])
    model_source._reachable.clear()
    model_source._backbone.clear()
    monkeypatch.setattr(model_source, "DEMO_PATH", tmp_path / "missing.keras")
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    at.radio(key="ym_model_source").set_value(model_source.IMAGENET).run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "**to_minus1_1**" in text and "224×224" in text
    rng = next(r for r in at.radio if r.label == "Pixel values fed to the model")
    assert rng.value == "0-255" and rng.disabled  # the wrapper scales pixels itself
    output = next(d.value for d in at.dataframe if "Output" in d.value.columns)  # the inspector adds tables after it
    assert output["Output"].str.contains("thing").all()
    model_source._reachable.clear()
    model_source._backbone.clear()
