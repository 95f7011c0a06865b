"""Every way in: the upload box in plain sight, samples, the camera (a fixed photo) and an empty drawing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = {"pg": "playground.py", "ls": "layer_stack.py"}


def _app(prefix: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "views" / PAGES[prefix]), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _jpeg(h: int, w: int) -> bytes:
    # A fixed photo: a horizontal ramp with a dark square, 3 channels.
    a = np.tile(np.linspace(0, 255, w, dtype=np.float64), (h, 1))
    a[h // 4 : h // 2, w // 4 : w // 2] = 10
    rgb = np.stack([a, a[::-1, ::-1], np.full_like(a, 128)], axis=2).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _sidebar_text(at: AppTest) -> str:
    return " ".join(e.value for kind in (at.sidebar.caption, at.sidebar.info, at.sidebar.error) for e in kind)


@pytest.mark.parametrize("prefix", list(PAGES))
def test_the_upload_box_is_there_on_the_first_screen(prefix):
    at = _app(prefix)
    assert at.radio(key=f"{prefix}_source").value == "Sample"
    assert len(at.sidebar.get("file_uploader")) == 1
    # Dropping a photo on it shows that photo, without another click.
    at.file_uploader(key=f"{prefix}_upload").set_value(("mine.jpg", _jpeg(60, 90), "image/jpeg")).run()
    assert not at.exception
    assert at.radio(key=f"{prefix}_source").value == "Upload"


def test_the_camera_path_with_a_fixed_photo():
    at = _app("pg")
    at.radio(key="pg_source").set_value("Camera").run()
    assert not at.exception
    # No photo yet (or no permission): one sentence, and the last good picture still gives maps.
    assert "No photo taken yet" in _sidebar_text(at)
    assert "Cameraman" in _sidebar_text(at)
    at.camera_input(key="pg_camera").set_value(("shot.jpg", _jpeg(40, 60), "image/jpeg")).run()
    assert not at.exception
    # The camera photo is what runs: its 60×40 size is resized keeping the shape (longer side 300).
    assert "Resized from 40×60 to 200×300" in _sidebar_text(at)
    assert not at.error


def test_a_broken_camera_frame_keeps_the_last_good_picture():
    at = _app("ls")
    at.radio(key="ls_source").set_value("Camera").run()
    at.camera_input(key="ls_camera").set_value(("shot.jpg", b"\xff\xd8\xff not really a jpeg", "image/jpeg")).run()
    assert not at.exception
    text = _sidebar_text(at)
    assert "The camera photo can't be used" in text and "Still showing Chelsea the cat" in text


def test_an_empty_drawing_says_so_and_keeps_the_maps():
    at = _app("pg")
    at.radio(key="pg_source").set_value("Drawing").run()
    assert not at.exception
    # The canvas has sent nothing: a plain sentence, never an exception box, and the sample's maps stay.
    assert "Draw on the canvas" in _sidebar_text(at)
    assert "Cameraman" in _sidebar_text(at)


@pytest.mark.slow
def test_the_trained_network_takes_a_camera_photo_too():
    at = AppTest.from_file(str(ROOT / "views" / "trained_network.py"), default_timeout=120)
    at.run()
    before = [m.value for m in at.markdown]
    at.radio(key="net_source").set_value("camera").run()
    assert not at.exception
    assert "Take a photo" in " ".join(i.value for i in at.sidebar.info)
    at.camera_input(key="net_camera").set_value(("shot.jpg", _jpeg(80, 80), "image/jpeg")).run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    assert "your photo from the camera" in captions
    assert [m.value for m in at.markdown] != before
