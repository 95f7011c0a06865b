"""Links that rebuild a view, and downloads of what it shows."""

from __future__ import annotations

import streamlit as st

import cnn_core
from cnn_core import export, share
from cnn_core.pipeline import Stage
from ui.common import history, inspector, keys
from ui.common.inputs import Picture
from ui.common.text import plain


def read_link(prefix: str, page: str) -> tuple[share.LinkState | None, str | None]:
    """The state in the page's URL when the page should take it (ui/common/history.py says when: an opened link,
    or Back and Forward); (None, None) otherwise.

    A link for another page, or one that can't be used, comes back as (None, warning).
    """
    params = history.to_apply(prefix)
    if params is None:
        return None, None
    state, warning = share.decode_state(params)
    if warning:
        return None, plain(warning)  # it quotes the link, which anyone could have written
    if state.page != page:
        return None, None
    inspector.remember_link(prefix, state)
    return state, None


def keeps_photo(prefix: str, state: share.LinkState) -> bool:
    """Back or Forward to an entry made from an upload keeps the photo on screen (the entry names only a
    stand-in sample); an opened link shows the stand-in."""
    return state.from_upload and history.came_back(prefix)


def link_note(state: share.LinkState) -> str | None:
    """What to tell the visitor about the picture a link shows, or None."""
    if state.image is not None:
        return "This link carries a small copy of the photo it was made with."
    if state.from_upload:
        return (
            f"This link was made from an uploaded photo, which links can't carry: the "
            f"'{state.sample}' sample stands in for it. Upload your own photo to see it."
        )
    return None


def sync_url(prefix: str, state: share.LinkState) -> dict[str, str]:
    """Keep the address bar equal to the view, so copying it shares exactly this (and Back undoes an edit)."""
    params = share.encode_state(state)
    history.write(prefix, params)
    return params


def share_and_export(prefix: str, state: share.LinkState, picture: Picture, stages: list[Stage]) -> None:
    """The Share and Download controls for a computed view.

    The address bar is kept equal to the view on every run; the panel's contents are built only while it is
    open (a closed expander sends nothing to the browser, which keeps a new session's first paint light).
    """
    embeddable = picture.sample is None and state.image is None
    embed_failed = False
    if embeddable and st.session_state.get(_embed_kept(prefix), False):
        state, embed_failed = _with_embedded_photo(state, picture)
    params = sync_url(prefix, inspector.with_position(prefix, state))
    panel = st.expander(
        "Share or download this view", icon=":material/share:", key=keys.share(prefix, "share_open"), on_change="rerun"
    )
    if not panel.open:
        return
    with panel:
        if embeddable:
            st.caption(embed_note(picture.array.shape, state.spec))
            # The box's own state goes when the closed panel stops drawing it; the choice is kept beside it.
            if keys.share(prefix, "embed") not in st.session_state:
                st.session_state[keys.share(prefix, "embed")] = st.session_state.get(_embed_kept(prefix), False)
            st.checkbox(
                "Put a small copy of my photo in the link (about 100×100 pixels)",
                key=keys.share(prefix, "embed"),
                help="Otherwise the link names a bundled sample to stand in for your upload.",
                on_change=_keep_embed,
                args=(prefix,),
            )
            if embed_failed:
                st.caption("Your photo can't be made small enough for a link; a sample stands in.")
        problem = share.link_problem(params)
        if problem:
            st.warning(problem + " Download the spec JSON below instead.")
        else:
            base = st.context.url or ""
            url = share.share_url(base, state) if base else "?" + share.share_url("", state).split("?", 1)[1]
            # A plain text box, not st.code: st.code loads a 1.5 MB syntax highlighter into the browser.
            st.text_input(
                "Copy this link (the address bar holds the same):",
                url,
                key=None,
                on_change="ignore",
                help="Click the box, select all (Ctrl+A or ⌘A) and copy.",
            )
            if state.from_upload:
                st.caption(f"Uploaded photos don't travel in links; the '{state.sample}' sample will stand in.")
        spec = state.spec
        view = state.view
        c1, c2, c3 = st.columns(3)
        c1.download_button(
            "Download everything (ZIP)",
            data=lambda: export.export_zip(stages, spec, cmap=view["cmap"], scale=view["scale"]),
            file_name="cnn-playground.zip",
            mime="application/zip",
            key=keys.share(prefix, "zip"),
            help="Every stage's maps as PNG (coloured as shown) and as raw float32 .npy, the spec JSON, "
            "a contact sheet and an animated GIF of the progression.",
            on_click="ignore",
        )
        c2.download_button(
            "Download the spec (JSON)",
            data=spec.to_json(indent=2),
            file_name="pipeline-spec.json",
            mime="application/json",
            key=keys.share(prefix, "spec_json"),
            on_click="ignore",
        )
        with c3:
            labels = [f"{s.index:02d} {s.name} · {s.shape[0]}×{s.shape[1]}×{s.shape[2]}" for s in stages]
            pick = st.selectbox(
                "One map as PNG", range(len(stages)), format_func=labels.__getitem__, key=keys.share(prefix, "one")
            )
            stage = stages[pick]
            channel = 0
            if stage.shape[2] > 1:
                channel = st.number_input("Channel", 0, stage.shape[2] - 1, key=keys.share(prefix, "one_ch"))
            st.download_button(
                "Download this map (PNG)",
                data=lambda: export.map_png(stage, channel, view["cmap"], view["scale"], stages),
                file_name=f"{stage.index:02d}_{stage.name}_c{channel:02d}.png",
                mime="image/png",
                key=keys.share(prefix, "one_png"),
                on_click="ignore",
            )


