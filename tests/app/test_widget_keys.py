"""The widget and session-state keys, made in ui/common/keys.py and each page's keys module: the names the
browser and app tests find widgets by stay as they were, a misspelt part of a shared widget fails loudly,
and two pages never share a key."""

from __future__ import annotations

import pytest

from ui.common import keys as common
from ui.model import keys as model_keys
from ui.network import keys as net_keys
from ui.playground import keys as pg_keys
from ui.stack import keys as ls_keys
from ui.train import keys as train_keys
from ui.units import keys as unit_keys


@pytest.mark.parametrize(
    ("made", "name"),
    [
        # found by tests/e2e as st-key-<name>, or by the app tests as key=<name>
        (common.picker("pg", "phone_input"), "pg_phone_input"),
        (common.picker("net", "phone_input"), "net_phone_input"),
        (common.picker("ls", "upload"), "ls_upload"),
        (common.inspector("ls", "inspector"), "ls_inspector"),
        (common.inspector("pg", "exact", "conv"), "pg_exact_conv"),
        (common.animation("pg", "anim_step"), "pg_anim_step"),
        (common.share("ls", "spec_json"), "ls_spec_json"),
        (common.cmap("net"), "net_cmap"),
        (common.scale("ym"), "ym_scale"),
        (train_keys.LATEST, "tr_latest"),
        (train_keys.FILTERS, "tr_filters"),
        (train_keys.shots(1), "tr_shots_1"),
        (train_keys.scrub(2), "tr_scrub_2"),
        (train_keys.MODEL, "tr_model"),
        (net_keys.phone("shape"), "net_phone_shape"),
        (net_keys.EXPLAIN, "net_explain"),
        (net_keys.filter_channel(3), "net_fch_3"),
        (model_keys.inspector("ym"), "ym_minspector"),
        (model_keys.inspector("net", "row"), "net_mi_row"),
        (model_keys.gradcam("ym", "unit"), "ym_gc_unit"),
        (model_keys.band("conv_1"), "ym_band_conv_1"),
        (model_keys.MODEL_BYTES, "ym_model_bytes"),
        (model_keys.MODEL_UPLOAD, "ym_model_upload"),
        (unit_keys.MODEL_BYTES, "ym_model_bytes"),
        (unit_keys.SHAPE, "unit_shape"),
        (unit_keys.PHONE_SHAPE, "unit_phone_shape"),
        (model_keys.zoom("net", "worked"), "net_zoom_worked"),
        (model_keys.zoom("ym", "side"), "ym_zoom_side"),
    ],
)
def test_keys_keep_the_names_the_tests_and_sessions_use(made, name):
    assert made == name


@pytest.mark.parametrize(
    "make",
    [
        lambda: common.picker("pg", "uplaod"),
        lambda: common.inspector("pg", "insp_rows"),
        lambda: common.animation("pg", "step"),
        lambda: common.share("pg", "embedded"),
    ],
)
def test_a_misspelt_part_of_a_shared_widget_raises(make):
    with pytest.raises(KeyError, match="is not one of"):
        make()


def _constants(module) -> set[str]:
    return {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str) and k != "P"}


def test_every_page_has_its_own_prefix_and_its_constant_keys_start_with_it():
    modules = (pg_keys, ls_keys, train_keys, net_keys, model_keys, unit_keys)
    assert len({m.P for m in modules}) == len(modules)
    for m in modules:
        borrowed = {model_keys.TRAINED_MODEL, unit_keys.MODEL_BYTES} if m in (model_keys, unit_keys) else set()
        own = _constants(m) - borrowed
        assert own and all(k.startswith(m.P + "_") for k in own), (m.__name__, sorted(own))
