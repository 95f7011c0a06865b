"""The Train page's controls, the live view of a run, and the hand-over of its model."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from cnn_core import class_folders, drawing, learn, shapes_data
from cnn_core.errors import CnnError, ImageError
from ui.train import jobs, keys, state
from ui.train.state import ARCHS, MAX_PER_SHAPE, OWN, SHAPES, ZIP

P = keys.P
JOB_KEY = keys.JOB
MODEL_KEY = keys.MODEL  # (file name, .keras bytes, class names): read by ui/model/source.py
ss = st.session_state


@dataclass
class Choice:
    data: class_folders.ClassData | None
    settings: learn.Settings | None
    problem: str = ""


def _from_link() -> None:
    """Fill the controls once from a share link: ?data=shapes:circle,star&arch=tiny_vgg&seed=0&epochs=5."""
    if ss.get(keys.LINKED):
        return
    ss[keys.LINKED] = True
    changes, problem = state.link_changes(st.query_params)
    ss.update(changes)
    if problem:
        st.warning(problem)


@st.cache_data(max_entries=4, show_spinner="Drawing the shapes…")
def _shapes(classes: tuple[str, ...], per_class: int, seed: int) -> class_folders.ClassData:
    return learn.shapes(classes, per_class * len(classes), seed)


@st.cache_data(max_entries=2, show_spinner="Reading the ZIP…")
def _zip(data: bytes) -> class_folders.ClassData:
    return class_folders.read_zip(data)


def controls() -> tuple[Choice, str]:
    """The data, architecture and settings controls; returns the choice and the share query."""
    _from_link()
    st.subheader("1. The data")
    source = st.radio("Train on", [SHAPES, OWN, ZIP], key=keys.SOURCE, horizontal=True)
    data, problem, shapes, per_class = None, "", list(state.DEFAULT_SHAPES), 100
    if source == SHAPES:
        ss.setdefault(keys.SHAPES, list(state.DEFAULT_SHAPES))
        shapes = st.multiselect("Classes", list(shapes_data.CLASSES), key=keys.SHAPES)
        per_class = st.slider("Pictures per class", state.MIN_PER_SHAPE, MAX_PER_SHAPE, 100, 10, key=keys.PER_CLASS)
        if len(shapes) < 2:
            problem = "Pick at least 2 shape classes."
        else:
            data = _shapes(tuple(shapes), per_class, int(ss.get(keys.SEED, 0)))
    elif source == OWN:
        data, problem = _own_classes()
    else:
        up = st.file_uploader("ZIP with one folder of pictures per class", type=["zip"], key=keys.ZIP)
        if up is None:
            problem = "Upload a ZIP of class folders (e.g. cats/1.jpg, dogs/1.jpg)."
        else:
            try:
                data = _zip(up.getvalue())
            except CnnError as e:
                problem = str(e)
    if data is not None:
        st.caption(data.summary())
    st.subheader("2. The network and the run")
    c1, c2, c3, c4 = st.columns(4)
    arch = c1.selectbox("Architecture", list(ARCHS), format_func=ARCHS.get, key=keys.ARCH)
    epochs = c2.number_input("Epochs", 1, jobs.MAX_EPOCHS, 5, key=keys.EPOCHS)
    rate = c3.select_slider("Learning rate", list(state.RATES), 2e-3, key=keys.RATE)
    seed = c4.number_input("Seed", 0, state.MAX_SEED, 0, key=keys.SEED)
    spec = None
    if arch == "stack":
        from ui.stack.state import SPEC_KEY

        spec = ss.get(SPEC_KEY)
        st.caption(
            "The Layer stack's layers are trained from fresh random weights (its preset kernels are not kept), "
            "at 64×64 RGB, with a dense layer and softmax added on top."
            if spec
            else "Build a stack on the Layer stack page first."
        )
        if not spec:
            problem = problem or "The Layer stack is empty; build one on the Layer stack page."
    chosen = state.TrainState(source, tuple(shapes), per_class, arch, int(epochs), float(rate), int(seed))
    settings, query = state.settings(chosen, spec), state.share_query(chosen)
    if data is not None and len(data.labels) > class_folders.MAX_PICTURES:
        problem = f"At most {class_folders.MAX_PICTURES:,} pictures can be used in one run."
    return Choice(data, settings, problem), query


def _own_classes() -> tuple[class_folders.ClassData | None, str]:
    n = int(st.number_input("How many classes", 2, 6, 2, key=keys.NCLASSES))
    st.caption(
        "At least 10 pictures a class, uploaded, photographed or drawn; augmentation (turns, zooms, shifts, "
        "mirror images, brightness) makes up the rest."
    )
    files: dict[str, list[bytes]] = {}
    names: list[str] = []
    cols = st.columns(n)
    for i, col in enumerate(cols):
        name = (
            col.text_input(f"Class {i + 1}", f"class {i + 1}", key=keys.class_widget("name", i)).strip()
            or f"class {i + 1}"
        )
        names.append(name)
        ups = col.file_uploader(
            "Pictures",
            accept_multiple_files=True,
            key=keys.class_widget("up", i),
            type=[e for e in ("png", "jpg", "jpeg", "webp", "bmp", "gif")],
        )
        shots = ss.setdefault(keys.shots(i), [])
        if col.toggle("Camera", key=keys.class_widget("cam_on", i)):
            shot = col.camera_input("Take a photo", key=keys.class_widget("cam", i))
            if shot is not None and shot.file_id not in {s[0] for s in shots}:
                shots.append((shot.file_id, shot.getvalue()))
        files[name] = [u.getvalue() for u in ups or []] + [s[1] for s in shots]
        drawn = sum(1 for s in shots if s[0].startswith(DRAWN))
        made = f" ({drawn} drawn)" if drawn else ""
        col.caption(f"{len(files[name])} pictures{made}")
    _draw_into_a_class(names)
    if len(files) < n:
        return None, "Give every class a different name."
    short = [k for k, v in files.items() if len(v) < 10]
    if short:
        return None, f"Class {short[0]!r} has {len(files[short[0]])} pictures; every class needs at least 10."
    try:
        return class_folders.from_files(files), ""
    except CnnError as e:
        return None, str(e)


DRAWN = "drawn:"  # the id prefix of a drawing among a class's photos and drawings (``keys.shots(i)``)
DRAW_SIDE = 256


def _add_drawing(i: int) -> None:
    """Button callback: the canvas's last picture joins class ``i`` as a PNG, and the canvas starts blank."""
    rgba = ss.get(keys.DRAWING_NOW)
    if rgba is None:
        return
    try:
        rgb = drawing.picture_from_drawing(rgba)
    except ImageError as e:
        ss[keys.DRAWING_NOTE] = f"{e.detail[0].upper()}{e.detail[1:]}."
        return
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    shots = ss.setdefault(keys.shots(i), [])
    shots.append((f"{DRAWN}{len(shots)}", buf.getvalue()))
    ss[keys.CANVAS_N] = ss.get(keys.CANVAS_N, 0) + 1  # a new key: a blank canvas for the next drawing
    ss[keys.DRAWING_NOW] = None


