"""The Train page under AppTest: controls, a short run through the worker, the results and the hand-over."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ui.train import jobs as train_jobs
from ui.train import page as train_page

PAGE = str(Path(__file__).resolve().parents[2] / "views" / "train.py")


def _wait_done(at: AppTest, budget_s: float = 240) -> train_jobs.Job:
    job = at.session_state[train_page.JOB_KEY]
    deadline = time.monotonic() + budget_s
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.5)
        job.seen()
    assert job.finished, f"the run did not finish in {budget_s} s (state {job.state})"
    return job


def test_page_states_its_budget_and_share_link():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    text = " ".join(c.value for c in at.caption)
    assert (
        f"{train_page.class_folders.MAX_PICTURES:,} pictures" in text
        and f"{train_jobs.MAX_CPU_SECONDS} CPU seconds" in text
    )
    assert "?data=shapes:circle,square,triangle&arch=tiny_vgg&seed=0&epochs=5&per_class=100" in text
    assert "don't travel" in text


def test_a_link_fills_the_controls():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"data": "shapes:star,ring", "arch": "tiny_vgg", "seed": "7", "epochs": "3"})
    at.run()
    assert at.multiselect(key="tr_shapes").value == ["star", "ring"]
    assert at.number_input(key="tr_seed").value == 7 and at.number_input(key="tr_epochs").value == 3


def test_one_class_is_refused_with_a_reason():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.multiselect(key="tr_shapes").set_value(["circle"]).run()
    assert any("at least 2 shape classes" in i.value for i in at.info)
    assert at.button(key="tr_train").disabled


@pytest.mark.slow
def test_a_short_run_shows_curves_filters_results_and_hands_over(monkeypatch):
    # One page under AppTest has no st.navigation to switch within (Streamlit raises "Could not find
    # page"); the hand-over is checked by where it asks to go.
    went: list[str] = []
    monkeypatch.setattr(st, "switch_page", went.append)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.multiselect(key="tr_shapes").set_value(["circle", "cross"])
    at.slider(key="tr_per_class").set_value(20)
    at.number_input(key="tr_epochs").set_value(2).run()
    at.button(key="tr_train").click().run()
    job = _wait_done(at)
    assert job.state == "done" and [s.epoch.epoch for s in job.snapshots] == [1, 2]
    assert job.confusion.sum() == 8 and job.confusion.shape == (2, 2)
    at.run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2  # loss and accuracy curves
    assert any("First layer's filters after epoch 2" in m.value for m in at.markdown)
    assert at.slider(key="tr_scrub_2").value == 2
    assert job.snapshots[0].filters_png.shape == (3 * 8 + 2, 10 * (3 * 8 + 2), 3)
    assert not np.array_equal(job.snapshots[0].filters_png, job.snapshots[1].filters_png)
    at.button(key="tr_open").click().run()
    name, data, names = at.session_state[train_page.MODEL_KEY]
    assert names == ("circle", "cross") and data == job.model_bytes
    assert went == ["views/your_model.py"]


def test_your_model_page_opens_a_trained_model(tmp_path):
    from cnn_core import learn
    from ui.model import source as model_source

    model = learn.build(learn.Settings(), 3)
    model.save(tmp_path / "m.keras")
    page = str(Path(__file__).resolve().parents[2] / "views" / "your_model.py")
    at = AppTest.from_file(page, default_timeout=180)
    at.session_state[train_page.MODEL_KEY] = ("trained.keras", (tmp_path / "m.keras").read_bytes(), ("a", "b", "c"))
    at.session_state[f"{model_source.P}_model_source"] = model_source.TRAINED
    at.run()
    assert not at.exception
    assert not at.error
    assert any("Trained on the Train page" in s.value for s in at.subheader)
