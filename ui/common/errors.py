"""The one way the pages report a failure nobody expected: an apology and a reference, never details.

Expected failures (a bad spec, an unreadable photo) are ``cnn_core.CnnError`` and get their own plain
sentence where they happen. Anything else is a bug: the visitor sees a short apology with a reference,
and the server log gets the same reference with the full traceback, so the operator can find it.
"""

from __future__ import annotations

import uuid

import streamlit as st
from streamlit.logger import get_logger

LOG = get_logger("cnn_playground")
APOLOGY = "Sorry, something went wrong on our side"  # the apology's first words (tests/app/conftest.py looks for them)


def show_unexpected(error: BaseException, where=None) -> str:
    """Log ``error`` with its traceback under a new reference, show the apology; returns the reference."""
    ref = uuid.uuid4().hex[:10]
    LOG.error("unexpected error, reference %s", ref, exc_info=(type(error), error, error.__traceback__))
    (where or st).error(
        f"{APOLOGY} and this view could not be shown. "
        f"Try again, or change a setting; if it keeps happening, give the site's operator the reference "
        f"`{ref}`.",
        icon=":material/error:",
    )
    return ref