def _undo_drawing(i: int) -> None:
    shots = ss.get(keys.shots(i), [])
    for j in range(len(shots) - 1, -1, -1):
        if shots[j][0].startswith(DRAWN):
            del shots[j]
            return


def _draw_into_a_class(names: list[str]) -> None:
    """A canvas whose drawings are added, one at a time, to the class picked beside it."""
    from ui.common.canvas import drawing_canvas

    if not st.toggle("Draw pictures for a class", key=keys.DRAW_ON):
        return
    c_canvas, c_side = st.columns([1, 2])
    with c_canvas:
        ss[keys.DRAWING_NOW] = drawing_canvas(
            keys.canvas(ss.get(keys.CANVAS_N, 0)),
            width=DRAW_SIDE,
            height=DRAW_SIDE,
            stroke_width=int(ss.get(keys.DRAW_PEN, 16)),
        )
    i = c_side.selectbox("Add to", range(len(names)), format_func=lambda k: names[k], key=keys.DRAW_CLASS)
    c_side.slider("Pen", 2, 40, 16, key=keys.DRAW_PEN)
    b1, b2 = c_side.columns(2)
    b1.button("Add this drawing", key=keys.DRAW_ADD, on_click=_add_drawing, args=(i,), type="primary")
    b2.button("Remove the last drawing", key=keys.DRAW_UNDO, on_click=_undo_drawing, args=(i,))
    note = ss.pop(keys.DRAWING_NOTE, None)
    if note:
        c_side.info(note)
    c_side.caption(
        "Each drawing is added as a picture of the canvas (black ink on white), cropped to its ink and brought "
        "to 64×64 like every picture of a class, and the canvas starts blank again. Drawings stay in this visit only."
    )


def _start(choice: Choice) -> None:
    ss[JOB_KEY] = jobs.start(choice.data, choice.settings, choice.data.images[_probe_index(choice.data)])
    ss.pop(MODEL_KEY, None)


def buttons(choice: Choice) -> None:
    """Train, Pause, Resume, Stop: callbacks, so the buttons' states are right on the same rerun."""
    job: jobs.Job | None = ss.get(JOB_KEY)
    busy = job is not None and not job.finished
    paused = busy and job.control.paused
    c1, c2, c3, c4 = st.columns(4)
    c1.button(
        "Train",
        type="primary",
        disabled=busy or bool(choice.problem),
        key=keys.TRAIN,
        on_click=_start,
        args=(choice,),
    )
    c2.button("Pause", disabled=not busy or paused, key=keys.PAUSE, on_click=job.control.pause if busy else None)
    c3.button("Resume", disabled=not paused, key=keys.RESUME, on_click=job.control.resume if busy else None)
    c4.button("Stop", disabled=not busy, key=keys.STOP, on_click=job.control.stop if busy else None)
    if choice.problem:
        st.info(choice.problem)


def _probe_index(data: class_folders.ClassData) -> int:
    return int(np.flatnonzero(data.labels == 0)[0])


def _polls(job: jobs.Job | None) -> bool:
    return job is not None and not job.finished


