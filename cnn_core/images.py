"""Decoding uploads with Pillow into uint8 arrays the pipeline can take."""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

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
    except Exception as e:  # anything else Pillow raises on a hostile header is a broken file
        raise ImageError(f"could not be read; the file looks corrupt or truncated ({_short(e)})", "image") from None
    w, h = im.size
    pixels = w * h
    if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:  # Pillow only warned; refuse it
        raise ImageError(_bomb_message(f"{w}×{h} = {pixels:,}", len(data), max_pixels), "image")
    if pixels > max_pixels and (not downscale or pixels > MAX_DECODE_PIXELS):
        advice = (
            " Choose to downscale it, or shrink it before uploading."
            if pixels <= MAX_DECODE_PIXELS
            else " Shrink it before uploading."
        )
        raise ImageError(f"is {w}×{h} = {pixels:,} pixels, over the limit of {max_pixels:,}.{advice}", "image")
    try:
        if pixels > max_pixels and im.format in ("JPEG", "MPO"):
            # Let libjpeg decode at a reduced scale: far less memory and time.
            scale = (pixels / max_pixels) ** 0.5
            im.draft(im.mode, (int(w / scale) + 1, int(h / scale) + 1))
        im.seek(0)
        im.load()
        im = _upright(im)
        arr = _to_uint8(im)
    except MemoryError:
        raise ImageError("is too large to decode on this server", "image") from None
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error, ... on broken data
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
    """A regular file's bytes, refusing anything larger than ``max_bytes`` before reading it.

    The file is opened without blocking and checked on the open descriptor, so a FIFO (which would wait
    for a writer forever), a device such as /dev/zero (which never ends) or a folder is refused at once,
    and no more than ``max_bytes`` + 1 bytes are ever read, even from a file that grows meanwhile.

    Raises:
        ImageError: naming the path, for a missing, unreadable, non-regular or oversized file.
    """
    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        if os.path.islink(path) and not os.path.exists(path):
            raise ImageError(f"is a broken symbolic link (to {os.readlink(path)!r}, which does not exist)", name) from None
        raise ImageError(f"could not be read ({e.strerror or e})", name) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"is {_kind(info.st_mode)}, not a regular file; give an image file", name)
        if info.st_size > max_bytes:
            raise ImageError(_too_big(info.st_size, max_bytes), name)
        chunks, got = [], 0
        while got <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:
            raise ImageError(_too_big(got, max_bytes, "at least "), name)
        return b"".join(chunks)
    except OSError as e:
        raise ImageError(f"could not be read ({e.strerror or e})", name) from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _too_big(nbytes: int, limit: int = MAX_FILE_BYTES, prefix: str = "") -> str:
    return f"is {prefix}{size_text(nbytes)}; at most {size_text(limit)} is accepted"


def size_text(nbytes: int) -> str:
    """A size in the upload cap's unit, MB of 10**6 bytes ("50 MB", "50.4 MB"); under 1 MB in bytes ("65,536 bytes")."""
    if nbytes < 10**6:
        return f"{nbytes:,} bytes"
    mb = nbytes / 10**6
    return f"{mb:,.0f} MB" if mb == int(mb) or mb >= 100 else f"{mb:,.1f} MB"


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
    except Exception:
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


def _shrink(arr: np.ndarray, max_pixels: int) -> np.ndarray:
    h, w = arr.shape[:2]
    scale = (max_pixels / (h * w)) ** 0.5
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS))


def _short(e: Exception) -> str:
    s = " ".join(str(e).split()) or type(e).__name__
    return s if len(s) <= 80 else s[:77] + "..."
