"""Every session-state and widget key of the Train page, made here and nowhere else (with ``ui.common.keys``).

Keys start with ``P`` ("tr"). The app tests name the widgets by these keys ("tr_shapes", "tr_train") and the
browser tests find containers by them (``st-key-tr_latest``); share links never hold them, so changing a key
here changes no link.
"""

from __future__ import annotations

from ui.common import keys as common

P = "tr"

# Values the page keeps between runs.
JOB = common.key(P, "job")  # the session's training jobs.Job
MODEL = common.key(P, "model")  # (file name, .keras bytes, class names): read by ui/model/source.py
LINKED = common.key(P, "linked")  # a share link's settings were applied once
DRAWING_NOW = common.key(P, "drawing_now")  # the canvas's last picture (RGBA), or None
DRAWING_NOTE = common.key(P, "drawing_note")  # why a drawing was refused, shown once
CANVAS_N = common.key(P, "canvas_n")  # how many drawings were added: a new canvas key for each

# The settings' widgets (ui/train/state.py reads them as one TrainState).
SOURCE = common.source(P)
SHAPES = common.key(P, "shapes")
PER_CLASS = common.key(P, "per_class")
ZIP = common.key(P, "zip")
ARCH = common.key(P, "arch")
EPOCHS = common.key(P, "epochs")
RATE = common.key(P, "rate")
SEED = common.key(P, "seed")
NCLASSES = common.key(P, "nclasses")

# Drawing pictures for a class.
DRAW_ON = common.key(P, "draw_on")
DRAW_PEN = common.key(P, "draw_pen")
DRAW_CLASS = common.key(P, "draw_class")
DRAW_ADD = common.key(P, "draw_add")
DRAW_UNDO = common.key(P, "draw_undo")

# The run's buttons, its live view and its results.
TRAIN = common.key(P, "train")
PAUSE = common.key(P, "pause")
RESUME = common.key(P, "resume")
STOP = common.key(P, "stop")
LATEST = common.key(P, "latest")
FILTERS = common.key(P, "filters")
GIF = common.key(P, "gif")
HISTORY = common.key(P, "hist")
KERAS = common.key(P, "keras")
OPEN = common.key(P, "open")


def class_widget(name: str, i: int) -> str:
    """Widget ``name`` ("name", "up", "cam_on", "cam") of class ``i``: class_widget("name", 0) is "tr_name_0"."""
    return common.key(P, name, i)


def shots(i: int) -> str:
    """The photos and drawings of class ``i``: a list of (id, PNG or JPEG bytes)."""
    return common.key(P, "shots", i)


def canvas(n: int) -> str:
    """The drawing canvas after ``n`` added drawings (a new key starts it blank)."""
    return common.key(P, "canvas", n)


def scrub(epochs: int) -> str:
    """The epoch slider while ``epochs`` epochs are done (a new key when another epoch ends)."""
    return common.key(P, "scrub", epochs)
