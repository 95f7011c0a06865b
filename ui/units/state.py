"""The unit page's state: which unit of which model the address asks for (:class:`UnitRequest`), and the
pure functions from the address to a request and from a request to the unit a model has.

The page's only state is its address (``?unit=LAYER:CHANNEL[&model=yours]``) and the Your model page's
model in session state; :func:`requested` reads the first, :func:`fitted` settles the request against the
model's layers. Neither reads session state, so a test can call them with plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cnn_core.errors import CnnError
from ui.common.text import plain
from ui.common.unit_links import TINY, YOURS, parse_unit

DEFAULT_UNIT = ("conv_2_2", 0)


@dataclass(frozen=True)
class UnitRequest:
    """A unit: channel ``channel`` of layer ``layer`` of the Tiny VGG (TINY) or the Your model page's model
    (YOURS). Refuses anything else with a CnnError naming the field."""

    layer: str = DEFAULT_UNIT[0]
    channel: int = DEFAULT_UNIT[1]
    kind: str = TINY

    def __post_init__(self) -> None:
        if not isinstance(self.layer, str) or not self.layer:
            raise CnnError(f"the layer must be a layer's path; got {self.layer!r}", "layer")
        if isinstance(self.channel, bool) or not isinstance(self.channel, int) or self.channel < 0:
            raise CnnError(f"the channel must be a whole number from 0 up; got {self.channel!r}", "channel")
        if self.kind not in (TINY, YOURS):
            raise CnnError(f"the model must be {TINY} or {YOURS}; got {self.kind!r}", "kind")


def requested(query: Mapping[str, str], have_yours: bool) -> tuple[UnitRequest, str | None]:
    """The unit the address names, or the Tiny VGG's default; with the warning for an address that can't
    be used (the default is shown then). ``have_yours``: whether this visit has a Your model page model."""
    text = query.get("unit")
    kind = query.get("model", TINY)
    warning = None
    layer, channel = DEFAULT_UNIT
    if text is not None:
        try:
            layer, channel = parse_unit(text)
        except CnnError as e:
            warning = f"This link names no unit ({plain(e.detail)}); showing {DEFAULT_UNIT[0]}:{DEFAULT_UNIT[1]}."
    if kind == YOURS and not have_yours:
        warning = "This link is for a model uploaded on the Your model page in another visit; showing the Tiny VGG."
        kind, (layer, channel) = TINY, DEFAULT_UNIT
    return UnitRequest(layer, channel, YOURS if kind == YOURS else TINY), warning


def fitted(
    request: UnitRequest, channels: Mapping[str, int], label: str, warning: str | None = None
) -> tuple[UnitRequest, str | None]:
    """The request settled against a model whose layers with maps are ``channels`` (path → channel count,
    in order, at least one): a layer it lacks becomes its first, a channel past the last becomes the last,
    each with the sentence that says so (else ``warning`` is kept)."""
    layer, channel = request.layer, request.channel
    if layer not in channels:
        warning = f"{plain(layer)} is not a layer with maps in {plain(label)}; showing its first one."
        layer, channel = next(iter(channels)), 0
    c = int(channels[layer])
    if channel >= c:
        warning = f"{layer} has channels 0 to {c - 1}; showing channel {c - 1}."
        channel = c - 1
    return UnitRequest(layer, channel, request.kind), warning
