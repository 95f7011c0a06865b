"""Steps through the inspector that the Playground's and the Layer stack's app tests both take."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.conftest import run


def animate_at(at: AppTest, prefix: str, row: int, col: int) -> str:
    """Select value (row, col) in page ``prefix``'s inspector, open its sliding-window animation, rerunning
    after each step; returns the page's captions, one a line."""
    at.number_input(key=f"{prefix}_insp_row").set_value(row)
    at.number_input(key=f"{prefix}_insp_col").set_value(col)
    run(at)
    at.toggle(key=f"{prefix}_anim_on").set_value(True)
    run(at)
    return "\n".join(c.value for c in at.caption)
