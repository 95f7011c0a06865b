"""The benchmark harness stays runnable: its references agree with the pipeline, and --quick runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import core
from benchmarks.stats import Figure, Target

ROOT = Path(__file__).resolve().parents[2]


CASES = {
    "1ch 37²": lambda: core.gray_case(37),
    "1ch 40×29": lambda: core.Case(
        "1ch 40×29", np.ascontiguousarray(core.photo(40)[:, :29]), core.spec_for("grayscale", ["edge"]), core.EDGE
    ),
    "RGB 24² 8 filters": lambda: core.rgb_case(24),
}


@pytest.mark.parametrize("name", list(CASES))
def test_article_eager_calls_agree_with_run_pipeline(name):
    errors = core.check_case(CASES[name](), with_cv2=False)
    assert set(errors) == {"eager TF", "run_pipeline, eager ops only"}
    assert errors["eager TF"] < core.RTOL and errors["run_pipeline, eager ops only"] < core.RTOL


@pytest.mark.parametrize("name", list(CASES))
def test_opencv_agrees_with_run_pipeline(name):
    # OpenCV is a benchmark-only dependency of the app, but the test setup installs it
    # (requirements-dev.txt includes requirements-bench.txt), so this check never skips.
    errors = core.check_case(CASES[name](), with_cv2=True)
    assert errors["OpenCV"] < core.RTOL


def test_agreement_check_reports_a_difference():
    case = core.gray_case(20)
    ref = core.run_pipeline_maps(case.image, case.spec)
    bad = [m.copy() for m in ref]
    bad[2][3, 4, 0] += 1e-3 * float(np.abs(ref[2]).max())
    assert core.agree([m.copy() for m in ref], ref, "same") == 0.0
    with pytest.raises(core.AgreementError, match=r"pool2d differs at \(3, 4, 0\)"):
        core.agree(bad, ref, "perturbed")
    with pytest.raises(core.AgreementError, match="shape"):
        core.agree([ref[0][:-1], ref[1], ref[2]], ref, "cropped")


def test_target_verdicts():
    fast = Figure("s", "x", "ms", [40.0, 50.0, 90.0], Target("<=", 60, "ms"))
    assert (fast.median, fast.spread, fast.status) == (50.0, (40.0, 90.0), "PASS")
    assert Figure("s", "x", "ms", [70.0], Target("<=", 60, "ms")).status == "MISS"
    assert Figure("s", "x", "×", [9.0, 11.0, 12.0], Target(">=", 10, "×")).status == "PASS"
    assert Figure("s", "x", "ms", [70.0], Target("<=", 60, "ms"), quick=True).status == ""
    assert Figure("s", "x", "ms", [], Target("<=", 60, "ms"), note="why").status == "n/a"


def _run(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "benchmarks/run.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_quick_run_of_core_server_and_scaling(tmp_path):
    args = ["--quick", "--sections", "core,server,scaling", "--out", str(tmp_path)]
    # One CPU kind, core only, keeps this quick; the full run does both kinds, core and server.
    proc = _run([*args, "--cpu-kinds", "onednn-off", "--kind-sections", "core"], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    res = _results(tmp_path)
    assert res["meta"]["quick"] is True and not res["failed"]
    by_section: dict[str, list[dict]] = {}
    for f in res["figures"]:
        by_section.setdefault(f["section"], []).append(f)
    assert set(by_section) == {"core", "server", "scaling", "core · oneDNN off"}
    kind = res["details"]["kind onednn-off"]["meta"]
    assert kind["cpu_kind_env"]["TF_ENABLE_ONEDNN_OPTS"] == "0" and kind["cpu_kind"] == "onednn-off"
    assert res["meta"]["cpu"]["model"] and "AVX-512: " in proc.stdout
    assert "Targets for each CPU kind" in proc.stdout and "oneDNN off" in proc.stdout
    for f in res["figures"]:
        if f["status"] == "n/a":  # only what may legitimately be missing here
            assert "OpenCV" in f["name"] or "layer stack" in f["name"], f
        else:
            assert f["n"] >= 1 and f["median"] > 0, f
    names = [f["name"] for f in by_section["core"]]
    assert "speed-up of run_pipeline over eager TF, 1ch 128²" in names
    assert any(f["name"].startswith("playground rerun after a slider change") for f in by_section["server"])
    assert {"pixels", "filters", "layers"} <= set(res["details"]["scaling"]["fits"])
    # The printed table shows each figure with its target beside it.
    assert "target" in proc.stdout and "≥ 10 ×" in proc.stdout and "≤ 60 ms" in proc.stdout
    if res["plots"]:
        assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in res["plots"])


def test_unknown_section_is_refused():
    proc = _run(["--sections", "core,speed"], timeout=60)
    assert proc.returncode == 2
    assert "unknown section 'speed'" in proc.stderr


@pytest.mark.browser
@pytest.mark.slow
def test_quick_run_of_browser_and_memory(tmp_path):
    from tests.e2e.conftest import need_browser

    need_browser()
    # The CPU-kind reruns are checked by the core test above; here they would only repeat core and server.
    args = ["--quick", "--sections", "browser,memory", "--out", str(tmp_path), "--no-plots", "--cpu-kinds", "none"]
    proc = _run(args, timeout=360)  # the Layer stack's key presses added ~30 s on a loaded machine
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figs = {f["name"]: f for f in _results(tmp_path)["figures"]}
    paint = figs["slider key press → updated maps painted, playground 128²"]
    assert paint["n"] == 2 and paint["median"] > 0
    assert 0 < figs["bytes received per slider change, playground 128² (1 MB = 10⁶ B)"]["median"] < 10
    stack = figs["slider key press → updated maps painted, Layer stack (conv 8 filters → ReLU → pool) RGB 128²"]
    assert stack["n"] == 2 and stack["median"] > 0
    assert figs["server peak RSS (with children), 2 sessions on 256² photos"]["median"] > 0


def test_many_visitors_tells_cache_growth_from_other_growth():
    from benchmarks.at_once import _growth

    rss = [(t, 800.0 + 2 * t) for t in range(0, 125, 5)]  # 2 MB a second throughout
    held = [(t + 0.4, 10.0 + 2 * min(t, 60)) for t in range(0, 125, 5)]  # caches fill for 60 s, then stay
    g = _growth(rss, held)
    assert g["rss_growth_first_half_mb"] == 120 and g["rss_growth_second_half_mb"] == 120
    assert g["rss_slope_second_half_mb_per_min"] == pytest.approx(120)
    assert g["caches_growth_first_half_mb"] == 120 and g["caches_growth_second_half_mb"] == 0
    assert g["outside_caches_growth_first_half_mb"] == 0 and g["outside_caches_growth_second_half_mb"] == 120
    # Without the server's log only the memory's own figures are given.
    assert "caches_end_mb" not in _growth(rss, [])


def test_the_interactivity_extrapolation_survives_a_nearly_flat_last_step():
    from benchmarks.scaling import _crossing

    # A quick run's tiny sizes can take almost the same time: the extrapolated side overflowed a float.
    text = _crossing([32, 64], [10.0, 10.0000001])
    assert "far beyond 1,000,000²" in text
    assert "near 2048²" in _crossing([512, 1024], [250.0, 500.0])  # time ∝ pixels^0.5: 2× the side per 2× time
    assert "passes 1 s per change by 1024²" in _crossing([512, 1024], [500.0, 1500.0])


def test_many_visitors_reads_the_held_log_skipping_a_cut_line(tmp_path):
    from benchmarks.at_once import _held

    log = tmp_path / "held.jsonl"
    log.write_text(
        '{"t": 100.0, "held": {"a": 1048576, "b": 1048576}}\n{"t": 105.0, "held": {"a": 3145728}}\n{"t": 110.0, "he'
    )
    assert _held(str(log), 100.0) == [(0.0, 2.0), (5.0, 3.0)]
    assert _held(str(tmp_path / "missing.jsonl"), 0.0) == []
