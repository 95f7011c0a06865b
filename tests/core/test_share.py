"""Links: every setting survives a round trip, links stay short, and hostile links fall back to defaults."""

from __future__ import annotations

import base64
import gc
import io
import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import cnn_core
from cnn_core import parse_spec, run_pipeline
from cnn_core.share import (
    MAX_IMAGE_CHARS,
    MAX_IMAGE_PIXELS,
    MAX_SPEC_CHARS,
    PAGES,
    SAMPLES,
    LinkState,
    decode_state,
    embed_image,
    encode_state,
    link_problem,
    share_url,
)

ROOT = Path(__file__).resolve().parents[2]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def packed(text: str | bytes) -> str:
    """A spec part made from arbitrary JSON text, bypassing Spec's own serialiser."""
    raw = text.encode() if isinstance(text, str) else text
    return b64(zlib.compress(raw, 9))


def spec(layers: list, color: str = "grayscale", size=(300, 300)) -> cnn_core.Spec:
    return parse_spec({"version": 1, "input": {"color": color, "size": list(size) if size else None}, "layers": layers})


def conv(filters, **kw) -> dict:
    return {"type": "conv2d", "filters": filters, **kw}


def pool(**kw) -> dict:
    return {"type": "pool2d", "stride": 2, **kw}


def hand_kernels(rng: np.random.Generator, n: int, depth: int | None = None) -> list:
    """Kernels as a person makes them with the weight sliders (steps of 0.05 in [-2, 2])."""
    shape = (n, 3, 3) if depth is None else (n, 3, 3, depth)
    return (rng.integers(-40, 41, size=shape) * 0.05).round(2).tolist()


def three_conv_stack(rng: np.random.Generator, depth3d: bool = False) -> cnn_core.Spec:
    """Three conv + ReLU + pool blocks with 8 hand-edited 3×3 filters each."""
    layers = []
    for i in range(3):
        depth = (3 if i == 0 else 8) if depth3d else None
        layers += [conv(hand_kernels(rng, 8, depth), bias=0.0), {"type": "activation", "function": "relu"}, pool()]
    return spec(layers, color="rgb")


# --------------------------------------------------------------------------- round trips

ROUND_TRIP_SPECS = {
    "default": cnn_core.default_spec(),
    "no layers": spec([], color="rgb", size=None),
    "every preset": spec(
        [conv([n for n, p in cnn_core.PRESETS.items() if len(p.weights) == k]) for k in (3, 5)], size=(40, 30)
    ),
    "2-D weights": spec([conv([[[0.5, -1.25, 3e-7], [1e30, -2, 0], [0.1, 0.2, 0.30000000000000004]]])]),
    "3-D weights": spec([conv([[[[0.1, -0.2, 0.3], [1, 2, 3]], [[-1, 0, 1], [0.25, 0.5, 0.75]]]] * 2)], color="rgb"),
    "init filters": spec(
        [
            conv(
                [
                    {"init": "he_normal", "seed": 7, "size": [3, 5]},
                    {"init": "glorot_uniform", "seed": 2**31 - 1, "size": [3, 5]},
                ]
            )
        ],
        color="rgb",
    ),
    "stride and dilation pairs": spec(
        [conv(["sobel_x"], stride=[2, 3], dilation=[1, 2]), conv(["edge"], stride=4, dilation=3)], size=(120, 90)
    ),
    "padding valid": spec([conv(["edge"], padding="valid")]),
    "padding int": spec([conv(["edge"], padding=2)]),
    "padding per side": spec([conv(["edge"], padding=[[0, 3], [1, 2]])]),
    "bias list": spec([conv(["edge", "sobel_x", "laplacian"], bias=[0.5, -1.5, 1e-3])]),
    "single bias": spec([conv(["edge", "sobel_x"], bias=-0.25)]),
    "every activation": spec(
        [{"type": "activation", "function": f} for f in ("relu", "tanh", "sigmoid", "elu", "gelu", "linear")]
        + [{"type": "activation", "function": "leaky_relu", "alpha": 0.013}]
    ),
    "pool modes and paddings": spec(
        [
            pool(mode="max", size=3, stride=[1, 2], padding="same"),
            pool(mode="avg", size=[2, 3], stride=2, padding="valid"),
            pool(mode="avg", size=2, stride=3, padding="same"),
        ]
    ),
    "rgb kept size": spec([conv(["identity"]), {"type": "activation", "function": "relu"}, pool()], "rgb", None),
    "odd size": spec([conv(["sharpen"])], size=(17, 1023)),
}


