"""`python -m cnn_core run` says so when values overflow float32, as the page does under a map."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from cnn_core.__main__ import main

HUGE = {  # 3.4e38 is just under float32's largest value: summed over a 3×3 window it overflows where the photo isn't black
    "version": 1,
    "input": {"color": "grayscale", "size": [64, 64]},
    "layers": [{"type": "conv2d", "filters": [[[3.4e38] * 3] * 3]}, {"type": "activation", "function": "relu"}],
}


def _run(tmp_path, spec: dict, capsys) -> tuple[int, list[str]]:
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)
    pixels[:, :32] = 0  # a black half stays finite
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    capsys.readouterr()
    rc = main(
        ["run", str(tmp_path / "photo.png"), "--spec", str(tmp_path / "spec.json"), "--out", str(tmp_path / "out")]
    )
    return rc, capsys.readouterr().err.splitlines()


def test_overflowed_values_are_warned_about_per_stage(tmp_path, capsys):
    rc, lines = _run(tmp_path, HUGE, capsys)
    assert rc == 0  # the maps are written; the warning says what is in them
    warnings = [line for line in lines if line.startswith("warning: ")]
    for index, name in [(1, "conv2d"), (2, "activation")]:
        maps = np.load(tmp_path / "out" / f"{index:02d}_{name}.npy")
        bad = int(np.count_nonzero(~np.isfinite(maps)))
        assert 0 < bad < maps.size
        expected = f"warning: stage {index} ({name}): {bad:,} of {maps.size:,} values overflowed float32"
        assert [w for w in warnings if w.startswith(expected)], (expected, warnings)
    assert len(warnings) == 2  # the input stage is finite and gets none
    assert not [line for line in lines if line.startswith("error:")]


def test_finite_maps_get_no_warning(tmp_path, capsys):
    spec = {**HUGE, "layers": [{"type": "conv2d", "filters": ["edge"]}]}
    rc, lines = _run(tmp_path, spec, capsys)
    assert rc == 0
    assert not [line for line in lines if line.startswith("warning:")]
