"""The project's one error type, with messages a person can act on; and the rule for the few handlers that
must catch whatever went wrong."""

from __future__ import annotations

import logging
import os
import struct
import zlib

# Set by tests/conftest.py (and so in every server the browser tests start). A handler that catches an error
# it can't name (a last guard, a third-party parser's unknown failure) calls ``unexpected``, which then
# re-raises: the test that met it fails with the traceback instead of passing over an apology or a fallback.
STRICT_ENV = "CNN_PLAYGROUND_STRICT"

LOG = logging.getLogger("cnn_playground")  # the server's log (ui/common/errors.py); silent in the CLI
LOG.addHandler(logging.NullHandler())

# What a third-party decoder (Pillow, zlib, base64, JSON, NumPy) raises on hostile or broken bytes. Each is a
# refusal of the input, not a bug; anything else reaching a parser's guard goes through ``unexpected``.
PARSER_FAILURES: tuple[type[BaseException], ...] = (
    ValueError,  # binascii.Error, json.JSONDecodeError, UnicodeDecodeError, Pillow's own
    TypeError,
    KeyError,
    IndexError,
    OSError,  # PIL.UnidentifiedImageError, truncated files
    EOFError,
    SyntaxError,  # Pillow on a broken header
    ArithmeticError,  # ZeroDivisionError, OverflowError
    NotImplementedError,
    struct.error,
    zlib.error,
)


def strict() -> bool:
    """Whether errors nobody expected must surface (under the tests) rather than be turned into a fallback."""
    return bool(os.environ.get(STRICT_ENV))


def unexpected(error: BaseException, where: str) -> None:
    """For a handler that catches what it can't name: log ``error`` with its traceback, and re-raise it under
    the tests (``STRICT_ENV``), so a bug it would hide fails the test that met it. Otherwise returns, and the
    caller goes on with its fallback."""
    LOG.warning("unexpected %s while %s", type(error).__name__, where, exc_info=error)
    if strict():
        raise error


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


class Cancelled(Exception):
    """The computation was stopped on request (a newer view replaced it, or the visitor left).

    Not a ``CnnError``: nothing was wrong with what the user sent, so a handler that reports bad input
    (``except CnnError`` or ``except ValueError``) must not catch it and show it as a mistake.

    Attributes:
        field: what was stopped, e.g. ``"run"``.
        detail: where it stopped.
    """

    def __init__(self, detail: str, field: str | None = None) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}" if field else detail)