@pytest.mark.parametrize("name", list(ROUND_TRIP_SPECS))
def test_every_spec_setting_survives_a_round_trip(name):
    state = LinkState(
        page="stack", sample="chelsea", spec=ROUND_TRIP_SPECS[name], view={"cmap": "magma", "scale": "map"}
    )
    back, warning = decode_state(encode_state(state))
    assert warning is None
    assert back == state


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_every_page_and_sample_survives_a_round_trip(page, sample):
    state = LinkState(page=page, sample=sample)
    assert decode_state(encode_state(state)) == (state, None)


@pytest.mark.parametrize("cmap", cnn_core.render.COLORMAPS)
@pytest.mark.parametrize("scale", ["layer", "global", "map"])
def test_every_view_survives_a_round_trip(cmap, scale):
    state = LinkState(view={"cmap": cmap, "scale": scale})
    assert decode_state(encode_state(state)) == (state, None)


def test_an_upload_link_names_its_stand_in_sample():
    state = LinkState(sample="coffee", from_upload=True)
    params = encode_state(state)
    assert params["s"] == "coffee" and params["u"] == "1" and "img" not in params
    assert decode_state(params) == (state, None)


def test_an_embedded_image_survives_a_round_trip_and_fits():
    photo = cnn_core.load_image(ROOT / "assets" / "astronaut.png")
    data = embed_image(photo)
    assert data is not None
    state = LinkState(sample=None, image=data, from_upload=True, spec=ROUND_TRIP_SPECS["init filters"])
    params = encode_state(state)
    assert len(params["img"]) <= MAX_IMAGE_CHARS
    assert decode_state(params) == (state, None)
    small = cnn_core.decode_image(data)
    assert small.shape[0] * small.shape[1] <= MAX_IMAGE_PIXELS
    assert max(small.shape[:2]) == 128 and small.ndim == 3  # downscaled, aspect kept, still in colour


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_can_be_embedded(sample):
    path = next(p for p in (ROOT / "assets").iterdir() if p.stem == sample)
    data = embed_image(cnn_core.load_image(path))
    assert data is not None and len(b64(data)) <= MAX_IMAGE_CHARS
    img = Image.open(io.BytesIO(data))
    assert img.format in ("PNG", "JPEG") and max(img.size) <= 128


def test_embed_image_gives_none_when_nothing_fits():
    noise = np.random.default_rng(0).integers(0, 256, size=(300, 300, 3), dtype=np.uint8)
    assert embed_image(noise, max_chars=100) is None
    assert embed_image(np.zeros((4, 4), dtype=np.float32)) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_specs_survive_a_round_trip(data):
    weight = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)
    k = data.draw(st.integers(1, 5))
    filt = st.one_of(
        st.sampled_from([p for p, v in cnn_core.PRESETS.items() if len(v.weights) == k] or ["identity"]),
        st.lists(st.lists(weight, min_size=k, max_size=k), min_size=k, max_size=k),
        st.builds(
            lambda i, s: {"init": i, "seed": s, "size": [k, k]},
            st.sampled_from(["he_normal", "glorot_uniform"]),
            st.integers(0, 2**31 - 1),
        ),
    )
    filters = data.draw(st.lists(filt, min_size=1, max_size=4))
    if any(isinstance(f, str) for f in filters):  # presets decide the size: keep them all one size
        filters = [f for f in filters if isinstance(f, str)]
        k = len(cnn_core.PRESETS[filters[0]].weights)
    layer = conv(
        filters,
        stride=data.draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2, max_size=2))),
        dilation=data.draw(st.one_of(st.integers(1, 2), st.lists(st.integers(1, 2), min_size=2, max_size=2))),
        padding=data.draw(st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 3))),
        bias=data.draw(st.one_of(weight, st.lists(weight, min_size=len(filters), max_size=len(filters)))),
    )
    act = data.draw(st.sampled_from(["relu", "tanh", "sigmoid", "elu", "gelu", "linear", "leaky_relu"]))
    act_layer = {"type": "activation", "function": act}
    if act == "leaky_relu":
        act_layer["alpha"] = data.draw(st.floats(0, 1))
    layers = [
        layer,
        act_layer,
        pool(mode=data.draw(st.sampled_from(["max", "avg"])), size=data.draw(st.integers(1, 3))),
    ]
    s = spec(layers, color=data.draw(st.sampled_from(["grayscale", "rgb"])), size=(data.draw(st.integers(24, 64)), 40))
    state = LinkState(page=data.draw(st.sampled_from(PAGES)), sample=data.draw(st.sampled_from(SAMPLES)), spec=s)
    assert decode_state(encode_state(state)) == (state, None)


