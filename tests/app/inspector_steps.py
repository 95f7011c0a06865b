"""Steps through the inspector that the Playground's and the Layer stack's app tests both take."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.app.conftest import run


def pick(at: AppTest, prefix: str, part: str):
    """Page ``prefix``'s inspector widget ``part`` (``insp_stage``, ``insp_row``, ``insp_col`` or ``insp_ch``) as
    drawn now: its key carries a generation after a click, a link or a change of map (ui/common/inspector.py)."""
    kind = at.radio if part == "insp_stage" else at.number_input
    name = re.compile(rf"{prefix}_{part}(_\d+)?")
    found = [w for w in kind if w.key and name.fullmatch(w.key)]
    assert len(found) == 1, [w.key for w in kind]
    return found[0]


def animate_at(at: AppTest, prefix: str, row: int, col: int) -> str:
    """Select value (row, col) in page ``prefix``'s inspector, open its sliding-window animation, rerunning
    after each step; returns the page's captions, one a line."""
    pick(at, prefix, "insp_row").set_value(row)
    pick(at, prefix, "insp_col").set_value(col)
    run(at)
    at.toggle(key=f"{prefix}_anim_on").set_value(True)
    run(at)
    return "\n".join(c.value for c in at.caption)
