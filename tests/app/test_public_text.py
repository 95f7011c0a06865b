"""Nothing private reaches the page, and names a visitor chose show as text, never as Markdown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import tomllib
from markdown_it import MarkdownIt
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

import cnn_core
from cnn_core.errors import STRICT_ENV
from ui.common import errors
from ui.common.text import WORD_JOINER, code, plain

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND = str(ROOT / "views" / "playground.py")
STACK = str(ROOT / "views" / "layer_stack.py")

HOSTILE = [
    "![t](https://evil.example/t.png)",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "**bold** _it_ ~~gone~~ `tick` $x^2$",
    ":red[shout] :material/warning: :smile:",
    "see www.evil.example or mail a@evil.example",
    "# heading | a | b |",
    "<https://evil.example/auto>",
    "back\\slash \\[x](y) `` two ``",
    "line\nbreak\u202eevil",
]


def _html(markdown: str) -> str:
    md = MarkdownIt("commonmark").enable(["strikethrough", "table"])
    return md.render(markdown)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_the_same_characters_and_no_markup(text):
    for wrapped in (plain(text), code(text)):
        html = _html("Problem: " + wrapped)
        for tag in ("<img", "<a ", "<em", "<strong", "<s>", "<del", "<h1", "<table", "<br"):
            assert tag not in html, (wrapped, html)
    # What shows is the visitor's text, minus only invisible characters.
    shown = _html(plain(text)).removeprefix("<p>").removesuffix("</p>\n")
    import html as html_lib

    visible = html_lib.unescape(shown).replace(WORD_JOINER, "")
    expected = text.replace("\n", " ").replace("\u202e", " ")
    assert visible == expected


def test_streamlit_shortcodes_and_links_are_broken_by_an_invisible_joiner():
    assert ":red[" not in plain(":red[x]") and ":smile:" not in plain(":smile:")
    assert "https://" not in plain("https://evil.example") and "www." not in code("www.evil.example")


def test_an_upload_named_like_markdown_is_named_as_code(tmp_path):
    name = "![t](https://evil.example/t.png)"
    at = AppTest.from_file(PLAYGROUND, default_timeout=120)
    at.run()
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value((name, b"not an image at all", "image/png")).run()
    assert not at.exception
    msg = at.sidebar.error[0].value
    assert msg.startswith(code(name) + " ")
    assert "<img" not in _html(msg) and "<a " not in _html(msg)


def test_a_spec_file_named_like_markdown_is_named_as_code():
    name = "[x](https://evil.example).json"
    at = AppTest.from_file(STACK, default_timeout=120)
    at.run()
    at.file_uploader(key=next(u.key for u in at.file_uploader if "import" in (u.key or ""))).set_value(
        (
            name,
            b'{"version": 1, "layers": [{"type": "conv2d", "filters": ["![i](https://e.example/i.png)"]}]}',
            "application/json",
        )
    ).run()
    msg = " ".join(e.value for e in at.error)
    assert code(name) in msg
    assert "<img" not in _html(msg) and "<a " not in _html(msg)


def test_tracebacks_are_hidden_by_the_config():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    value = cfg["client"]["showErrorDetails"]
    # "none" is the one value Streamlit accepts that hides message, type and traceback alike.
    assert value == st_config.ShowErrorDetailsConfigOptions.NONE


def _boom():
    import streamlit as st

    from ui.common.errors import show_unexpected

    try:
        raise RuntimeError("secret detail at /srv/app/cnn_core/pipeline.py line 12")
    except RuntimeError as e:
        st.session_state["ref"] = show_unexpected(e)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(self.format(record))


@pytest.mark.apology_expected
def test_an_unexpected_error_shows_an_apology_and_logs_the_reference_with_the_traceback():
    cap = _Capture()
    errors.LOG.addHandler(cap)
    try:
        at = AppTest.from_function(_boom)
        at.run()
    finally:
        errors.LOG.removeHandler(cap)
    ref = at.session_state["ref"]
    shown = at.error[0].value
    assert ref in shown and "Sorry" in shown
    assert "secret" not in shown and "/srv" not in shown and "RuntimeError" not in shown
    logged = "\n".join(cap.records)
    assert ref in logged and "Traceback" in logged and "RuntimeError: secret detail" in logged


@pytest.mark.apology_expected
def test_the_pipeline_failing_unexpectedly_gives_the_apology_not_the_error(monkeypatch):
    monkeypatch.delenv(STRICT_ENV)  # a visitor's server: the apology (under the tests the bug goes up)

    def broken(*args, **kwargs):
        raise RuntimeError("internal state at /srv/app/secret.py")

    monkeypatch.setattr(cnn_core, "run_pipeline", broken)
    at = AppTest.from_file(PLAYGROUND, default_timeout=120)
    at.run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Sorry" in shown and "secret" not in shown
