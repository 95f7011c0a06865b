"""The layer stack's session state and the callbacks that change it.

The spec dict under ``SPEC_KEY`` is the only copy of the stack. Every widget is
drawn from it (its session value is set just before it is drawn) and writes back
through a callback, so loading a file, a starting point or a link only has to
replace that dict. Layers carry stable ids (a list beside the spec, since the
file format has no room for them) that key the few bits of view state a layer
owns: whether it is open, which filter and channel are being edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from cnn_core.errors import SpecError
from cnn_core.spec import MAX_LAYERS, InputSpec, Layer, Spec, parse_spec
from ui.stack import edits

P = "ls"  # widget-key prefix of the layer stack page
SPEC_KEY = f"{P}_spec"
IDS_KEY = f"{P}_ids"
OPEN_KEY = f"{P}_open"
FOCUS_KEY = f"{P}_focus"
STARTER_KEY = f"{P}_starter"

ss = st.session_state


def load_spec(spec: Spec | dict | str, starter: str | None = None) -> None:
    """Replace the whole stack (a file, a starting point, a link). Raises SpecError if it isn't valid."""
    spec = parse_spec(spec)
    ss[SPEC_KEY] = spec.to_dict()
    ss[IDS_KEY] = [_new_id() for _ in spec.layers]
    ss[OPEN_KEY] = None
    ss[FOCUS_KEY] = None
    ss[STARTER_KEY] = starter


def current_spec() -> Spec:
    """The stack as a parsed spec; raises SpecError if something stored a broken dict."""
    return parse_spec(ss[SPEC_KEY])


def layer_ids(spec: Spec) -> list[str]:
    """Stable ids of the layers, in order (new ones if the list got out of step with the spec)."""
    ids = ss.get(IDS_KEY)
    if not isinstance(ids, list) or len(ids) != len(spec.layers):
        ids = ss[IDS_KEY] = [_new_id() for _ in spec.layers]
    return ids


def _new_id() -> str:
    n = ss.get(f"{P}_next_id", 0) + 1
    ss[f"{P}_next_id"] = n
    return f"L{n}"


def _store(spec: Spec, ids: list[str] | None = None) -> None:
    spec = parse_spec(spec.to_dict())  # keep the stored dict valid whatever an edit did
    ss[SPEC_KEY] = spec.to_dict()
    if ids is not None:
        ss[IDS_KEY] = ids


def edit(lid: str, change: Callable[[Layer], Layer]) -> None:
    """Callback: apply ``change`` to the layer with id ``lid``; a refused edit becomes the layer's note."""
    spec = current_spec()
    ids = layer_ids(spec)
    if lid not in ids:
        return
    i = ids.index(lid)
    layers = list(spec.layers)
    try:
        layers[i] = change(layers[i])
        _store(replace(spec, layers=tuple(layers)))
        ss[f"{P}_{lid}_note"] = None
    except SpecError as e:
        ss[f"{P}_{lid}_note"] = e.detail


def edit_input(change: Callable[[InputSpec], InputSpec]) -> None:
    """Callback: apply ``change`` to the spec's input; a refused edit becomes the input's note."""
    spec = current_spec()
    try:
        _store(replace(spec, input=change(spec.input)))
    except SpecError as e:
        ss[f"{P}_input_note"] = e.detail


def _changed(lid: str | None, key: str, setter) -> None:
    if lid is None:
        edit_input(lambda i: setter(i, ss[key]))
    else:
        edit(lid, lambda L: setter(L, ss[key]))


def draw(widget, key: str, value, lid: str | None, setter, *args, **kwargs):
    """Draw a widget showing ``value`` (from the spec); a change calls ``setter(layer, new_value)`` for the
    layer with id ``lid`` (``setter(input, new_value)`` for the input when ``lid`` is None)."""
    ss[key] = value
    return widget(*args, key=key, on_change=_changed, args=(lid, key, setter), **kwargs)


# --------------------------------------------------------------------------- whole-stack actions


def _restack(change: Callable[[list, list[str]], tuple[list, list[str]] | None]) -> None:
    """Apply ``change`` to the layer list and its ids together (None leaves them as they are)."""
    spec = current_spec()
    done = change(list(spec.layers), list(layer_ids(spec)))
    if done is not None and len(done[0]) <= MAX_LAYERS:
        _store(replace(spec, layers=tuple(done[0])), done[1])


def add(kind: str) -> None:
    """Callback: append a new layer of ``kind`` and open it."""
    lid = _new_id()
    _restack(lambda layers, ids: ([*layers, edits.new_layer(kind)], [*ids, lid]))
    ss[OPEN_KEY] = lid


def _at(lid: str, change: Callable[[list, list[str], int], tuple[list, list[str]]]):
    """A restack change that applies to the layer ``lid`` and ignores a click on a layer already gone."""
    return lambda layers, ids: change(layers, ids, ids.index(lid)) if lid in ids else None


def remove(lid: str) -> None:
    _restack(_at(lid, lambda layers, ids, i: (layers[:i] + layers[i + 1 :], ids[:i] + ids[i + 1 :])))
    if ss.get(OPEN_KEY) == lid:
        ss[OPEN_KEY] = None


def duplicate(lid: str) -> None:
    new = _new_id()
    _restack(
        _at(
            lid,
            lambda layers, ids, i: (
                layers[: i + 1] + [layers[i]] + layers[i + 1 :],
                ids[: i + 1] + [new] + ids[i + 1 :],
            ),
        )
    )
    if new in ss[IDS_KEY]:
        ss[OPEN_KEY] = new


def move(lid: str, delta: int) -> None:
    _restack(_at(lid, lambda layers, ids, i: (edits.moved(layers, i, delta), edits.moved(ids, i, delta))))


def toggle_open(lid: str) -> None:
    ss[OPEN_KEY] = None if ss.get(OPEN_KEY) == lid else lid


def pair_inputs(lid: str, name: str, label: str, pair: tuple[int, int], hi: int, setter) -> None:
    """Two number inputs (height, width) for a pair setting such as stride or dilation; a change calls
    ``setter(layer, (height, width))``."""
    k = f"{P}_{lid}_{name}"
    c1, c2 = st.columns(2)
    with c1:
        draw(st.number_input, f"{k}_h", pair[0], lid, lambda L, v: setter(L, (int(v), getattr(L, name)[1])),
             f"{label} ↓", 1, hi)  # fmt: skip
    with c2:
        draw(st.number_input, f"{k}_w", pair[1], lid, lambda L, v: setter(L, (getattr(L, name)[0], int(v))),
             f"{label} →", 1, hi)  # fmt: skip
