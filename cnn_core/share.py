"""The app's state in a link: a few short query parameters, read back without trusting them.

    >>> params = encode_state(LinkState(page="stack", sample="chelsea"))
    >>> params
    {'p': 'stack', 's': 'chelsea', 'v': 'auto.layer', 'c': 'eNp...'}
    >>> state, warning = decode_state(params)

The spec travels as compact JSON, zlib-compressed and base64url-encoded
without padding. A link from a stranger is checked before anything is
decoded: every part has a length limit, decompression stops at 64 KB, the
spec goes through ``parse_spec``, and the stack it describes must be cheap
enough to run. Anything wrong gives the default state and one warning that
never repeats the link's own text verbatim. Nothing here raises or evaluates.
"""

from __future__ import annotations

import base64
import io
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
from PIL import Image

from . import samples
from .errors import PARSER_FAILURES, CnnError, unexpected
from .images import decode_image
from .pipeline import plan
from .render import COLORMAPS, SCALE_MODES
from .spec import Spec, default_spec, parse_spec

SAMPLES: tuple[str, ...] = tuple(samples.SAMPLES)  # the bundled sample images, by file stem
PAGES = ("playground", "stack")
VIEW_DEFAULTS = {"cmap": "auto", "scale": "layer"}
VIEW_CHOICES = {"cmap": COLORMAPS, "scale": tuple(SCALE_MODES)}

