"""The stack's plan and its shape table: every stage's shape, weights and cost, and the layer that can't be built."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from cnn_core.pipeline import PlanError, StagePlan, plan
from cnn_core.spec import Spec
from ui.common.text import plain
from ui.stack.text import LAYER_TITLES, shape_text


@dataclass(frozen=True)
class StackPlan:
    """The plan of the longest runnable start of the stack, and why the rest can't run."""

    plans: list[StagePlan]  # the input, then one per runnable layer
    error: PlanError | None = None

    @property
    def bad_layer(self) -> int | None:
        """0-based index of the layer that can't be built, when one can be named."""
        return None if self.error is None else self.error.layer

    @property
    def runnable(self) -> int:
        """How many layers run."""
        return len(self.plans) - 1


def plan_stack(spec: Spec, input_shape: tuple[int, ...]) -> StackPlan:
    """``cnn_core.plan`` for the whole stack, once; if it fails, the plan of what can be built and why not."""
    try:
        return StackPlan(plan(spec, input_shape))
    except PlanError as e:
        return StackPlan(e.plans, e)


def table_rows(sp: StackPlan, spec: Spec) -> list[dict]:
    """One row per stage (input first): what it is, its output shape, weights and multiply-adds.

    A layer that can't be built gets a row saying so; the layers after it get none.
    """
    rows = [
        {
            "Stage": f"{p.index} · {p.title}",
            "Output H×W×C": shape_text(p.shape),
            "Weights": p.params,
            "Multiply-adds": p.madds,
        }
        for p in sp.plans
    ]
    if sp.bad_layer is not None and sp.bad_layer < len(spec.layers):
        layer = spec.layers[sp.bad_layer]
        rows.append(
            {
                "Stage": f"{sp.bad_layer + 1} · {LAYER_TITLES[layer.type]}",
                "Output H×W×C": "✗ can't be built",
                "Weights": None,
                "Multiply-adds": None,
            }
        )
    return rows


def error_text(sp: StackPlan, spec: Spec) -> str | None:
    """The plan's error in words that name the layer as the page numbers it, or None."""
    if sp.error is None:
        return None
    i = sp.bad_layer
    if i is not None and i < len(spec.layers):
        return (
            f"Layer {i + 1} ({LAYER_TITLES[spec.layers[i].type].lower()}) can't be built: {sp.error.reason} "
            f"(spec field layers[{i}]). The maps stop before it."
        )
    return f"This stack can't be built: {sp.error}"


def shape_table(spec: Spec, sp: StackPlan) -> None:
    """One row per stage with its output shape, weights and multiply-adds; the error, if any, below it."""
    rows = table_rows(sp, spec)
    for row in rows:  # thousands separators, and a dash where a layer can't be built
        for col in ("Weights", "Multiply-adds"):
            row[col] = "—" if row[col] is None else f"{row[col]:,}"
    text = st.column_config.TextColumn
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        height=35 * (len(rows) + 1) + 3,
        column_config={
            "Weights": text(alignment="right", help="Kernel weights plus one bias per filter"),
            "Multiply-adds": text(
                alignment="right", help="Multiplications (each with an add) to compute the stage once"
            ),
        },
    )
    st.caption(f"Total: {sum(p.params for p in sp.plans):,} weights · {sum(p.madds for p in sp.plans):,} multiply-adds")
    message = error_text(sp, spec)
    if message:
        st.error(plain(message))
