"""Every file of the image corpus through the app's own upload widget: maps, or one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import map_views
from tests.data.make_corpus import build_corpus

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "views" / "playground.py")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    dest = tmp_path_factory.mktemp("corpus")
    return dest, build_corpus(dest)


@pytest.mark.slow
def test_every_corpus_file_gives_maps_or_one_clear_message(corpus):
    dest, cases = corpus
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="pg_source").set_value("Upload").run()
    results = {"maps": 0, "refused": 0}
    for case in cases:
        data = (dest / case.name).read_bytes()
        at.file_uploader(key="pg_upload").set_value((case.name, data, "application/octet-stream")).run()
        assert not at.exception, f"{case.name}: {at.exception}"
        sidebar_msgs = [e.value for e in at.sidebar.error] + [w.value for w in at.sidebar.warning]
        figures = map_views.views(at)
        if case.ok:
            assert not sidebar_msgs, f"{case.name}: {sidebar_msgs}"
            assert len(figures) == 4, case.name
            results["maps"] += 1
        else:
            assert len(sidebar_msgs) == 1, f"{case.name}: {sidebar_msgs}"
            msg = sidebar_msgs[0].lower()
            assert case.name.lower() in msg, msg  # the message says which file
            assert any(k.lower() in msg for k in case.keywords), f"{case.name}: {msg}"
            assert "traceback" not in msg
            results["refused"] += 1
    assert results["maps"] >= 25 and results["refused"] >= 10, results
    print(f"\n{len(cases)} corpus files through the upload widget: {results}")


def test_over_the_cap_offers_to_downscale(corpus):
    dest, cases = corpus
    big = next(c for c in cases if not c.ok and "downscale" in c.keywords)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.radio(key="pg_source").set_value("Upload").run()
    at.file_uploader(key="pg_upload").set_value((big.name, (dest / big.name).read_bytes(), "image/jpeg")).run()
    assert "downscale" in at.sidebar.warning[0].value.lower()
    at.button(key="pg_downscale").click().run()
    assert not at.exception
    assert not at.sidebar.warning
    assert len(map_views.views(at)) == 4
