"""The Share and Download panel under AppTest: drawn only while open, the address bar kept either way."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnn_core import share

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = str(ROOT / "views" / "playground.py")
LAYER_STACK = str(ROOT / "views" / "layer_stack.py")
LINK_LABEL = "Copy this link (the address bar holds the same):"


def _app(page: str) -> AppTest:
    at = AppTest.from_file(page, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _open(at: AppTest, prefix: str, is_open: bool = True) -> None:
    at.session_state[f"{prefix}_share_open"] = is_open
    at.run()
    assert not at.exception, at.exception


def _link_boxes(at: AppTest) -> list:
    return [t for t in at.text_input if t.label == LINK_LABEL]


def test_closed_panel_sends_no_contents_but_the_address_bar_follows_the_view():
    at = _app(PLAYGROUND)
    assert [e.label for e in at.expander] == ["Share or download this view"]
    assert not _link_boxes(at)
    assert not at.get("download_button")
    assert not at.get("code")  # nothing on the first screen loads the browser's code highlighter
    before = _params(at)
    at.selectbox(key="pg_preset").set_value("laplacian").run()
    (old, w1), (new, w2) = share.decode_state(before), share.decode_state(_params(at))
    assert w1 is None and w2 is None
    assert new.spec.to_json() != old.spec.to_json()
    assert "laplacian" in new.spec.to_json() and "laplacian" not in old.spec.to_json()


def test_open_panel_shows_the_link_of_the_view_and_its_downloads():
    at = _app(PLAYGROUND)
    at.selectbox(key="pg_preset").set_value("laplacian").run()
    _open(at, "pg")
    (box,) = _link_boxes(at)
    query = box.value.split("?", 1)[1]
    state, warning = share.decode_state(dict(p.split("=", 1) for p in query.split("&")))
    assert warning is None
    assert state.spec.to_json() == share.decode_state(_params(at))[0].spec.to_json()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download everything (ZIP)", "Download the spec (JSON)", "Download this map (PNG)"]
    _open(at, "pg", False)
    assert not _link_boxes(at) and not at.get("download_button")


def test_the_photo_copy_choice_survives_closing_the_panel():
    at = _app(PLAYGROUND)
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value(
        ("coffee.png", (ROOT / "assets" / "coffee.png").read_bytes(), "image/png")
    ).run()
    _open(at, "pg")
    assert "s" in _params(at) and "img" not in _params(at)  # a sample stands in for the upload
    at.checkbox(key="pg_embed").check().run()
    embedded = _params(at)
    assert "img" in embedded and "s" not in embedded
    _open(at, "pg", False)
    assert _params(at) == embedded  # closing the panel keeps the photo in the link
    _open(at, "pg")
    assert at.checkbox(key="pg_embed").value is True
    at.checkbox(key="pg_embed").uncheck().run()
    assert "s" in _params(at) and "img" not in _params(at)


def test_layer_stack_panel_is_drawn_when_opened():
    at = _app(LAYER_STACK)
    assert not _link_boxes(at)
    _open(at, "ls")
    (box,) = _link_boxes(at)
    assert share.decode_state(_params(at))[0].page == "stack" and box.value.startswith("?p=stack&")
