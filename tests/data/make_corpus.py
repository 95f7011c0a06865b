"""Make the image corpus the decoder is tested against: good, odd and hostile files.

Everything is made here with Pillow, NumPy, zlib and struct; nothing is downloaded.
The huge PNGs are written chunk by chunk, so making them needs only megabytes.

    python tests/data/make_corpus.py          # writes tests/data/corpus/

``build_corpus(dest)`` writes the files and returns one ``Case`` per file: what
``cnn_core.decode_image`` must make of it.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, features

MAX_PIXELS = 4096 * 4096  # cnn_core.images.MAX_PIXELS; repeated so this script runs without TensorFlow
ORIENTATION = 0x0112  # the EXIF tag

Check = Callable[[np.ndarray], None]


@dataclass(frozen=True)
class Case:
    """One corpus file and what decoding it must give.

    Attributes:
        name: the file name in the corpus folder.
        expect: "ok" or "error".
        shape: for "ok", the decoded shape, (height, width) or (height, width, 3).
        check: for "ok", a function that raises AssertionError if the pixels are wrong.
        keywords: for "error", words the message must contain (case-insensitive).
        what: one line saying what the file is.
    """

    name: str
    expect: str
    what: str
    shape: tuple[int, ...] | None = None
    check: Check | None = field(default=None, compare=False)
    keywords: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.expect == "ok"


# --------------------------------------------------------------------------- PNG chunks by hand


def png_chunk(tag: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC over type and data."""
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def png_header(width: int, height: int, bit_depth: int, color_type: int) -> bytes:
    """The signature and IHDR chunk (color_type 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def write_png_rows(path: Path, width: int, height: int, bit_depth: int, color_type: int, row: Callable[[int], bytes]):
    """Stream a PNG to ``path``: ``row(y)`` gives row y's packed bytes (without the filter byte)."""
    co = zlib.compressobj(6)
    with open(path, "wb") as f:
        f.write(png_header(width, height, bit_depth, color_type))
        batch: list[bytes] = []
        for y in range(height):
            batch.append(b"\x00" + row(y))
            if len(batch) == 256 or y == height - 1:
                data = co.compress(b"".join(batch))
                batch.clear()
                if data:
                    f.write(png_chunk(b"IDAT", data))
        f.write(png_chunk(b"IDAT", co.flush()))
        f.write(png_chunk(b"IEND", b""))


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------- checks


def _close(expected: np.ndarray, tol: float) -> Check:
    """Pixels within ``tol`` of ``expected`` on average (lossy formats) and nowhere more than 8×tol off."""

    def check(a: np.ndarray) -> None:
        assert a.shape == expected.shape, f"shape {a.shape}, want {expected.shape}"
        diff = np.abs(a.astype(np.int16) - expected.astype(np.int16))
        assert diff.mean() <= tol, f"mean difference {diff.mean():.2f} > {tol}"
        assert diff.max() <= 8 * tol, f"largest difference {diff.max()} > {8 * tol}"

    return check


def _equal(expected: np.ndarray) -> Check:
    """Exactly ``expected`` (lossless formats)."""
    return _close(expected, 0)


def _colour_at(points: dict[tuple[int, int], tuple[int, ...]], tol: int = 0) -> Check:
    """Exact (or nearly, for lossy formats) colours at given (row, column) points."""

    def check(a: np.ndarray) -> None:
        for (y, x), want in points.items():
            got = np.atleast_1d(a[y, x]).astype(int)
            assert np.all(np.abs(got - np.array(want)) <= tol), f"pixel ({y}, {x}) is {tuple(got)}, want {want}"

    return check


# --------------------------------------------------------------------------- the test pictures


