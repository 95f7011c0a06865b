"""Running the core from the UI: one bounded stage cache per server process."""

from __future__ import annotations

import gc

import streamlit as st

import cnn_core

# Feature maps kept across reruns and sessions, keyed by image content and settings.
STAGE_CACHE_BYTES = 768_000_000


@st.cache_resource(show_spinner=False)
def stage_cache() -> cnn_core.StageCache:
    # Once per process, after TensorFlow's ~450k import-time objects exist: move them out of the
    # collector's reach. Streamlit runs a full gc.collect() after every rerun (Keras is loaded), which
    # otherwise costs ~160 ms per slider change here (benchmarks/README.md).
    gc.freeze()
    return cnn_core.StageCache(max_bytes=STAGE_CACHE_BYTES)


def run(picture, spec: cnn_core.Spec) -> list[cnn_core.Stage] | None:
    """Run the pipeline with the shared cache; shows a clear error and returns None on bad settings."""
    try:
        return cnn_core.run_pipeline(picture.array, spec, cache=stage_cache(), image_key=picture.key)
    except cnn_core.CnnError as e:
        st.error(f"Can't run these settings. {e}")
        return None
