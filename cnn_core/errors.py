"""The project's one error type, with messages a person can act on."""

from __future__ import annotations


class CnnError(ValueError):
    """Raised for anything a user sent that cannot be run: a bad spec, image or setting.

    Attributes:
        field: where the problem is, e.g. ``"layers[0].stride"`` or ``"image"``.
        detail: what was wrong and what is allowed, without the field prefix.
    """

    def __init__(self, detail: str, field: str | None = None) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}" if field else detail)


class SpecError(CnnError):
    """The pipeline spec (or a setting in it) is invalid."""


class ImageError(CnnError):
    """The uploaded or given image cannot be used."""


class ModelError(CnnError):
    """A model file was refused, or a loaded model can't be shown (one input, image-shaped, ...)."""


class Cancelled(CnnError):
    """The computation was stopped on request (a newer view replaced it, or the visitor left)."""