def live(choice: Choice) -> None:
    """The buttons, progress, curves, filters, maps, and the results once it is done; a fragment that polls
    the worker every second only while a run is going. A timer left running after the run ends kept asking
    for reruns of a fragment the next page (Open in Your model) doesn't have."""
    polling = _polls(ss.get(JOB_KEY))
    st.fragment(run_every=1.0 if polling else None)(_live)(choice, polling)


def _live(choice: Choice, polling: bool) -> None:
    job: jobs.Job | None = ss.get(JOB_KEY)
    if _polls(job) != polling:
        st.rerun()  # a run started or ended: the whole page again, so the fragment polls or stops polling
    buttons(choice)
    if job is None:
        return
    job.seen()
    if job.state == "queued":
        st.info(f"Waiting for a free trainer: place {job.position} in the queue ({jobs.MAX_AT_ONCE} run at a time).")
        return
    done_epochs = len(job.snapshots)
    total = job.settings.epochs
    part = job.batch[0] / max(job.batch[1], 1) if not job.finished else 0
    st.progress(
        min((done_epochs + part) / total, 1.0),
        text=f"{job.state}: epoch {done_epochs}/{total}, {job.cpu_seconds:.0f} of {jobs.MAX_CPU_SECONDS} CPU s"
        + (f" — {job.message}" if job.message else ""),
    )
    if job.state == "failed":
        st.error(job.message)
        return
    if not job.snapshots:
        return
    rows = [s.epoch for s in job.snapshots]
    df = pd.DataFrame(
        {
            "epoch": [e.epoch for e in rows],
            "train loss": [e.loss for e in rows],
            "held-out loss": [e.val_loss for e in rows],
            "train accuracy": [e.accuracy for e in rows],
            "held-out accuracy": [e.val_accuracy for e in rows],
        }
    ).set_index("epoch")
    c1, c2 = st.columns(2)
    c1.markdown("**Loss**")
    c1.line_chart(df[["train loss", "held-out loss"]], height=220)
    c2.markdown("**Accuracy**")
    c2.line_chart(df[["train accuracy", "held-out accuracy"]], height=220)
    last = rows[-1]
    with st.container(key=keys.LATEST):
        st.caption(
            f"After epoch {last.epoch}: training loss {last.loss:.4f}, accuracy {last.accuracy:.1%}; "
            f"held-out loss {last.val_loss:.4f}, accuracy {last.val_accuracy:.1%}."
        )
    at = done_epochs
    if done_epochs > 1:
        at = st.slider("Epoch to show", 1, done_epochs, done_epochs, key=keys.scrub(done_epochs))
    snap = job.snapshots[at - 1]
    st.markdown(f"**First layer's filters after epoch {at}** (each stretched to its own range)")
    with st.container(key=keys.FILTERS):
        st.image(snap.filters_png)
    st.markdown(f"**The first held-out-class picture's maps after epoch {at}** (first 8 maps of each layer)")
    c_pic, c_maps = st.columns([1, 6])
    c_pic.image(job.probe, caption="the picture", width=96)
    for name, grid in snap.maps:
        c_maps.image(grid, caption=name, clamp=True, width=min(grid.shape[1] * 2, 900))
    if job.finished:
        results(job)


def results(job: jobs.Job) -> None:
    """The confusion matrix, the pictures it gets wrong, the downloads and the hand-over."""
    names = list(job.data.names)
    if job.confusion is not None:
        st.markdown("**Confusion on held-out pictures** (rows: true class, columns: predicted)")
        st.dataframe(pd.DataFrame(job.confusion, index=names, columns=names))
        if job.wrong:
            st.markdown(f"**Held-out pictures it gets wrong** (first {len(job.wrong)})")
            cols = st.columns(6)
            for i, (pic, true, said) in enumerate(job.wrong):
                cols[i % 6].image(pic, caption=f"{true} → {said}", width=80)
        else:
            st.success("It gets every held-out picture right.")
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Filters GIF", jobs.filters_gif(job), "filters.gif", "image/gif", key=keys.GIF)
    c2.download_button("History ZIP", jobs.history_zip(job), "history.zip", "application/zip", key=keys.HISTORY)
    if job.model_bytes is not None:
        c3.download_button("Model .keras", job.model_bytes, "trained.keras", key=keys.KERAS)
        if c4.button("Open in Your model", key=keys.OPEN):
            from ui.model import keys as model_keys
            from ui.model.state import TRAINED

            ss[MODEL_KEY] = ("trained.keras", job.model_bytes, tuple(names))
            ss[model_keys.MODEL_SOURCE] = TRAINED
            st.switch_page("views/your_model.py")


def caps_text() -> str:
    return (
        f"Budget: at most {class_folders.MAX_PICTURES:,} pictures, {jobs.MAX_EPOCHS} epochs and "
        f"{jobs.MAX_CPU_SECONDS} CPU seconds of training per run; one run per session; {jobs.MAX_AT_ONCE} run at a "
        f"time on this server, others queue. A run stops when Stop is pressed or {jobs.HEARTBEAT_S} s after its tab "
        "closes; what was shown is kept. 20% of each class is held out to check it."
    )
