"""Decoding uploads with Pillow into uint8 arrays the pipeline can take."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import PARSER_FAILURES, ImageError
from .files import read_bounded, size_text, too_big  # noqa: F401  (size_text: the one unit, shown by the pages)

# The largest image the app works on. Bigger ones are refused, or shrunk when asked.
MAX_PIXELS = 4096 * 4096
# Never decode more than this, even to shrink it. Pillow's own bomb guard
# (Image.MAX_IMAGE_PIXELS) stays on as well and is never raised here.
MAX_DECODE_PIXELS = 64_000_000
# One upload cap for every file, in the unit Streamlit's uploader states and checks ("50MB per file": MB of
# 10**6 bytes); .streamlit/config.toml sets server.maxUploadSize to MAX_UPLOAD_MB.
MAX_UPLOAD_MB = 50
MAX_FILE_BYTES = MAX_UPLOAD_MB * 10**6
# Formats Pillow may open. MPO (multi-picture JPEG) opens through the JPEG opener.
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")

# Leading bytes of the formats above, to tell a broken image from something that is no image at all.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
_HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, downscale: bool = False) -> np.ndarray:
    """Decode image bytes into a uint8 array the right way up.

    EXIF orientation is applied; palette, alpha, CMYK and 16-bit images become
    grayscale (H, W) or RGB (H, W, 3), with transparency laid over white; an
    animated or multi-page file gives its first frame. The size is checked
    from the header, before any pixels are decoded.

    Args:
        data: the file's bytes.
        max_pixels: the pixel cap.
        downscale: shrink an image over the cap to fit it, instead of refusing it.

    Returns:
        uint8 (height, width) for grayscale images, (height, width, 3) otherwise.

    Raises:
        ImageError: for an empty, broken, unsupported or oversized file.
    """
    if not data:
        raise ImageError("the file is empty (0 bytes)", "image")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(_too_big(len(data)), "image")
    try:
        # Reads the header only. Pillow refuses a header of more than 2 × MAX_IMAGE_PIXELS here.
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as e:
        found = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(found.group(1)):,}" if found else f"more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,}"
        raise ImageError(_bomb_message(count, len(data), max_pixels), "image") from None
    except UnidentifiedImageError:
        fmt = _signature(data)
        if fmt:
            raise ImageError(
                f"starts like a {fmt} file but its header is corrupt or truncated, so it could not be read", "image"
            ) from None
        raise ImageError(
            f"is not an image this app can read; upload one of: {', '.join(EXTENSIONS)}", "image"
        ) from None
    except PARSER_FAILURES as e:  # anything else Pillow raises on a hostile header is a broken file
        raise ImageError(f"could not be read; the file looks corrupt or truncated ({_short(e)})", "image") from None
    w, h = im.size
    pixels = w * h
    if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:  # Pillow only warned; refuse it
        raise ImageError(_bomb_message(f"{h}×{w} (height×width) = {pixels:,}", len(data), max_pixels), "image")
    if pixels > max_pixels and (not downscale or pixels > MAX_DECODE_PIXELS):
        advice = (
            " Choose to downscale it, or shrink it before uploading."
            if pixels <= MAX_DECODE_PIXELS
            else " Shrink it before uploading."
        )
        raise ImageError(
            f"is {h}×{w} (height×width) = {pixels:,} pixels, over the limit of {max_pixels:,}.{advice}", "image"
        )
    try:
        if pixels > max_pixels and im.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, the largest that fits: far less memory and time
            # than decoding every pixel and resampling them (a 20 MP photo: well under a second).
            f = _power_of_two_at_least((pixels / max_pixels) ** 0.5)
            im.draft(im.mode, (max(1, w // f), max(1, h // f)))
        im.seek(0)
        im.load()
        im = _upright(im)
        arr = _to_uint8(im)
    except MemoryError:
        raise ImageError("is too large to decode on this server", "image") from None
    except PARSER_FAILURES as e:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error, ... on broken data
        raise ImageError(f"could not be decoded; the file looks truncated or corrupt ({_short(e)})", "image") from None
    if arr.shape[0] * arr.shape[1] > max_pixels:
        arr = _shrink(arr, max_pixels)
    return arr


def load_image(path: str | Path, **kwargs) -> np.ndarray:
    """Read and decode an image file; see ``decode_image`` and ``read_file``."""
    data = read_file(path, MAX_FILE_BYTES)
    try:
        return decode_image(data, **kwargs)
    except ImageError as e:
        raise ImageError(e.detail, str(path)) from None


def read_file(path: str | Path, max_bytes: int) -> bytes:
    """An image file's bytes through the one bounded reader (``files.read_bounded``); raises ImageError."""
    return read_bounded(path, max_bytes, "an image file", ImageError)


