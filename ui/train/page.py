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
from ui.train import jobs

P = "tr"
JOB_KEY = f"{P}_job"
MODEL_KEY = f"{P}_model"  # (file name, .keras bytes, class names): read by ui/model/source.py
SHAPES, OWN, ZIP = "Generated shapes", "Your own classes", "A ZIP of class folders"
ARCHS = {"tiny_vgg": "Tiny VGG", "stack": "The Layer stack + a dense head"}
MAX_PER_SHAPE = 500
ss = st.session_state


@dataclass
class Choice:
    data: class_folders.ClassData | None
    settings: learn.Settings | None
    problem: str = ""


def _from_link() -> None:
    """Fill the controls once from a share link: ?data=shapes:circle,star&arch=tiny_vgg&seed=0&epochs=5."""
    if ss.get(f"{P}_linked"):
        return
    ss[f"{P}_linked"] = True
    q = st.query_params
    try:
        if q.get("data", "").startswith("shapes:"):
            ss[f"{P}_source"] = SHAPES
            ss[f"{P}_shapes"] = [c for c in q["data"][7:].split(",") if c in shapes_data.CLASSES]
        elif q.get("data") == "own":
            ss[f"{P}_source"] = OWN
        elif q.get("data") == "zip":
            ss[f"{P}_source"] = ZIP
        if q.get("arch") in ARCHS:
            ss[f"{P}_arch"] = q["arch"]
        if "seed" in q:
            ss[f"{P}_seed"] = max(0, int(q["seed"]))
        if "epochs" in q:
            ss[f"{P}_epochs"] = min(max(1, int(q["epochs"])), jobs.MAX_EPOCHS)
        if "per_class" in q:
            ss[f"{P}_per_class"] = min(max(10, int(q["per_class"])), MAX_PER_SHAPE)
    except ValueError:
        st.warning("The link's seed, epochs or picture count is not a whole number; the defaults are used.")


def share_query(source: str, shapes: list[str], arch: str, seed: int, epochs: int, per_class: int) -> str:
    """The query string that repeats this run's choices (the pictures a user made don't travel)."""
    data = "shapes:" + ",".join(shapes) if source == SHAPES else ("own" if source == OWN else "zip")
    extra = f"&per_class={per_class}" if source == SHAPES else ""
    return f"?data={data}&arch={arch}&seed={seed}&epochs={epochs}{extra}"


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
    source = st.radio("Train on", [SHAPES, OWN, ZIP], key=f"{P}_source", horizontal=True)
    data, problem, shapes, per_class = None, "", list(shapes_data.CLASSES[:3]), 100
    if source == SHAPES:
        ss.setdefault(f"{P}_shapes", list(shapes_data.CLASSES[:3]))
        shapes = st.multiselect("Classes", list(shapes_data.CLASSES), key=f"{P}_shapes")
        per_class = st.slider("Pictures per class", 10, MAX_PER_SHAPE, 100, 10, key=f"{P}_per_class")
        if len(shapes) < 2:
            problem = "Pick at least 2 shape classes."
        else:
            data = _shapes(tuple(shapes), per_class, int(ss.get(f"{P}_seed", 0)))
    elif source == OWN:
        data, problem = _own_classes()
    else:
        up = st.file_uploader("ZIP with one folder of pictures per class", type=["zip"], key=f"{P}_zip")
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
    arch = c1.selectbox("Architecture", list(ARCHS), format_func=ARCHS.get, key=f"{P}_arch")
    epochs = c2.number_input("Epochs", 1, jobs.MAX_EPOCHS, 5, key=f"{P}_epochs")
    rate = c3.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], 2e-3, key=f"{P}_rate")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0, key=f"{P}_seed")
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
    settings = learn.Settings(int(epochs), float(rate), int(seed), arch, spec)
    query = share_query(source, shapes, arch, int(seed), int(epochs), per_class)
    if data is not None and len(data.labels) > class_folders.MAX_PICTURES:
        problem = f"At most {class_folders.MAX_PICTURES:,} pictures can be used in one run."
    return Choice(data, settings, problem), query


def _own_classes() -> tuple[class_folders.ClassData | None, str]:
    n = int(st.number_input("How many classes", 2, 6, 2, key=f"{P}_nclasses"))
    st.caption(
        "At least 10 pictures a class, uploaded, photographed or drawn; augmentation (turns, zooms, shifts, "
        "mirror images, brightness) makes up the rest."
    )
    files: dict[str, list[bytes]] = {}
    names: list[str] = []
    cols = st.columns(n)
    for i, col in enumerate(cols):
        name = col.text_input(f"Class {i + 1}", f"class {i + 1}", key=f"{P}_name_{i}").strip() or f"class {i + 1}"
        names.append(name)
        ups = col.file_uploader(
            "Pictures",
            accept_multiple_files=True,
            key=f"{P}_up_{i}",
            type=[e for e in ("png", "jpg", "jpeg", "webp", "bmp", "gif")],
        )
        shots = ss.setdefault(f"{P}_shots_{i}", [])
        if col.toggle("Camera", key=f"{P}_cam_on_{i}"):
            shot = col.camera_input("Take a photo", key=f"{P}_cam_{i}")
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