def upright_pattern(h: int = 32, w: int = 48) -> np.ndarray:
    """An asymmetric RGB picture: a white block top-left, a mid-grey block top-right, dark elsewhere.

    Its corners tell every one of the 8 EXIF orientations apart, and it is not square,
    so a missing or wrong rotation shows in the shape too.
    """
    a = np.full((h, w, 3), 20, dtype=np.uint8)
    a[: h // 3, : w // 3] = 240
    a[: h // 3, -w // 4 :] = 128
    return a


def stored_for_orientation(upright: np.ndarray, n: int) -> np.ndarray:
    """What a camera stores so that EXIF orientation ``n`` shows ``upright``.

    From the EXIF definition of where the stored row 0 and column 0 sit on screen:
    2 mirrored, 3 turned 180°, 4 flipped, 5 transposed, 6 needs 90° clockwise to show,
    7 transversed, 8 needs 90° anticlockwise to show.
    """
    h, w = upright.shape[:2]
    i, j = np.meshgrid(np.arange(w if n >= 5 else h), np.arange(h if n >= 5 else w), indexing="ij")
    src = {
        1: (i, j),
        2: (i, w - 1 - j),
        3: (h - 1 - i, w - 1 - j),
        4: (h - 1 - i, j),
        5: (j, i),
        6: (j, w - 1 - i),
        7: (h - 1 - j, w - 1 - i),
        8: (h - 1 - j, i),
    }[n]
    return np.ascontiguousarray(upright[src])


def over_cap_picture() -> np.ndarray:
    """5000×4000 RGB, 20 Mpx: a gradient with a white block in the top-left fifth."""
    big = np.zeros((4000, 5000, 3), dtype=np.uint8)
    big[:, :, 0] = np.linspace(0, 255, 5000, dtype=np.uint8)[None, :]
    big[:, :, 1] = np.linspace(0, 255, 4000, dtype=np.uint8)[:, None]
    big[:800, :1000] = 255
    return big


def _gradient(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack(
        [x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 255 // max(h + w - 2, 1)], -1
    ).astype(np.uint8)


# --------------------------------------------------------------------------- the corpus


def build_corpus(dest: Path) -> list[Case]:
    """Write every corpus file into ``dest`` and return what each must decode to.

    Raises:
        RuntimeError: if this Pillow cannot write a format the corpus needs (WebP, JPEG).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    planned = _plan()
    for case, write in planned:
        write(dest / case.name)
    return [case for case, _ in planned]


def corpus_cases() -> list[Case]:
    """The cases without writing any file (cheap: the big files are made only when written)."""
    return [case for case, _ in _plan()]


Writer = Callable[[Path], None]


def _plan() -> list[tuple[Case, Writer]]:
    for feature in ("webp", "jpg", "zlib"):
        if not features.check(feature):
            raise RuntimeError(f"this Pillow has no {feature} support; install a Pillow wheel that has it")
    rng = np.random.default_rng(20240611)
    planned: list[tuple[Case, Writer]] = []

    def add(data: bytes | Writer, case: Case) -> None:
        write = data if callable(data) else (lambda path, data=data: path.write_bytes(data))
        planned.append((case, write))

    def ok(name, data, what, shape, check=None):
        add(data, Case(name, "ok", what, tuple(shape), check))

    def error(name, data, what, *keywords):
        add(data, Case(name, "error", what, keywords=keywords))

    # ---- broken and hostile files
    good_png = _encode(Image.fromarray(_gradient(64, 64)), "PNG")
    good_jpg = _encode(Image.fromarray(_gradient(64, 64)), "JPEG", quality=90)
    error("empty.png", b"", "zero bytes", "empty")
    error("truncated.png", good_png[: len(good_png) // 2], "a PNG cut in half", "truncated")
    error("truncated.jpg", good_jpg[: len(good_jpg) // 2], "a JPEG cut in half", "truncated")
    error("garbage.jpg", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "random bytes", "not an image")
    error("text.png", b"This is a text file, not a picture.\n" * 20, "text named .png", "not an image")
    bad_crc = bytearray(good_png)
    bad_crc[29] ^= 0xFF  # the last byte of IHDR's CRC (8 signature + 4 length + 4 type + 13 data)
    error("bad_crc.png", bytes(bad_crc), "a PNG whose header CRC is wrong", "corrupt")
    bad_zlib = png_header(64, 64, 8, 0) + png_chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 60) + png_chunk(b"IEND", b"")
    error("bad_idat.png", bad_zlib, "a PNG whose pixel data is not valid deflate", "corrupt")
    error(
        "zero_width.png",
        png_header(0, 10, 8, 0) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + png_chunk(b"IEND", b""),
        "a PNG header claiming 0 pixels wide",
        "corrupt",
    )
    error(
        "icon.ico",
        _encode(Image.fromarray(_gradient(32, 32)), "ICO"),
        "an ICO, a format the app does not take",
        "not an image",
    )
    # A bomb: the header claims 30000×30000 RGB (2.7 GB decoded) but the file is tiny.
    bomb = png_header(30000, 30000, 8, 2) + png_chunk(b"IDAT", zlib.compress(b"\x00" * (30000 * 3 + 1) * 4, 9))
    error(
        "bomb.png",
        bomb + png_chunk(b"IEND", b""),
        "a 30000×30000 PNG header over a few rows of zeros",
        "decompression bomb",
    )
    # A real, complete 20000×20000 1-bit picture (left half white, then right half): ~100 KB.
    half = b"\xff" * 1250 + b"\x00" * 1250
    rows = (half, half[::-1])
    error(
        "huge_20000.png",
        lambda path: write_png_rows(path, 20000, 20000, 1, 0, lambda y: rows[y >= 10000]),
        "a complete 20000×20000 1-bit PNG",
        "pixels",
        f"{MAX_PIXELS:,}",
    )
    # Over the cap but decodable: refused unless downscaling is asked for.
    error(
        "over_cap_5000x4000.jpg",
        lambda path: path.write_bytes(_encode(Image.fromarray(over_cap_picture()), "JPEG", quality=80)),
        "a 20 Mpx JPEG",
        "pixels",
        f"{MAX_PIXELS:,}",
        "downscale",
    )

    # ---- sizes
    ok(
        "one_pixel.png",
        _encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"),
        "1×1 RGB",
        (1, 1, 3),
        _colour_at({(0, 0): (10, 200, 30)}),
    )
    strip = (np.arange(10000) % 256).astype(np.uint8)[None, :]
    ok("strip_1x10000.png", _encode(Image.fromarray(strip), "PNG"), "1×10000 grey", (1, 10000), _equal(strip))
    tall = np.ascontiguousarray(strip.T[:3000])
    ok("strip_3000x1.png", _encode(Image.fromarray(tall), "PNG"), "3000×1 grey", (3000, 1), _equal(tall))

    # ---- modes and bit depths
    g16 = (np.arange(256 * 4, dtype=np.uint32).reshape(32, 32) % 256 * 257).astype(np.uint16)
    g16[0, 0], g16[0, 1], g16[0, 2] = 65535, 0, 32768
    want16 = np.rint(g16 / 257.0).astype(np.uint8)
    assert want16[0, 0] == 255 and want16[0, 1] == 0
    ok("gray16.png", _encode(Image.fromarray(g16), "PNG"), "16-bit grey (I;16)", (32, 32), _equal(want16))
    ok("gray16.tiff", _encode(Image.fromarray(g16), "TIFF"), "16-bit grey TIFF", (32, 32), _equal(want16))
    rgb16 = np.stack([g16, g16[::-1], g16[:, ::-1]], -1)
    rows16 = b"".join(b"\x00" + r.astype(">u2").tobytes() for r in rgb16)
    png48 = png_header(32, 32, 16, 2) + png_chunk(b"IDAT", zlib.compress(rows16)) + png_chunk(b"IEND", b"")
    ok(
        "rgb16.png",
        png48,
        "48-bit RGB PNG (Pillow cannot write one)",
        (32, 32, 3),
        _equal(np.rint(rgb16 / 257.0).astype(np.uint8)),
    )

    one_bit = np.zeros((8, 16), dtype=bool)
    one_bit[:, :5] = True
    ok(
        "bilevel.png",
        _encode(Image.fromarray(one_bit), "PNG"),
        "1-bit",
        (8, 16),
        _equal(one_bit.astype(np.uint8) * 255),
    )

    pal = Image.new("P", (20, 10), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    pal.paste(1, (0, 0, 10, 10))
    pal.paste(2, (10, 0, 15, 10))  # columns 15.. stay index 0, which is transparent
    ok(
        "palette_trns.png",
        _encode(pal, "PNG", transparency=0),
        "palette with a transparent index",
        (10, 20, 3),
        _colour_at({(5, 2): (255, 0, 0), (5, 12): (0, 0, 255), (5, 18): (255, 255, 255)}),
    )

    rgba = np.zeros((10, 30, 4), dtype=np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)  # opaque red
    rgba[:, 10:20] = (0, 0, 0, 0)  # fully transparent black -> white
    rgba[:, 20:] = (0, 0, 0, 128)  # half-transparent black -> mid grey
    ok(
        "rgba.png",
        _encode(Image.fromarray(rgba), "PNG"),
        "RGBA",
        (10, 30, 3),
        _colour_at({(0, 0): (255, 0, 0), (0, 15): (255, 255, 255), (0, 25): (127, 127, 127)}, tol=1),
    )

    la = np.zeros((10, 20, 2), dtype=np.uint8)
    la[:, :10] = (60, 255)
    la[:, 10:] = (0, 0)
    ok(
        "la.png",
        _encode(Image.fromarray(la, "LA"), "PNG"),
        "grey + alpha",
        (10, 20),
        _colour_at({(3, 3): (60,), (3, 15): (255,)}),
    )

    gt = np.full((10, 20), 90, dtype=np.uint8)
    gt[:, 10:] = 0
    ok(
        "gray_trns.png",
        _encode(Image.fromarray(gt), "PNG", transparency=0),
        "grey whose value 0 is transparent",
        (10, 20),
        _colour_at({(3, 3): (90,), (3, 15): (255,)}),
    )
    rt = np.zeros((10, 20, 3), dtype=np.uint8)
    rt[:, :10] = (0, 128, 0)
    ok(
        "rgb_trns.png",
        _encode(Image.fromarray(rt), "PNG", transparency=(0, 0, 0)),
        "RGB whose black is transparent",
        (10, 20, 3),
        _colour_at({(3, 3): (0, 128, 0), (3, 15): (255, 255, 255)}),
    )

    cmyk = Image.new("CMYK", (48, 16), (0, 0, 0, 0))  # white paper
    cmyk.paste((255, 0, 0, 0), (0, 0, 16, 16))  # cyan ink
    cmyk.paste((0, 0, 0, 255), (32, 0, 48, 16))  # black ink
    ok(
        "cmyk.jpg",
        _encode(cmyk, "JPEG", quality=95),
        "CMYK JPEG",
        (16, 48, 3),
        _colour_at({(8, 8): (0, 255, 255), (8, 24): (255, 255, 255), (8, 40): (0, 0, 0)}, tol=12),
    )

    gray = _gradient(24, 40)[:, :, 0]
    ok("gray.jpg", _encode(Image.fromarray(gray), "JPEG", quality=95), "greyscale JPEG", (24, 40), _close(gray, 2))
    prog = _gradient(40, 24)
    ok(
        "progressive.jpg",
        _encode(Image.fromarray(prog), "JPEG", quality=95, progressive=True, subsampling=0),
        "progressive JPEG",
        (40, 24, 3),
        _close(prog, 2),
    )

    # ---- EXIF orientation: each file must decode to the same upright picture
    upright = upright_pattern()
    for n in range(1, 9):
        exif = Image.Exif()
        exif[ORIENTATION] = n
        stored = Image.fromarray(stored_for_orientation(upright, n))
        data = _encode(stored, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
        ok(f"orientation_{n}.jpg", data, f"JPEG with EXIF orientation {n}", upright.shape, _close(upright, 3))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    ok(
        "orientation_6.png",
        _encode(Image.fromarray(stored_for_orientation(upright, 6)), "PNG", exif=exif.tobytes()),
        "PNG with an eXIf orientation 6",
        upright.shape,
        _equal(upright),
    )

    # ---- several frames: the first is the one
    f0 = np.zeros((12, 18, 3), dtype=np.uint8)
    f0[:] = (255, 0, 0)
    f0[:6, :6] = (255, 255, 255)
    f1 = np.zeros((12, 18, 3), dtype=np.uint8)
    f1[:] = (0, 0, 255)
    frames = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=4) for f in (f0, f1)]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    ok("animated.gif", gif, "2-frame GIF, red then blue", (12, 18, 3), _equal(f0))
    pages = [Image.fromarray(f0), Image.fromarray(np.zeros((5, 7), dtype=np.uint8))]
    ok(
        "multipage.tiff",
        _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]),
        "2-page TIFF",
        (12, 18, 3),
        _equal(f0),
    )
    webp_anim = _encode(Image.fromarray(f0), "WEBP", lossless=True, save_all=True, append_images=[Image.fromarray(f1)])
    ok("animated.webp", webp_anim, "2-frame lossless WebP", (12, 18, 3), _equal(f0))

    # ---- other formats
    pic = _gradient(20, 30)
    ok("lossless.webp", _encode(Image.fromarray(pic), "WEBP", lossless=True), "lossless WebP", (20, 30, 3), _equal(pic))
    ok("lossy.webp", _encode(Image.fromarray(pic), "WEBP", quality=95), "lossy WebP", (20, 30, 3), _close(pic, 4))
    ok("picture.bmp", _encode(Image.fromarray(pic), "BMP"), "BMP", (20, 30, 3), _equal(pic))
    ok("picture.png", _encode(Image.fromarray(pic), "PNG"), "plain RGB PNG", (20, 30, 3), _equal(pic))

    names = [case.name for case, _ in planned]
    assert len(names) == len(set(names)), "corpus file names must be unique"
    return planned


def main(argv: list[str]) -> int:
    dest = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "corpus"
    cases = build_corpus(dest)
    width = max(len(c.name) for c in cases)
    for c in cases:
        size = (dest / c.name).stat().st_size
        outcome = f"ok {c.shape}" if c.ok else "error: " + ", ".join(c.keywords)
        print(f"{c.name:<{width}}  {size:>9,} B  {outcome:<40} {c.what}")
    print(f"{len(cases)} files in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
