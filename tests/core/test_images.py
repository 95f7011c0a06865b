"""decode_image against the generated corpus: good, odd and hostile files (tests/data/make_corpus.py)."""

from __future__ import annotations

import io
import resource
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cnn_core
from cnn_core import MAX_PIXELS, ImageError, decode_image, load_image
from tests.data.make_corpus import (
    Case,
    build_corpus,
    corpus_cases,
    over_cap_picture,
    png_chunk,
    png_header,
    write_png_rows,
)

CASES = corpus_cases()
OK = [c.name for c in CASES if c.ok]
ERRORS = [c.name for c in CASES if not c.ok]
RGB_SPEC = {
    "version": 1,
    "input": {"color": "rgb", "size": None},
    "layers": [
        {"type": "conv2d", "filters": ["edge", "sharpen"], "stride": 1, "padding": "same"},
        {"type": "activation", "function": "relu"},
        {"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"},
    ],
}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, Case]]:
    """The corpus written once per session: (folder, {file name: Case})."""
    dest = tmp_path_factory.mktemp("corpus")
    return dest, {c.name: c for c in build_corpus(dest)}


def _read(corpus, name: str) -> tuple[bytes, Case]:
    dest, cases = corpus
    return (dest / name).read_bytes(), cases[name]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# --------------------------------------------------------------------------- the corpus itself


def test_corpus_has_every_kind_of_file(corpus):
    dest, cases = corpus
    assert sorted(p.name for p in dest.iterdir()) == sorted(cases)
    assert len(OK) >= 25 and len(ERRORS) >= 10
    for name in ("empty.png", "truncated.png", "truncated.jpg", "garbage.jpg", "text.png", "bad_crc.png", "bomb.png"):
        assert not cases[name].ok, name
    for n in range(1, 9):
        assert cases[f"orientation_{n}.jpg"].ok
    # The huge ones are small on disk: only their headers are huge.
    assert (dest / "empty.png").stat().st_size == 0
    assert (dest / "bomb.png").stat().st_size < 2_000
    assert (dest / "huge_20000.png").stat().st_size < 1_000_000
    ihdr = (dest / "huge_20000.png").read_bytes()[16:24]
    assert struct.unpack(">II", ihdr) == (20000, 20000)


# --------------------------------------------------------------------------- files that must decode


@pytest.mark.parametrize("name", OK)
def test_good_file_decodes_to_the_right_pixels(corpus, name):
    data, case = _read(corpus, name)
    image = decode_image(data)
    assert image.dtype == np.uint8
    assert image.shape == case.shape, case.what
    case.check(image)