DRAWN = "drawn:"  # the id prefix of a drawing among a class's photos and drawings (``{P}_shots_{i}``)
DRAW_SIDE = 256


def _add_drawing(i: int) -> None:
    """Button callback: the canvas's last picture joins class ``i`` as a PNG, and the canvas starts blank."""
    rgba = ss.get(f"{P}_drawing_now")
    if rgba is None:
        return
    try:
        rgb = drawing.picture_from_drawing(rgba)
    except ImageError as e:
        ss[f"{P}_drawing_note"] = f"{e.detail[0].upper()}{e.detail[1:]}."
        return
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    shots = ss.setdefault(f"{P}_shots_{i}", [])
    shots.append((f"{DRAWN}{len(shots)}", buf.getvalue()))
    ss[f"{P}_canvas_n"] = ss.get(f"{P}_canvas_n", 0) + 1  # a new key: a blank canvas for the next drawing
    ss[f"{P}_drawing_now"] = None


def _undo_drawing(i: int) -> None:
    shots = ss.get(f"{P}_shots_{i}", [])
    for j in range(len(shots) - 1, -1, -1):
        if shots[j][0].startswith(DRAWN):
            del shots[j]
            return


def _draw_into_a_class(names: list[str]) -> None:
    """A canvas whose drawings are added, one at a time, to the class picked beside it."""
    from ui.common.canvas import drawing_canvas

    if not st.toggle("Draw pictures for a class", key=f"{P}_draw_on"):
        return
    c_canvas, c_side = st.columns([1, 2])
    with c_canvas:
        ss[f"{P}_drawing_now"] = drawing_canvas(
            f"{P}_canvas_{ss.get(f'{P}_canvas_n', 0)}",
            width=DRAW_SIDE,
            height=DRAW_SIDE,
            stroke_width=int(ss.get(f"{P}_draw_pen", 16)),
        )
    i = c_side.selectbox("Add to", range(len(names)), format_func=lambda k: names[k], key=f"{P}_draw_class")
    c_side.slider("Pen", 2, 40, 16, key=f"{P}_draw_pen")
    b1, b2 = c_side.columns(2)
    b1.button("Add this drawing", key=f"{P}_draw_add", on_click=_add_drawing, args=(i,), type="primary")
    b2.button("Remove the last drawing", key=f"{P}_draw_undo", on_click=_undo_drawing, args=(i,))
    note = ss.pop(f"{P}_drawing_note", None)
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
        key=f"{P}_train",
        on_click=_start,
        args=(choice,),
    )
    c2.button("Pause", disabled=not busy or paused, key=f"{P}_pause", on_click=job.control.pause if busy else None)
    c3.button("Resume", disabled=not paused, key=f"{P}_resume", on_click=job.control.resume if busy else None)
    c4.button("Stop", disabled=not busy, key=f"{P}_stop", on_click=job.control.stop if busy else None)
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
    with st.container(key=f"{P}_latest"):
        st.caption(
            f"After epoch {last.epoch}: training loss {last.loss:.4f}, accuracy {last.accuracy:.1%}; "
            f"held-out loss {last.val_loss:.4f}, accuracy {last.val_accuracy:.1%}."
        )
    at = done_epochs
    if done_epochs > 1:
        at = st.slider("Epoch to show", 1, done_epochs, done_epochs, key=f"{P}_scrub_{done_epochs}")
    snap = job.snapshots[at - 1]
    st.markdown(f"**First layer's filters after epoch {at}** (each stretched to its own range)")
    with st.container(key=f"{P}_filters"):
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
    c1.download_button("Filters GIF", jobs.filters_gif(job), "filters.gif", "image/gif", key=f"{P}_gif")
    c2.download_button("History ZIP", jobs.history_zip(job), "history.zip", "application/zip", key=f"{P}_hist")
    if job.model_bytes is not None:
        c3.download_button("Model .keras", job.model_bytes, "trained.keras", key=f"{P}_keras")
        if c4.button("Open in Your model", key=f"{P}_open"):
            from ui.model.source import TRAINED
            from ui.model.source import P as YM

            ss[MODEL_KEY] = ("trained.keras", job.model_bytes, tuple(names))
            ss[f"{YM}_model_source"] = TRAINED
            st.switch_page("views/your_model.py")


def caps_text() -> str:
    return (
        f"Budget: at most {class_folders.MAX_PICTURES:,} pictures, {jobs.MAX_EPOCHS} epochs and "
        f"{jobs.MAX_CPU_SECONDS} CPU seconds of training per run; one run per session; {jobs.MAX_AT_ONCE} run at a "
        f"time on this server, others queue. A run stops when Stop is pressed or {jobs.HEARTBEAT_S} s after its tab "
        "closes; what was shown is kept. 20% of each class is held out to check it."
    )