def test_a_decoded_link_gives_exactly_the_same_maps():
    s = spec(
        [
            conv(
                ["sobel_x", [[0.25, -0.5, 0], [1.5, 0.05, 2], [0, 0, -1]]], padding=[[0, 1], [1, 0]], bias=[0.1, -0.2]
            ),
            pool(),
        ],
        "rgb",
        (40, 36),
    )
    back, warning = decode_state(encode_state(LinkState(sample="coffee", spec=s)))
    assert warning is None
    image = cnn_core.load_image(ROOT / "assets" / f"{back.sample}.png")
    for a, b in zip(run_pipeline(image, s), run_pipeline(image, back.spec)):
        assert np.array_equal(a.maps, b.maps)


def test_an_empty_query_is_a_plain_visit_without_warning():
    assert decode_state({}) == (LinkState(), None)


def test_missing_parts_take_their_defaults():
    state, warning = decode_state({"p": "stack"})
    assert warning is None
    assert state == LinkState(page="stack")


def test_share_url_replaces_the_query_and_reads_back():
    state = LinkState(
        page="stack", sample="text", spec=ROUND_TRIP_SPECS["bias list"], view={"cmap": "gray", "scale": "global"}
    )
    url = share_url("https://cnn.example.app/stack?old=1#frag", state)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "cnn.example.app", "/stack", "")
    params = parse_qs(parts.query)
    assert "old" not in params
    assert decode_state(params) == (state, None)


