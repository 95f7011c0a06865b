"""The Layer stack page's state as one typed value, the pure functions that change it, and the callbacks.

``StackState`` is the page: the stack (a parsed ``Spec``), the layers' stable ids (the file format has no room
for them; they key a layer's widgets, so a layer keeps them when another moves), which layer is open, which
map is enlarged, the starting point and the last id handed out. The functions below (``loaded``, ``added``,
``edited``, ...) take a state and give a new one, without Streamlit; ``read`` and ``write`` move it in and
out of session state (any mapping: the tests use a dict) under the keys of ``ui/stack/keys.py``. The spec a
state runs, shares and saves is ``state.spec``: links and files hold only that, so they are unchanged.

Every widget is drawn from the state (its session value is set just before it is drawn) and writes back
through a callback, so loading a file, a starting point or a link only has to replace the state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, replace

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnn_core.errors import SpecError
from cnn_core.spec import MAX_LAYERS, InputSpec, Layer, Spec, parse_spec
from ui.common import paint_first
from ui.common.fields import show as show_value
from ui.stack import edits, keys

P = keys.P
# The names other modules import (ui/stack/maps.py); keys.py makes them.
SPEC_KEY, IDS_KEY, OPEN_KEY, FOCUS_KEY, STARTER_KEY = keys.SPEC, keys.IDS, keys.OPEN, keys.FOCUS, keys.STARTER

ss = st.session_state


@dataclass(frozen=True)
class StackState:
    """The Layer stack page.

    Attributes:
        spec: the stack, valid (every change is checked by parsing it again).
        ids: one stable id per layer, in order ("L1", "L2", ...).
        open: the id of the layer whose settings are shown, or None.
        focus: (stage id, channel) of the enlarged map, or None.
        starter: the starting point the stack was loaded from, or None.
        next_id: the number of the last id handed out (the next is "L{next_id + 1}").
    """

    spec: Spec
    ids: tuple[str, ...]
    open: str | None = None
    focus: tuple | None = None
    starter: str | None = None
    next_id: int = 0


# --------------------------------------------------------------------------- pure: state -> state


def _new_ids(next_id: int, n: int) -> tuple[tuple[str, ...], int]:
    return tuple(f"L{next_id + k + 1}" for k in range(n)), next_id + n


def loaded(spec: Spec | dict | str, starter: str | None = None, next_id: int = 0) -> StackState:
    """A fresh state for a whole new stack (a file, a starting point, a link); raises SpecError if invalid."""
    spec = parse_spec(spec)
    ids, next_id = _new_ids(next_id, len(spec.layers))
    return StackState(spec, ids, None, None, starter, next_id)


def _checked(state: StackState, spec: Spec, ids: tuple[str, ...] | None = None) -> StackState:
    spec = parse_spec(spec.to_dict())  # the stack stays a valid spec whatever an edit did
    return replace(state, spec=spec, ids=state.ids if ids is None else ids)


def edited(state: StackState, lid: str, change: Callable[[Layer], Layer]) -> StackState:
    """``change`` applied to the layer with id ``lid`` (the state as it is for an id no longer there).

    Raises:
        SpecError: when the changed layer is not a valid layer.
    """
    if lid not in state.ids:
        return state
    i = state.ids.index(lid)
    layers = list(state.spec.layers)
    layers[i] = change(layers[i])
    return _checked(state, replace(state.spec, layers=tuple(layers)))


def input_edited(state: StackState, change: Callable[[InputSpec], InputSpec]) -> StackState:
    """``change`` applied to the spec's input; raises SpecError when the result is not valid."""
    return _checked(state, replace(state.spec, input=change(state.spec.input)))


def _restacked(state: StackState, layers: list, ids: list[str]) -> StackState:
    if len(layers) > MAX_LAYERS:
        return state
    return _checked(state, replace(state.spec, layers=tuple(layers)), tuple(ids))


