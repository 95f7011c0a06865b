"""The router opens on the playground, and every page it lists runs without an exception."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def test_app_opens_on_the_playground():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "What a convolution does to a photo"


def test_every_page_file_runs():
    for page in sorted((ROOT / "views").glob("*.py")):
        at = AppTest.from_file(str(page), default_timeout=120)
        at.run()
        assert not at.exception, f"{page.name}: {at.exception}"