def test_samples_are_the_image_files_in_assets():
    stems = {p.stem for p in (ROOT / "assets").iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")}
    assert set(SAMPLES) == stems and "camera" in SAMPLES


# --------------------------------------------------------------------------- sizes


def test_typical_links_are_well_under_two_kilobytes():
    rng = np.random.default_rng(0)
    presets = spec(
        [
            conv(["sobel_x", "sobel_y", "laplacian", "edge"]),
            {"type": "activation", "function": "leaky_relu", "alpha": 0.1},
            pool(mode="max"),
        ],
        color="rgb",
    )
    sizes = {
        "default": len(share_url("", LinkState())),
        "3-layer presets": len(share_url("", LinkState(spec=presets))),
        "3 conv blocks, 8 hand-edited 3x3 filters each": len(share_url("", LinkState(spec=three_conv_stack(rng)))),
    }
    print(sizes)
    assert sizes["default"] < 400
    assert sizes["3-layer presets"] < 500
    assert sizes["3 conv blocks, 8 hand-edited 3x3 filters each"] < 2048


def test_a_stack_too_big_for_a_link_is_reported_before_sharing():
    rng = np.random.default_rng(1)
    big = spec([conv(rng.normal(size=(64, 15, 15)).tolist())], size=(64, 64))
    params = encode_state(LinkState(spec=big))
    assert len(params["c"]) > MAX_SPEC_CHARS
    problem = link_problem(params)
    assert problem and "does not fit in a link" in problem and "layer settings" in problem
    assert link_problem(encode_state(LinkState())) is None
    state, warning = decode_state(params)
    assert state == LinkState() and "characters long" in warning


# --------------------------------------------------------------------------- hostile links


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header (a decompression bomb's first bytes) and has no pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def png_of(shape) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros(shape, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


GOOD_SPEC = encode_state(LinkState())["c"]


def v1(*layers: str, inp: str = '{"color":"grayscale","size":[8,8]}') -> str:
    """Spec JSON text around the given layers' JSON text."""
    return '{"version":1,"input":' + inp + ',"layers":[' + ",".join(layers) + "]}"


def conv_text(filters: str, extra: str = "") -> str:
    return '{"type":"conv2d","filters":[' + filters + "]" + extra + "}"


SCRIPT = "<script>alert(1)</script>"

HOSTILE: dict[str, object] = {
    "empty spec": {"c": ""},
    "empty page": {"p": ""},
    "empty sample": {"s": ""},
    "empty view": {"v": ""},
    "garbage base64": {"c": "!!not*base64$$"},
    "base64 of impossible length": {"c": "abcde"},
    "valid base64 of garbage": {"c": b64(b"hello, this is not zlib data at all")},
    "truncated link": {"c": GOOD_SPEC[:-12]},
    "data after the zlib stream": {"c": b64(zlib.compress(b'{"version":1}') + b"trailing junk")},
    "zlib bomb of zeros": {"c": packed(b"\0" * 4_000_000)},
    "zlib bomb of JSON whitespace": {"c": packed('{"version":1,"layers":[' + " " * 4_000_000 + "]}")},
    "not UTF-8": {"c": packed(b"\xff\xfe\xfd")},
    "not JSON": {"c": packed("version=1; layers=[]")},
    "JSON but not an object": {"c": packed("[1, 2, 3]")},
    "spec version 2": {"c": packed('{"version":2,"layers":[]}')},
    "spec version 0": {"c": packed('{"version":0,"layers":[]}')},
    "spec without a version": {"c": packed('{"layers":[]}')},
    "unknown spec field": {"c": packed('{"version":1,"layers":[],"exec":"rm -rf /"}')},
    "NaN in weights": {"c": packed(v1(conv_text("[[NaN]]")))},
    "Infinity in bias": {"c": packed(v1(conv_text('"edge"', ',"bias":-Infinity')))},
    "1e400 in weights": {"c": packed(v1(conv_text("[[1e400]]")))},
    "integer with 5000 digits": {"c": packed(v1(conv_text("[[" + "9" * 5000 + "]]")))},
    "lists nested 10000 deep": {"c": packed("[" * 10_000 + "]" * 10_000)},
    "filters nested 10000 deep": {"c": packed(v1(conv_text("[" * 10_000 + "]" * 10_000)))},
    "filters nested 500 deep": {"c": packed(v1(conv_text("[" * 500 + "1" + "]" * 500)))},
    "10 MB param": {"c": "A" * 10_000_000},
    "a million-item list": {"p": ["playground"] * 1_000_000},
    "script as page": {"p": SCRIPT},
    "script as sample": {"s": SCRIPT},
    "script as spec": {"c": SCRIPT},
    "script inside the spec": {"c": packed(v1(conv_text(json.dumps(SCRIPT))))},
    "markdown link inside the spec": {"c": packed(v1(conv_text('"[win](https://evil.example)"')))},
    "path traversal sample": {"s": "../../etc/passwd"},
    "absolute path sample": {"s": "/etc/passwd"},
    "null byte in sample": {"s": "camera\x00.png"},
    "unicode junk page": {"p": "pl\u0430yground\u202e\U0001f4a3"},
    "size 100000x100000": {"c": packed('{"version":1,"input":{"size":[100000,100000]},"layers":[]}')},
    "negative size": {"c": packed('{"version":1,"input":{"size":[-1,300]},"layers":[]}')},
    "1000 layers": {"c": packed(v1(*['{"type":"activation"}'] * 1000))},
    "negative stride": {"c": packed(v1(conv_text('"edge"', ',"stride":-1')))},
    "huge stride": {"c": packed(v1(conv_text('"edge"', ',"stride":1000000000')))},
    "stride as text": {"c": packed(v1(conv_text('"edge"', ',"stride":"2"')))},
    "stack too costly to run": {
        "c": packed(
            '{"version":1,"input":{"color":"rgb","size":[1024,1024]},"layers":['
            + ",".join(['{"type":"conv2d","filters":[' + ",".join(['{"init":"he_normal","size":15}'] * 32) + "]}"] * 8)
            + "]}"
        )
    },
    "stack too big for memory": {
        "c": packed(v1(*['{"type":"activation"}'] * 32, inp='{"color":"rgb","size":[4096,4096]}'))
    },
    "3-D kernel of the wrong depth": {"c": packed(v1(conv_text("[[[1,2,3]]]")))},
    "window larger than the map": {"c": packed(v1('{"type":"pool2d","size":20,"stride":1}'))},
    "page given twice": {"p": ["playground", "stack"]},
    # Any count warns; past 1,000 parts Streamlit drops the query before the page sees it (serve.py refuses it).
    "sample given 1,000 times": {"s": ["camera"] * 1000},
    "spec given twice": {"c": [GOOD_SPEC, GOOD_SPEC]},
    "part given zero times": {"p": []},
    "unknown param": {"p": "playground", "debug": "1"},
    "too many params": {f"x{i}": "1" for i in range(50)},
    "value not text": {"p": 5},
    "key not text": {5: "playground"},
    "query not a mapping": ["p", "stack"],
    "query is None": None,
    "view with an unknown colour map": {"v": "rainbow.layer"},
    "view with too many parts": {"v": "auto.layer.extra"},
    "upload flag not 1": {"u": "yes"},
    "embedded image of garbage": {"img": b64(b"GIF89a not really an image")},
    "embedded image that is not base64": {"img": "%%%"},
    "embedded PNG bomb header": {"img": b64(png_header_only(100_000, 100_000))},
    "embedded PNG over the pixel cap": {"img": b64(png_of((200, 200)))},
    "embedded PNG truncated": {"img": b64(png_of((64, 64))[:40])},
    "embedded image too long": {"img": "A" * (MAX_IMAGE_CHARS + 1)},
}


def test_the_hostile_corpus_is_large():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_link_gives_the_defaults_and_one_warning(name):
    gc.disable()  # time the decoding, not a collection of what earlier tests left behind
    try:
        t0 = time.perf_counter()
        state, warning = decode_state(HOSTILE[name])  # type: ignore[arg-type]
        elapsed = time.perf_counter() - t0
    finally:
        gc.enable()
    assert state == LinkState()
    assert isinstance(warning, str) and warning.count("This link could not be used") == 1
    assert warning.endswith("Showing the default settings instead.")
    assert "\n" not in warning and len(warning) < 600
    for bad in ("<", ">", "](", "://", "\x00", "\u202e"):
        assert bad not in warning
    # A wide margin (milliseconds when idle): only a decoder that does the hostile work (seconds) fails it.
    assert elapsed < 2.0, f"{name} took {elapsed:.2f} s"


@pytest.mark.parametrize(
    "name, words",
    [
        ("spec version 2", "version: 2 is not supported"),
        ("zlib bomb of zeros", "more than 64 KB"),
        ("truncated link", "cut off"),
        ("10 MB param", "10,000,000 characters"),
        ("page given twice", "given 2 times"),
        ("sample given 1,000 times", "its part s is given 1000 times; give it once"),
        ("NaN in weights", "NaN"),
        ("negative stride", "layers[0].stride"),
        ("path traversal sample", "samples are"),
        ("size 100000x100000", "input.size"),
        ("stack too costly to run", "the limit is 4 s"),
        ("embedded PNG bomb header", "at most 128×128 pixels"),
        ("garbage base64", "part c is not valid base64url"),
        ("unknown param", "the parts are"),
    ],
)
def test_the_warning_says_what_was_wrong(name, words):
    _, warning = decode_state(HOSTILE[name])  # type: ignore[arg-type]
    assert words in warning


def test_the_warning_never_repeats_the_links_own_markup():
    _, warning = decode_state(HOSTILE["script inside the spec"])  # type: ignore[arg-type]
    assert "script" in warning and "not a preset" in warning  # still says which field was wrong...
    assert "alert(1)" in warning and "<" not in warning  # ...with the markup defused
    _, warning = decode_state(HOSTILE["markdown link inside the spec"])  # type: ignore[arg-type]
    assert "evil" in warning and "](" not in warning and "://" not in warning


def test_a_good_link_with_a_stray_whitespace_part_is_refused_not_half_applied():
    params = {**encode_state(LinkState(page="stack", sample="brick")), "v": "magma.layer "}
    assert decode_state(params)[0] == LinkState()


def test_decoding_a_link_never_evaluates_or_imports_anything():
    probe = {"c": packed('{"version":1,"layers":[],"__class__":"os.system"}'), "p": "__import__('os')"}
    before = set(sys.modules)
    state, warning = decode_state(probe)
    assert state == LinkState() and warning
    assert set(sys.modules) == before


def test_share_and_export_never_import_streamlit():
    code = "import sys, cnn_core.share, cnn_core.export; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_the_encoded_spec_is_the_specs_own_json():
    params = encode_state(LinkState())
    text = zlib.decompress(base64.urlsafe_b64decode(params["c"] + "=" * (-len(params["c"]) % 4)))
    assert json.loads(text) == cnn_core.default_spec().to_dict()