def _embed_kept(prefix: str) -> str:
    return keys.share(prefix, "embed_kept")


def _keep_embed(prefix: str) -> None:
    st.session_state[_embed_kept(prefix)] = bool(st.session_state.get(keys.share(prefix, "embed")))


def _with_embedded_photo(state: share.LinkState, picture: Picture) -> tuple[share.LinkState, bool]:
    """The link state with a small copy of the uploaded photo, and whether the photo could not be made small
    enough (then a sample stands in, as without the copy)."""
    data = share.embed_image(picture.array)
    embedded = share.LinkState(
        page=state.page,
        sample=None if data else state.sample,
        spec=state.spec,
        view=state.view,
        image=data,
        from_upload=data is None,
    )
    return embedded, data is None


EMBED_SIDE = 128  # share.embed_image's largest copy, on its longer side


def embed_note(shape: tuple[int, ...], spec: cnn_core.Spec) -> str:
    """What embedding the photo in the link does to the maps, said before the box is ticked."""
    h, w = shape[:2]
    f = min(1.0, EMBED_SIDE / max(h, w))
    eh, ew = max(1, round(h * f)), max(1, round(w * f))
    if f == 1.0:
        return "Your photo is small enough to travel in the link as it is."
    if spec.input.size is None:
        return (
            f"With a copy in the link, its maps will be smaller: the copy is at most {eh}×{ew} pixels, so the "
            f"input becomes {eh}×{ew} instead of {h}×{w} (height×width) and every map shrinks with it."
        )
    sh, sw = spec.input.size
    return (
        f"With a copy in the link, its maps keep their sizes (the input is resized to {sh}×{sw}), but they are "
        f"computed from a copy of at most {eh}×{ew} pixels (height×width), so they look blurrier than yours."
    )


def view_state(
    page: str, picture: Picture, spec: cnn_core.Spec, cmap: str, scale: str, link_image: bytes | None = None
) -> share.LinkState:
    """The link state for what is on screen (before the visitor chooses to embed an uploaded photo)."""
    if link_image is not None:
        return share.LinkState(page=page, sample=None, spec=spec, view={"cmap": cmap, "scale": scale}, image=link_image)
    return share.LinkState(
        page=page,
        sample=picture.sample or "camera",
        spec=spec,
        view={"cmap": cmap, "scale": scale},
        from_upload=picture.sample is None,
    )


def header(prefix: str, title: str, intro: str, link_warning: str | None) -> None:
    """A page's title and introduction, then what its link said: a warning, or a note on what it holds."""
    st.title(title)
    st.markdown(intro)
    if link_warning:
        st.warning(link_warning)
    if st.session_state.get(keys.link_note(prefix)):
        st.info(st.session_state[keys.link_note(prefix)])