# Limits on what a link may hold, checked before anything is decoded.
MAX_SPEC_CHARS = 6_000  # the packed spec ("c"), base64url characters
MAX_JSON_BYTES = 64 * 1024  # the spec after decompression
MAX_IMAGE_CHARS = 6_000  # the embedded picture ("img"), base64url characters
MAX_IMAGE_PIXELS = 128 * 128
_LIMITS = {"p": 16, "s": 32, "u": 1, "v": 32, "c": MAX_SPEC_CHARS, "img": MAX_IMAGE_CHARS, "at": 40}
_AT = re.compile(r"\d{1,5}\.\d{1,5}\.\d{1,5}\.\d{1,5}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _default_view() -> dict:
    return dict(VIEW_DEFAULTS)


@dataclass(frozen=True)
class LinkState:
    """Everything a link carries.

    Attributes:
        page: "playground" or "stack".
        sample: the bundled sample shown (for an upload: the one that stands in
            for it), or None when ``image`` carries the picture.
        spec: the pipeline spec.
        view: how maps are coloured, {"cmap": one of COLORMAPS, "scale": one of SCALE_MODES}.
        image: a small PNG or JPEG (see ``embed_image``) when the user chose to embed one.
        from_upload: the link was made from an uploaded photo, which it does not carry.
        at: the value being explained, (stage, row, col, channel), or None. Links made before
            this existed simply have none.
    """

    page: str = "playground"
    sample: str | None = "camera"
    spec: Spec = field(default_factory=default_spec)
    view: dict = field(default_factory=_default_view)
    image: bytes | None = None
    from_upload: bool = False
    at: tuple[int, int, int, int] | None = None


class LinkRefused(Exception):
    """A link that cannot be used; the message is the reason, for the one warning."""


# --------------------------------------------------------------------------- encoding


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pack_spec(spec: Spec) -> str:
    """The spec as compact JSON, zlib-compressed, base64url without padding."""
    return _b64(zlib.compress(spec.to_json().encode("utf-8"), 9))


def encode_state(state: LinkState) -> dict[str, str]:
    """The state as query parameters: p (page), s (sample), u (from an upload), v (view), c (spec), img, and
    at (the explained value, "stage.row.col.channel").

    Parts that are absent or default are still written (except ``u`` and
    ``img``), so a link shows the same maps even if the app's defaults change.
    """
    params = {"p": state.page}
    if state.sample is not None:
        params["s"] = state.sample
    if state.from_upload:
        params["u"] = "1"
    params["v"] = ".".join(str(state.view.get(k, VIEW_DEFAULTS[k])) for k in VIEW_DEFAULTS)
    params["c"] = pack_spec(state.spec)
    if state.image:
        params["img"] = _b64(state.image)
    if state.at is not None:
        params["at"] = ".".join(str(int(v)) for v in state.at)
    return params


def link_problem(params: Mapping[str, str]) -> str | None:
    """Why encoded parameters would not open as a link (too long), or None if they fit."""
    for key, value in params.items():
        limit = _LIMITS.get(key)
        if limit is not None and len(value) > limit:
            what = (
                "the layer settings are" if key == "c" else "the embedded picture is" if key == "img" else f"{key} is"
            )
            return f"This does not fit in a link: {what} {len(value):,} characters long; at most {limit:,} fit."
    return None


def share_url(base_url: str, state: LinkState) -> str:
    """The app's address with the state as its query, replacing any query or fragment it had."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(encode_state(state)), ""))


def embed_image(image: np.ndarray, max_chars: int = MAX_IMAGE_CHARS) -> bytes | None:
    """A small downscaled copy of a picture that fits in a link, as PNG or JPEG bytes.

    Tries sides from 128 pixels down, PNG first (lossless) and then JPEG at
    falling quality, and returns the first that encodes in ``max_chars``
    base64url characters.

    Args:
        image: uint8 (height, width) or (height, width, 1|3|4); alpha is dropped.
        max_chars: the room in the link.

    Returns:
        The file's bytes, or None if even the smallest copy does not fit.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or a.size == 0:
        return None
    if a.ndim == 3:
        if a.shape[2] == 1:
            a = a[:, :, 0]
        elif a.shape[2] in (3, 4):
            a = a[:, :, :3]
        else:
            return None
    full = Image.fromarray(np.ascontiguousarray(a))
    full.thumbnail((128, 128), Image.Resampling.LANCZOS)
    for side in (128, 112, 96, 80, 64, 48, 32, 16):
        im = full.copy()
        im.thumbnail((side, side), Image.Resampling.LANCZOS)
        for fmt, quality in (("PNG", None), ("JPEG", 85), ("JPEG", 70), ("JPEG", 55)):
            data = _encode_picture(im, fmt, quality)
            if len(_b64(data)) <= max_chars:
                return data
    return None


def _encode_picture(im: Image.Image, fmt: str, quality: int | None) -> bytes:
    buf = io.BytesIO()
    if fmt == "PNG":
        im.save(buf, format="PNG", optimize=True)
    else:
        im.save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------- decoding


def decode_state(params: Mapping[str, str | list[str]]) -> tuple[LinkState, str | None]:
    """Read a link's query parameters back into a state, never trusting them.

    Args:
        params: the query, each value a string or a list of strings (as from
            ``st.query_params.get_all``). An empty query is a plain visit.

    Returns:
        (state, None) for a good link; (the default LinkState, one warning)
        for anything malformed, oversized, from another spec version or
        hostile. Never raises.
    """
    state, reason = read_safely(_decode, params)
    return (state, None) if reason is None else (LinkState(), _warning(reason))


def read_safely(decode: Callable[[Mapping[str, Any]], Any], params: Mapping[str, Any]) -> tuple[Any, str | None]:
    """``(decode(params), None)``, or ``(None, why)`` when the link is refused: the ``LinkRefused`` message,
    or a general reason for anything else. Never raises: a link must never break a page."""
    try:
        return decode(params), None
    except LinkRefused as e:
        return None, str(e)
    except PARSER_FAILURES:  # base64, zlib, JSON, the spec's own checks (CnnError is a ValueError)
        return None, "it could not be read"
    except Exception as e:  # refused all the same; a failure nobody named is logged (and fails a test)
        unexpected(e, "reading a link")
        return None, "it could not be read"


def _warning(reason: str) -> str:
    return f"This link could not be used: {_clean(reason)}. Showing the default settings instead."


def _decode(params: Any) -> LinkState:
    q = _plain(params)
    if not q:
        return LinkState()
    page = q.get("p", "playground")
    if page not in PAGES:
        raise LinkRefused(f"it names a page this app does not have; the pages are {', '.join(PAGES)}")
    view = _view(q.get("v"))
    from_upload = _flag(q.get("u"))
    spec = _spec(q["c"]) if "c" in q else default_spec()
    image = None
    image_shape: tuple[int, ...]
    if "img" in q:
        image, image_shape = _image(q["img"])
    sample = q.get("s")
    if sample is not None and sample not in SAMPLES:
        raise LinkRefused(f"it names a sample this app does not have; the samples are {', '.join(SAMPLES)}")
    if image is None:
        sample = sample or LinkState.sample
        image_shape = _sample_shape(sample)
    plans = _check_cost(spec, image_shape)
    at = _at(q["at"], plans) if "at" in q else None
    return LinkState(page=page, sample=sample, spec=spec, view=view, image=image, from_upload=from_upload, at=at)


def _at(text: str, plans) -> tuple[int, int, int, int]:
    if not _AT.fullmatch(text):
        raise LinkRefused("its part at must be four whole numbers: stage.row.column.channel")
    stage, row, col, channel = (int(v) for v in text.split("."))
    if stage >= len(plans):
        raise LinkRefused(f"it points at stage {stage}, but its layers make stages 0 to {len(plans) - 1}")
    h, w, c = plans[stage].shape
    if row >= h or col >= w or channel >= c:
        raise LinkRefused(f"it points at a value outside stage {stage}'s {h}×{w}×{c} maps")
    return (stage, row, col, channel)


def _plain(params: Any) -> dict[str, str]:
    """One string per known key, each within its length limit."""
    if not isinstance(params, Mapping):
        raise LinkRefused("its query is not a set of named parts")
    if len(params) > len(_LIMITS):
        raise LinkRefused(f"it has {len(params)} parts; a link has at most {len(_LIMITS)}")
    out = {}
    for key, value in params.items():
        if not isinstance(key, str) or key not in _LIMITS:
            raise LinkRefused(f"it has a part this app does not know; the parts are {', '.join(_LIMITS)}")
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise LinkRefused(f"its part {key} is given {len(value)} times; give it once")
            value = value[0]
        if not isinstance(value, str):
            raise LinkRefused(f"its part {key} is not text")
        if len(value) > _LIMITS[key]:
            raise LinkRefused(f"its part {key} is {len(value):,} characters long; the limit is {_LIMITS[key]:,}")
        out[key] = value
    return out


def _view(text: str | None) -> dict:
    if text is None:
        return _default_view()
    values = text.split(".")
    if len(values) != len(VIEW_DEFAULTS) or any(v not in VIEW_CHOICES[k] for k, v in zip(VIEW_DEFAULTS, values)):
        raise LinkRefused(
            f"its display settings are not valid; colour maps are {', '.join(COLORMAPS)} "
            f"and scales are {', '.join(SCALE_MODES)}"
        )
    return dict(zip(VIEW_DEFAULTS, values))


def _flag(text: str | None) -> bool:
    if text is None:
        return False
    if text != "1":
        raise LinkRefused("its part u must be 1 when present")
    return True


def _unb64(text: str, key: str) -> bytes:
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise LinkRefused(f"its part {key} is not valid base64url text; the link may have been cut off or altered")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _spec(text: str) -> Spec:
    raw = _unb64(text, "c")
    d = zlib.decompressobj()
    try:
        out = d.decompress(raw, MAX_JSON_BYTES)
    except zlib.error:
        raise LinkRefused(
            "its layer settings could not be unpacked; the link may have been cut off or altered"
        ) from None
    if not d.eof:
        if len(out) >= MAX_JSON_BYTES:
            raise LinkRefused(f"its layer settings unpack to more than {MAX_JSON_BYTES // 1024} KB")
        raise LinkRefused("its layer settings end too early; the link may have been cut off")
    if d.unused_data:
        raise LinkRefused("its layer settings have extra data after the end")
    try:
        return parse_spec(out.decode("utf-8"))
    except UnicodeDecodeError:
        raise LinkRefused("its layer settings are not text") from None
    except CnnError as e:
        raise LinkRefused(f"its layer settings are not valid ({e})") from None


def _image(text: str) -> tuple[bytes, tuple[int, ...]]:
    data = _unb64(text, "img")
    if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
        raise LinkRefused("its embedded picture is not a PNG or JPEG file")
    try:
        arr = decode_image(data, max_pixels=MAX_IMAGE_PIXELS)
    except CnnError:
        side = int(MAX_IMAGE_PIXELS**0.5)
        raise LinkRefused(
            f"its embedded picture is not a readable PNG or JPEG of at most {side}×{side} pixels"
        ) from None
    return data, arr.shape


@cache
def _sample_shape(name: str) -> tuple[int, int]:
    """(height, width) from the sample's header, without decoding its pixels."""
    with Image.open(samples.sample_path(name)) as im:
        w, h = im.size
    return (h, w)


def _check_cost(spec: Spec, image_shape: tuple[int, ...]) -> list:
    """A link meets the same limits as the editor, spec files and the command line: those of ``plan``."""
    try:
        return plan(spec, image_shape)
    except CnnError as e:
        raise LinkRefused(f"its layers cannot run on this picture ({e})") from None


# Characters a warning keeps; anything else from a link (markup, control or direction
# characters) becomes "?", so a warning shown as Markdown cannot carry a link or markup.
_SAFE = re.compile(r"[^A-Za-z0-9 ,;:.=+\-×·–…'\"()\[\]{}_%]")


def _clean(text: str, limit: int = 400) -> str:
    text = _SAFE.sub("?", text)
    text = re.sub(r":(?=\S)", ": ", text)  # breaks URL schemes and :emoji:/:color[...]: shortcodes
    text = re.sub(r"(?i)www\.", "www .", text).replace("](", "] (")
    return text if len(text) <= limit else text[: limit - 1] + "…"
