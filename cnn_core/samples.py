"""The bundled sample photos: the one list, used by the picker, links and the tests. Files and licences are in
assets/ (assets/LICENSES.md)."""

from __future__ import annotations

from pathlib import Path

from .errors import ImageError

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# File stem in assets/ -> what the picker calls it, in the picker's order.
SAMPLES: dict[str, str] = {
    "camera": "Cameraman (grayscale)",
    "astronaut": "Astronaut",
    "chelsea": "Chelsea the cat",
    "coffee": "Coffee cup",
    "brick": "Brick wall",
    "text": "Text on a page",
    "rocket": "Rocket launch",
}


def sample_path(name: str) -> Path:
    """The file of sample ``name`` (a .png or .jpg in assets/); ImageError for a name not in SAMPLES."""
    if name in SAMPLES:
        for ext in ("png", "jpg"):
            p = ASSETS / f"{name}.{ext}"
            if p.exists():
                return p
    raise ImageError(f"{name!r} is not a bundled sample; the samples are {', '.join(SAMPLES)}", "sample")
