"""Every session-state and widget key of the unit page, made here and nowhere else (with ``ui.common.keys``).

Keys start with ``P`` ("unit"). The unit's address (``?unit=LAYER:CHANNEL[&model=yours]``) never holds
them, so changing a key here changes no link.
"""

from __future__ import annotations

from ui.common import keys as common
from ui.model import keys as model_keys

P = "unit"

MODEL_BYTES = model_keys.MODEL_BYTES  # (name, bytes) of the Your model page's model, set by ui/model/source.py
SHAPE = common.key(P, "shape")  # the generated sample shown to the Tiny VGG's units
SEED = common.key(P, "seed")
PHONE_SHAPE = common.key(P, "phone", "shape")  # the page's copies of the two, shown on a phone
PHONE_SEED = common.key(P, "phone", "seed")
MAP = common.key(P, "map")
SCAN_SOURCE = common.key(P, "scan_source")
ZIP = common.key(P, "zip")
SCAN = common.key(P, "scan")