def _too_big(nbytes: int, limit: int = MAX_FILE_BYTES, prefix: str = "") -> str:
    return too_big(nbytes, limit, prefix)


def _bomb_message(count: str, nbytes: int, max_pixels: int) -> str:
    return (
        f"has {count} pixels, far over the limit of {max_pixels:,} pixels. A {_file_size(nbytes)} file that "
        "expands this much could be a decompression bomb, so it was refused without decoding. "
        "If it is a real picture, shrink it before uploading."
    )


def _file_size(nbytes: int) -> str:
    if nbytes < 10_000:
        return f"{nbytes:,}-byte"
    return f"{nbytes / 1e3:,.0f} KB" if nbytes < 10_000_000 else f"{nbytes / 1e6:,.0f} MB"


def _signature(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return next((fmt for magic, fmt in _SIGNATURES if data.startswith(magic)), None)


def _upright(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation. A broken EXIF block leaves the pixels as stored rather than failing."""
    try:
        return ImageOps.exif_transpose(im) or im
    except PARSER_FAILURES:
        return im


def _to_uint8(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in _HIGH_DEPTH:
        return _high_depth_to_uint8(im)
    if im.has_transparency_data:
        # Includes palette and grey/RGB images with a transparent colour (tRNS), not only alpha modes.
        gray = mode in ("1", "L", "LA", "La")
        return np.asarray(_over_white(im.convert("LA" if gray else "RGBA"), "L" if gray else "RGB"), dtype=np.uint8)
    if mode in ("1", "L"):
        return np.asarray(im.convert("L"), dtype=np.uint8)
    # P, CMYK, YCbCr, LAB, HSV, RGBX, ...: Pillow's conversion (naive for CMYK; no ICC profiles).
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _high_depth_to_uint8(im: Image.Image) -> np.ndarray:
    """16-bit (0..65535 → 0..255), 32-bit integer and float greyscale as uint8."""
    a = np.asarray(im).astype(np.float64)
    if im.mode in ("I", "F"):
        # No declared range: read 0..255 or 0..65535 data as such, stretch anything else.
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if lo >= 0 and hi <= 255:
            top = 255.0
        elif lo >= 0 and hi <= 65535:
            top = 65535.0
        else:
            a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
            top = 255.0
        a = a / top * 255.0
    else:
        a = a / 257.0
    return np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)


def _over_white(im: Image.Image, mode: str) -> Image.Image:
    """Lay an image with alpha over a white background (transparent areas read as paper, not black)."""
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, im.convert("RGBA")).convert(mode)


def _power_of_two_at_least(x: float) -> int:
    f = 1
    while f < x:
        f *= 2
    return f


def _shrink(arr: np.ndarray, max_pixels: int) -> np.ndarray:
    # Box-average whole blocks of k×k pixels (Pillow's reduce): one pass, fast even on 60 MP, and the
    # smallest whole k that fits the cap.
    h, w = arr.shape[:2]
    k = max(2, int(np.ceil((h * w / max_pixels) ** 0.5)))
    while -(-h // k) * -(-w // k) > max_pixels:
        k += 1
    return np.asarray(Image.fromarray(arr).reduce(k))


def image_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) of an image file as it will be shown (EXIF rotation applied), read from its header
    alone; None when the header can't be read."""
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
        w, h = im.size
        orientation = im.getexif().get(0x0112, 1)
    except PARSER_FAILURES:  # a header Pillow can't read: decode_image says why, this only informs
        return None
    return (w, h) if orientation in (5, 6, 7, 8) else (h, w)


def _short(e: Exception) -> str:
    s = " ".join(str(e).split()) or type(e).__name__
    return s if len(s) <= 80 else s[:77] + "..."