def added(state: StackState, kind: str) -> StackState:
    """A new layer of ``kind`` at the end, open (the state as it is when the stack is full)."""
    (lid,), next_id = _new_ids(state.next_id, 1)
    done = _restacked(state, [*state.spec.layers, edits.new_layer(kind)], [*state.ids, lid])
    return state if done is state else replace(done, open=lid, next_id=next_id)


def removed(state: StackState, lid: str) -> StackState:
    if lid not in state.ids:
        return state
    i = state.ids.index(lid)
    layers, ids = list(state.spec.layers), list(state.ids)
    del layers[i], ids[i]
    done = _restacked(state, layers, ids)
    return replace(done, open=None) if state.open == lid else done


def duplicated(state: StackState, lid: str) -> StackState:
    """A copy of layer ``lid`` right after it, open (the state as it is when the stack is full)."""
    if lid not in state.ids:
        return state
    i = state.ids.index(lid)
    (new,), next_id = _new_ids(state.next_id, 1)
    layers, ids = list(state.spec.layers), list(state.ids)
    layers.insert(i + 1, layers[i])
    ids.insert(i + 1, new)
    done = _restacked(state, layers, ids)
    return state if done is state else replace(done, open=new, next_id=next_id)


def moved(state: StackState, lid: str, delta: int) -> StackState:
    if lid not in state.ids:
        return state
    i = state.ids.index(lid)
    return _restacked(state, edits.moved(list(state.spec.layers), i, delta), edits.moved(list(state.ids), i, delta))


def toggled(state: StackState, lid: str) -> StackState:
    """Layer ``lid``'s settings opened, or closed when they were open."""
    return replace(state, open=None if state.open == lid else lid)


# --------------------------------------------------------------------------- session state <-> StackState


def read(store: Mapping) -> StackState:
    """The state held in ``store`` (session state). Raises SpecError if something stored a broken spec.

    Ids out of step with the layers (a stack set from outside, as the benchmarks do) are replaced by new ones.
    """
    spec = parse_spec(store[keys.SPEC])
    ids, next_id = store.get(keys.IDS), int(store.get(keys.NEXT_ID, 0) or 0)
    if not isinstance(ids, list | tuple) or len(ids) != len(spec.layers):
        ids, next_id = _new_ids(next_id, len(spec.layers))
    return StackState(spec, tuple(ids), store.get(keys.OPEN), store.get(keys.FOCUS), store.get(keys.STARTER), next_id)


def write(store: MutableMapping, state: StackState) -> None:
    """Hold ``state`` in ``store``: the spec as its canonical dict, the ids as a list."""
    store[keys.SPEC] = state.spec.to_dict()
    store[keys.IDS] = list(state.ids)
    store[keys.OPEN] = state.open
    store[keys.FOCUS] = state.focus
    store[keys.STARTER] = state.starter
    store[keys.NEXT_ID] = state.next_id


def current() -> StackState:
    """The page's state now (new ids are kept, so they stay the same on the next run)."""
    state = read(ss)
    if list(state.ids) != ss.get(keys.IDS):
        write(ss, state)
    return state


def load_spec(spec: Spec | dict | str, starter: str | None = None) -> None:
    """Replace the whole stack (a file, a starting point, a link). Raises SpecError if it isn't valid."""
    write(ss, loaded(spec, starter, int(ss.get(keys.NEXT_ID, 0) or 0)))


def current_spec() -> Spec:
    """The stack as a parsed spec; raises SpecError if something stored a broken dict."""
    return current().spec


def layer_ids(spec: Spec) -> list[str]:
    """Stable ids of the layers of ``spec`` (the current stack), in order; new ones if the list got out of step."""
    ids = ss.get(keys.IDS)
    if isinstance(ids, list) and len(ids) == len(spec.layers):
        return list(ids)
    return list(current().ids)


# --------------------------------------------------------------------------- callbacks


def edit(lid: str, change: Callable[[Layer], Layer]) -> None:
    """Apply ``change`` to the layer with id ``lid``; a refused edit becomes the layer's note."""
    state = current()
    if lid not in state.ids:
        return
    try:
        write(ss, edited(state, lid, change))
        ss[keys.note(lid)] = None
    except SpecError as e:
        ss[keys.note(lid)] = e.detail


