"""The Train page's settings as one frozen :class:`TrainState`, and the pure functions from it to a run's
settings and a share link.

The settings live in their widgets (every one is drawn on each run of the page, except the shape picker
while another source is chosen, and Streamlit keeps those); :func:`from_session` reads them into a state,
:func:`link_changes` turns a share link into widget values, :func:`share_query` and :func:`settings` turn a
state into what the page shows and what a run is asked to do. None of them reads session state by itself:
they take what they need as arguments, so a test can call them with a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cnn_core import learn, shapes_data
from cnn_core.errors import CnnError
from ui.common.fields import from_widgets, whole
from ui.train import jobs, keys

SHAPES, OWN, ZIP = "Generated shapes", "Your own classes", "A ZIP of class folders"
SOURCES = (SHAPES, OWN, ZIP)
ARCHS = {"tiny_vgg": "Tiny VGG", "stack": "The Layer stack + a dense head"}
RATES = (1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2)
MIN_PER_SHAPE, MAX_PER_SHAPE = 10, 500
MAX_SEED = 2**31 - 1
DEFAULT_SHAPES = tuple(shapes_data.CLASSES[:3])


@dataclass(frozen=True)
class TrainState:
    """The page's settings: what to train on, the network and the run. Refuses values the controls can't
    show, with a CnnError naming the field."""

    source: str = SHAPES
    shapes: tuple[str, ...] = DEFAULT_SHAPES  # the generated classes (with SHAPES)
    per_class: int = 100  # generated pictures per class (with SHAPES)
    arch: str = "tiny_vgg"  # a key of ARCHS
    epochs: int = 5
    rate: float = 2e-3  # one of RATES
    seed: int = 0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise CnnError(f"the data source must be one of {', '.join(SOURCES)}; got {self.source!r}", "source")
        unknown = [c for c in self.shapes if c not in shapes_data.CLASSES]
        if unknown:
            raise CnnError(
                f"{unknown[0]!r} is no shape class; the classes are {', '.join(shapes_data.CLASSES)}", "shapes"
            )
        whole("per_class", self.per_class, MIN_PER_SHAPE, MAX_PER_SHAPE)
        if self.arch not in ARCHS:
            raise CnnError(f"the architecture must be one of {', '.join(ARCHS)}; got {self.arch!r}", "arch")
        whole("epochs", self.epochs, 1, jobs.MAX_EPOCHS)
        if self.rate not in RATES:
            raise CnnError(f"the learning rate must be one of {', '.join(map(str, RATES))}; got {self.rate}", "rate")
        whole("seed", self.seed, 0, MAX_SEED)


# Which widget holds each field of the state.
WIDGETS = {
    "source": keys.SOURCE,
    "shapes": keys.SHAPES,
    "per_class": keys.PER_CLASS,
    "arch": keys.ARCH,
    "epochs": keys.EPOCHS,
    "rate": keys.RATE,
    "seed": keys.SEED,
}


def from_session(values: Mapping[str, object]) -> TrainState:
    """The state the widgets in ``values`` (session state, or any mapping of widget keys) hold; a widget
    not drawn yet counts as its default."""
    return from_widgets(_made, WIDGETS, values)


def _made(**fields: object) -> TrainState:
    if "shapes" in fields:  # the multiselect hands back a list
        fields["shapes"] = tuple(fields["shapes"])
    return TrainState(**fields)


def link_changes(query: Mapping[str, str]) -> tuple[dict[str, object], str]:
    """What a share link (``?data=shapes:circle,star&arch=tiny_vgg&seed=0&epochs=5&per_class=100``) sets:
    widget key → value, each clamped to what its control allows, and the sentence to show when a number in
    it is not a whole number (the settings after that one are then left at their defaults)."""
    out: dict[str, object] = {}
    data = query.get("data", "")
    if data.startswith("shapes:"):
        out[keys.SOURCE] = SHAPES
        out[keys.SHAPES] = [c for c in data[7:].split(",") if c in shapes_data.CLASSES]
    elif data == "own":
        out[keys.SOURCE] = OWN
    elif data == "zip":
        out[keys.SOURCE] = ZIP
    if query.get("arch") in ARCHS:
        out[keys.ARCH] = query["arch"]
    try:
        if "seed" in query:
            out[keys.SEED] = max(0, int(query["seed"]))
        if "epochs" in query:
            out[keys.EPOCHS] = min(max(1, int(query["epochs"])), jobs.MAX_EPOCHS)
        if "per_class" in query:
            out[keys.PER_CLASS] = min(max(MIN_PER_SHAPE, int(query["per_class"])), MAX_PER_SHAPE)
    except ValueError:
        return out, "The link's seed, epochs or picture count is not a whole number; the defaults are used."
    return out, ""


def share_query(s: TrainState) -> str:
    """The query string that repeats this state's choices (the pictures a user made don't travel)."""
    data = "shapes:" + ",".join(s.shapes) if s.source == SHAPES else ("own" if s.source == OWN else "zip")
    extra = f"&per_class={s.per_class}" if s.source == SHAPES else ""
    return f"?data={data}&arch={s.arch}&seed={s.seed}&epochs={s.epochs}{extra}"


def settings(s: TrainState, stack_spec: dict | None) -> learn.Settings:
    """What a run of this state is asked to do; ``stack_spec`` is the Layer stack's spec (used with "stack")."""
    return learn.Settings(s.epochs, s.rate, s.seed, s.arch, stack_spec)
