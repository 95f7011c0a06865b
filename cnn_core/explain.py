"""Explain one value of one map: the sum that made it, and where in the photo it looks.

    >>> stages = run_pipeline(image, spec)
    >>> ex = explain(stages, stage=1, row=10, col=20, channel=0)
    >>> ex.detail.total, ex.value            # the worked sum and the map's own value
    >>> ex.receptive_field.box               # (top, left, bottom, right) in input pixels

Everything is read from already computed stages (``Stage.maps``) and the layers in their plans; no map is
recomputed, so a click on a large map costs only the few numbers under the window. Each layer's kind
(``cnn_core.kinds``) explains its own values, as CNN Explainer's ``single*`` functions do; this module is the
front for a spec's stages. For any network (the Tiny VGG, an uploaded model) use ``Activations.explain``.

Coordinates of padding cells are given as they would be in the padded input: a row of -1 is the first row of
zeros above the map. TensorFlow's "same" padding puts the odd extra row or column at the bottom and right;
the pad sizes come from ``cnn_core.geometry``, the one place they are worked out.
"""

from __future__ import annotations

from .activations import Activations, Explanation, InputDetail, ReceptiveField, check_cell
from .activations import receptive_field as _receptive_field
from .geometry import FieldGeometry, window_cells
from .kinds import ActivationDetail, Cell, ConvDetail, ExplainError, PoolDetail, Term
from .kinds.activation import FORMULAS

Detail = ConvDetail | ActivationDetail | PoolDetail | InputDetail


def explain(stages: list, stage: int, row: int, col: int, channel: int = 0) -> Explanation:
    """How the value at (row, col, channel) of stage ``stage`` was computed.

    Args:
        stages: the stages from ``run_pipeline`` (read only; nothing is recomputed).
        stage: the stage number as in ``run_pipeline``: 0 is the input, 1 the first layer's output.
        row, col: the position in that stage's map.
        channel: the channel of that stage's map.

    Returns:
        An Explanation whose ``detail`` is a ConvDetail, ActivationDetail, PoolDetail or InputDetail, with
        the receptive field in input pixels.

    Raises:
        ExplainError: if the stage, position or channel is not in the pipeline.
    """
    check_position([x.shape for x in stages], stage, row, col, channel)
    return Activations.from_stages(stages).explain(str(stage), row, col, channel)


def check_position(shapes: list[tuple[int, int, int]], stage: int, row: int, col: int, channel: int = 0) -> None:
    """Raise ExplainError unless (stage, row, col, channel) names a value of stages with these shapes.

    ``shapes`` are the stages' (height, width, channels), from the stages or from ``plan`` before running.
    """
    if not shapes:
        raise ExplainError("there are no stages to explain", "stage")
    if not 0 <= stage < len(shapes):
        raise ExplainError(f"{stage} is not a stage; stages are numbered 0 (the input) to {len(shapes) - 1}", "stage")
    check_cell(f"stage {stage}", shapes[stage], row, col, channel)


def field_geometry(stages: list, stage: int) -> FieldGeometry:
    """The receptive-field recurrence up to ``stage``, through every layer's kind."""
    return Activations.from_stages(stages).field_geometry(str(stage))


def receptive_field(stages, stage, row: int, col: int, channel: int = 0) -> ReceptiveField:
    """The input pixels (row, col) of stage ``stage`` depends on, clipped to the input image.

    ``stages`` may also be an ``Activations`` (a model's layers) and ``stage`` a layer path; ``channel`` matters
    only for a Flatten's entries. The same as ``cnn_core.activations.receptive_field``.
    """
    return _receptive_field(stages, stage, row, col, channel)


__all__ = [
    "FORMULAS", "ActivationDetail", "Cell", "ConvDetail", "Detail", "ExplainError", "Explanation", "FieldGeometry",
    "InputDetail", "PoolDetail", "ReceptiveField", "Term", "check_position", "explain", "field_geometry",
    "receptive_field", "window_cells",
]  # fmt: skip