def rerun_parts(parts: tuple[str, ...]) -> None:
    """From a callback: rerun the page's parts named (their ``@st.fragment`` keys, ui/stack/keys.py) instead of
    the widget's default rerun; the whole page if one of them isn't on it (e.g. no photo, so no preview)."""
    try:
        st.rerun(list(parts))
    except StreamlitAPIException:
        st.rerun()


def edit_and_show(lid: str, change: Callable[[Layer], Layer]) -> None:
    """Callback: ``edit``, then redraw every part that shows the stack."""
    edit(lid, change)
    rerun_parts(keys.EDIT_PARTS)


def edit_input(change: Callable[[InputSpec], InputSpec]) -> None:
    """Callback: apply ``change`` to the spec's input; a refused edit becomes the input's note."""
    try:
        write(ss, input_edited(current(), change))
    except SpecError as e:
        ss[keys.INPUT_NOTE] = e.detail


def _changed(lid: str | None, key: str, setter, parts: tuple[str, ...] | None) -> None:
    if lid is None:  # the input's controls are in the sidebar, outside the parts: the whole page reruns
        edit_input(lambda i: setter(i, ss[key]))
        return
    had_note = ss.get(keys.note(lid)) is not None
    edit(lid, lambda L: setter(L, ss[key]))
    # A refused edit, or the first accepted one after it, changes the note the editor shows: redraw it too.
    quiet = not had_note and ss.get(keys.note(lid)) is None
    if parts == keys.WEIGHT_PARTS and quiet:
        paint_first.note_step(keys.WEIGHT_STEP)
    rerun_parts(parts if parts and quiet else keys.EDIT_PARTS)


def draw(widget, key: str, value, lid: str | None, setter, *args, parts: tuple[str, ...] | None = None, **kwargs):
    """Draw a widget showing ``value`` (from the spec); a change calls ``setter(layer, new_value)`` for the
    layer with id ``lid`` (``setter(input, new_value)`` for the input when ``lid`` is None).

    A layer's change then reruns every part of the page that shows the stack, or only ``parts`` when the
    caller knows that nothing else on the page says anything different after it (a weight's slider)."""
    show_value(ss, key, value)
    return widget(*args, key=key, on_change=_changed, args=(lid, key, setter, parts), **kwargs)


# --------------------------------------------------------------------------- whole-stack actions


def add(kind: str) -> None:
    """Callback: append a new layer of ``kind`` and open it."""
    write(ss, added(current(), kind))
    rerun_parts(keys.EDIT_PARTS)


def remove(lid: str) -> None:
    write(ss, removed(current(), lid))
    rerun_parts(keys.EDIT_PARTS)


def duplicate(lid: str) -> None:
    write(ss, duplicated(current(), lid))
    rerun_parts(keys.EDIT_PARTS)


def move(lid: str, delta: int) -> None:
    write(ss, moved(current(), lid, delta))
    rerun_parts(keys.EDIT_PARTS)


def toggle_open(lid: str) -> None:
    """Callback: open or close a layer's settings (the editor's own rerun: the maps don't change)."""
    write(ss, toggled(current(), lid))


def pair_inputs(lid: str, name: str, label: str, pair: tuple[int, int], hi: int, setter) -> None:
    """Two number inputs (height, width) for a pair setting such as stride or dilation; a change calls
    ``setter(layer, (height, width))``."""
    k = keys.layer(lid, name)
    c1, c2 = st.columns(2)
    with c1:
        draw(st.number_input, f"{k}_h", pair[0], lid, lambda L, v: setter(L, (int(v), getattr(L, name)[1])),
             f"{label} ↓", 1, hi)  # fmt: skip
    with c2:
        draw(st.number_input, f"{k}_w", pair[1], lid, lambda L, v: setter(L, (getattr(L, name)[0], int(v))),
             f"{label} →", 1, hi)  # fmt: skip