@pytest.mark.parametrize("n", range(1, 9))
def test_exif_orientation_puts_the_picture_upright(corpus, n):
    data, _ = _read(corpus, f"orientation_{n}.jpg")
    image = decode_image(data).astype(int)
    h, w = image.shape[:2]
    assert (h, w) == (32, 48), "width and height must be swapped back for orientations 5 to 8"
    corners = {
        "top-left": image[: h // 4, : w // 4].mean(),
        "top-right": image[: h // 4, -w // 8 :].mean(),
        "bottom-left": image[-h // 4 :, : w // 4].mean(),
        "bottom-right": image[-h // 4 :, -w // 4 :].mean(),
    }
    assert corners["top-left"] > 220, corners  # the white block stays top-left
    assert 100 < corners["top-right"] < 160, corners  # the grey block stays top-right
    assert corners["bottom-left"] < 40 and corners["bottom-right"] < 40, corners


def test_transparency_is_laid_over_white_not_black(corpus):
    # (row, column) of a fully transparent pixel and of an opaque coloured one in each file
    points = {
        "palette_trns.png": ((5, 18), (5, 2)),
        "rgba.png": ((0, 15), (0, 0)),
        "la.png": ((3, 15), (3, 3)),
        "gray_trns.png": ((3, 15), (3, 3)),
        "rgb_trns.png": ((3, 15), (3, 3)),
    }
    for name, (clear, opaque) in points.items():
        image = decode_image(_read(corpus, name)[0])
        assert np.all(image[clear] == 255), f"{name}: transparent pixel is {image[clear]}, not white"
        assert not np.all(image[opaque] == 255), f"{name}: opaque pixel turned white"


def test_sixteen_bit_values_are_scaled_not_clipped(corpus):
    image = decode_image(_read(corpus, "gray16.png")[0])
    assert image[0, 0] == 255  # 65535
    assert image[0, 1] == 0
    assert image[0, 2] == 128  # 32768 / 257 = 127.5
    assert len(np.unique(image)) == 256  # a clip at 255 would leave almost everything white


def test_cmyk_becomes_plausible_rgb(corpus):
    image = decode_image(_read(corpus, "cmyk.jpg")[0]).astype(int)
    cyan, paper, ink = image[8, 8], image[8, 24], image[8, 40]
    assert cyan[0] < 20 and cyan[1] > 235 and cyan[2] > 235, cyan
    assert (paper > 240).all(), paper
    assert (ink < 20).all(), ink


def test_first_frame_of_animations_and_pages(corpus):
    for name in ("animated.gif", "animated.webp", "multipage.tiff"):
        image = decode_image(_read(corpus, name)[0])
        assert tuple(image[-1, -1]) == (255, 0, 0), f"{name}: frame 0 is red, frame 1 blue"


# --------------------------------------------------------------------------- files that must be refused


@pytest.mark.parametrize("name", ERRORS)
def test_bad_file_is_refused_with_a_clear_message(corpus, name):
    data, case = _read(corpus, name)
    with pytest.raises(ImageError) as info:  # any other exception type fails this test
        decode_image(data)
    message = str(info.value)
    assert message.startswith("image: ")
    for word in case.keywords:
        assert word.lower() in message.lower(), f"{case.what}: {message!r} should mention {word!r}"
    assert "\n" not in message and len(message) < 400
    assert "Traceback" not in message and "<_io." not in message


@pytest.mark.parametrize("name", ["text.png", "truncated.jpg", "empty.png"])
def test_load_image_names_the_file(corpus, name):
    path = corpus[0] / name
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        load_image(tmp_path / "nope.png")


def test_over_the_cap_is_refused_unless_downscaling(corpus):
    data, _ = _read(corpus, "over_cap_5000x4000.jpg")
    with pytest.raises(ImageError) as info:
        decode_image(data)
    assert "4000×5000 (height×width) = 20,000,000 pixels" in str(info.value)
    assert f"limit of {MAX_PIXELS:,}" in str(info.value)

    image = decode_image(data, downscale=True)
    h, w = image.shape[:2]
    assert image.shape[2] == 3 and image.dtype == np.uint8
    # Decoded at half its height and width (libjpeg's own scaling: fast), the largest such scale that fits.
    assert (h, w) == (2000, 2500) and h * w <= MAX_PIXELS
    s = w / 5000
    assert image[: int(700 * s), : int(900 * s)].min() > 230  # the white block, scaled with the rest
    reference = over_cap_picture()[-1, -1]  # the gradient's far corner
    assert np.abs(image[-1, -1].astype(int) - reference).max() < 12


def test_cap_boundary_and_custom_cap():
    picture = np.zeros((20, 30, 3), dtype=np.uint8)
    picture[:, :15] = 200
    png = _png(picture)
    assert decode_image(png, max_pixels=600).shape == (20, 30, 3)
    with pytest.raises(ImageError, match=r"20×30 \(height×width\) = 600 pixels, over the limit of 599\b"):
        decode_image(png, max_pixels=599)
    small = decode_image(png, max_pixels=150, downscale=True)
    assert small.shape[0] * small.shape[1] <= 150 and small.shape[1] > small.shape[0]
    assert small[:, 0].min() > 150 and small[:, -1].max() < 50


def test_default_cap_boundary(tmp_path):
    row = b"\x00" * 512
    write_png_rows(tmp_path / "at.png", 4096, 4096, 1, 0, lambda y: row)
    assert decode_image((tmp_path / "at.png").read_bytes()).shape == (4096, 4096)
    write_png_rows(tmp_path / "over.png", 4096, 4097, 1, 0, lambda y: row)
    with pytest.raises(ImageError, match="16,781,312 pixels, over the limit of 16,777,216"):
        decode_image((tmp_path / "over.png").read_bytes())


@pytest.mark.parametrize("name", ["huge_20000.png", "bomb.png"])
@pytest.mark.parametrize("downscale", [False, True])
def test_huge_images_are_refused_from_the_header(corpus, name, downscale):
    data, _ = _read(corpus, name)
    before = _peak_rss_mb()
    t0 = time.perf_counter()
    with pytest.raises(ImageError, match="decompression bomb") as info:
        decode_image(data, downscale=downscale)
    assert time.perf_counter() - t0 < 10.0  # a wide margin: the memory check below is the sharp one
    assert _peak_rss_mb() - before < 200, "decoding even part of it would take gigabytes"
    assert "pixels" in str(info.value) and f"{MAX_PIXELS:,}" in str(info.value)
    # ui/common/inputs.py offers a "Downscale it" button when the message says so; here it would not help.
    assert "downscale" not in str(info.value).lower()


def test_pillow_bomb_guard_stays_on_even_with_a_raised_cap():
    assert Image.MAX_IMAGE_PIXELS == 89_478_485, "nothing may raise or remove Pillow's guard"
    # 10000×10000 lies between Pillow's warning and its hard limit: refuse it even when the caller allows more.
    header = png_header(10000, 10000, 8, 0) + png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b"")
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ImageError, match="decompression bomb"):
        decode_image(header, max_pixels=10**9, downscale=True)


# --------------------------------------------------------------------------- nothing downstream breaks


@pytest.mark.parametrize("spec_name", ["default", "rgb"])
@pytest.mark.parametrize("name", OK)
def test_every_good_file_runs_through_the_pipeline(corpus, name, spec_name):
    image = decode_image(_read(corpus, name)[0])
    spec = cnn_core.default_spec() if spec_name == "default" else cnn_core.parse_spec(RGB_SPEC)
    stages = cnn_core.run_pipeline(image, spec)
    assert [s.name for s in stages] == ["input", "conv2d", "activation", "pool2d"]
    plans = cnn_core.plan(spec, image.shape)
    for stage, planned in zip(stages, plans):
        assert stage.maps.dtype == np.float32 and stage.maps.shape == planned.shape
        assert np.isfinite(stage.maps).all()
    h, w = image.shape[:2]
    if spec_name == "default":
        assert stages[0].maps.shape == (300, 300, 1)
    else:
        rgb = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
        np.testing.assert_allclose(stages[0].maps, rgb / np.float32(255), atol=1e-6)
        assert stages[-1].maps.shape == (-(-h // 2), -(-w // 2), 2)
    assert stages[2].maps.min() >= 0  # after relu


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_a_png_over_the_cap_is_box_averaged_to_fit_and_its_header_names_its_size():
    from cnn_core.images import image_size

    picture = np.zeros((30, 41, 3), dtype=np.uint8)
    picture[:, :20] = 240
    png = _png(picture)
    assert image_size(png) == (30, 41)
    small = decode_image(png, max_pixels=300, downscale=True)
    # 30×41 = 1230 pixels over a cap of 300: whole 3×3 blocks averaged (ceil(30/3) × ceil(41/3) = 10×14).
    assert small.shape == (10, 14, 3)
    expected = picture[:27, :39].reshape(9, 3, 13, 3, 3).astype(float).mean(axis=(1, 3))
    np.testing.assert_allclose(small[:9, :13], np.rint(expected), atol=1)
    assert image_size(b"not an image") is None
