"""Decoding uploads with Pillow into uint8 arrays the pipeline can take."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError

# The largest image the app works on. Bigger ones are refused, or shrunk when asked.
MAX_PIXELS = 4096 * 4096
# Never decode more than this, even to shrink it; Pillow's own bomb guard stays on above it.
MAX_DECODE_PIXELS = 64_000_000
MAX_FILE_BYTES = 50 * 1024 * 1024
FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF", "MPO")
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS, downscale: bool = False) -> np.ndarray:
    """Decode image bytes into a uint8 array the right way up.

    EXIF orientation is applied; palette, alpha, CMYK and 16-bit images become
    grayscale (H, W) or RGB (H, W, 3), with transparency laid over white; an
    animated or multi-page file gives its first frame.

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
        raise ImageError(f"the file is {len(data) / 1e6:.0f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB is accepted", "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = im.size
            pixels = w * h
            if pixels > max_pixels and (not downscale or pixels > MAX_DECODE_PIXELS):
                advice = (
                    " Choose to downscale it, or shrink it before uploading."
                    if pixels <= MAX_DECODE_PIXELS
                    else " Shrink it before uploading."
                )
                raise ImageError(
                    f"is {w}×{h} = {pixels:,} pixels, over the limit of {max_pixels:,}.{advice}",
                    "image",
                )
            if pixels > max_pixels and im.format == "JPEG":
                # Let libjpeg decode at a reduced scale: far less memory and time.
                scale = (pixels / max_pixels) ** 0.5
                im.draft(im.mode, (int(w / scale) + 1, int(h / scale) + 1))
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im) or im
            arr = _to_uint8(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("looks like a decompression bomb (a small file that expands to a huge image); refused", "image") from None
    except UnidentifiedImageError:
        raise ImageError(
            f"is not an image this app can read; upload one of: {', '.join(EXTENSIONS)}", "image"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError) as e:
        raise ImageError(f"could not be decoded; the file looks truncated or corrupt ({_short(e)})", "image") from None
    except MemoryError:
        raise ImageError("is too large to decode on this server", "image") from None
    if arr.shape[0] * arr.shape[1] > max_pixels:
        arr = _shrink(arr, max_pixels)
    return arr


def load_image(path: str | Path, **kwargs) -> np.ndarray:
    """Read and decode an image file; see ``decode_image``."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"could not be read ({e.strerror or e})", str(path)) from None
    try:
        return decode_image(data, **kwargs)
    except ImageError as e:
        raise ImageError(e.detail, str(path)) from None


def _to_uint8(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im).astype(np.float64)
        if mode in ("I", "F"):
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
            top = 65535.0 if (lo >= 0 and hi <= 65535 and hi > 255) else (255.0 if hi <= 255 and lo >= 0 else None)
            if top is None:  # arbitrary range: stretch to 0..255
                a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
                top = 255.0
            a = a / top * 255.0
        else:
            a = a / 257.0
        return np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)
    if mode == "1":
        im = im.convert("L")
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        im = im.convert("RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA", "La", "RGBa"):
        im = im.convert("RGB")
    if im.mode in ("LA", "La"):
        im = _over_white(im.convert("LA"), "L")
    elif im.mode in ("RGBA", "RGBa"):
        im = _over_white(im.convert("RGBA"), "RGB")
    a = np.asarray(im, dtype=np.uint8)
    return np.ascontiguousarray(a)


def _over_white(im: Image.Image, mode: str) -> Image.Image:
    """Lay an image with alpha over a white background (transparent areas read as paper, not black)."""
    bg = Image.new(im.mode, im.size, (255,) * len(im.mode))
    return Image.alpha_composite(bg.convert("RGBA"), im.convert("RGBA")).convert(mode)


def _shrink(arr: np.ndarray, max_pixels: int) -> np.ndarray:
    h, w = arr.shape[:2]
    scale = (max_pixels / (h * w)) ** 0.5
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    return np.asarray(Image.fromarray(arr).resize(size, Image.Resampling.LANCZOS))


def _short(e: Exception) -> str:
    s = str(e) or type(e).__name__
    return s if len(s) <= 80 else s[:77] + "..."
