"""Small seeded Keras models saved as .keras files, and hand-edited hostile archives built from them.

The hostile archives are made by rewriting ``config.json`` inside a zip: nothing here ever loads or runs them.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import keras


def sequential(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((12, 10, 3)),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a"),
            keras.layers.MaxPooling2D(name="pool_a"),
            keras.layers.Conv2D(3, 3, name="conv_b"),
            keras.layers.BatchNormalization(name="bn_b"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(5, activation="softmax", name="probs"),
        ],
        name="seq",
    )


def functional(seed: int = 1) -> keras.Model:
    """Two branches joined by Add and Concatenate; grayscale input; plain (linear) output."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((9, 11, 1), name="photo")
    a = keras.layers.Conv2D(3, 3, padding="same", name="left")(inp)
    b = keras.layers.Conv2D(3, 1, name="right")(inp)
    s = keras.layers.Add(name="sum")([a, b])
    c = keras.layers.Concatenate(name="cat")([s, keras.layers.ReLU(name="relu")(a)])
    d = keras.layers.DepthwiseConv2D(3, name="dw")(c)
    out = keras.layers.Dense(2, name="head")(keras.layers.GlobalAveragePooling2D(name="gap")(d))
    return keras.Model(inp, out, name="fun")


def nested(seed: int = 2) -> keras.Model:
    """A functional backbone (with a Sequential block inside it) wrapped in a functional model that rescales."""
    keras.utils.set_random_seed(seed)
    b_in = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b_conv1")(b_in)
    block = keras.Sequential(
        [keras.Input((16, 16, 4)), keras.layers.Conv2D(4, 3, name="blk_conv"), keras.layers.ReLU(name="blk_relu")],
        name="block",
    )
    x = block(x)
    x = keras.layers.MaxPooling2D(name="b_pool")(x)
    backbone = keras.Model(b_in, x, name="backbone")
    inp = keras.Input((16, 16, 3))
    y = keras.layers.Rescaling(1 / 255, name="scale")(inp)
    y = backbone(y)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    out = keras.layers.Dense(3, activation="softmax", name="probs")(y)
    return keras.Model(inp, out, name="wrapped")


def two_inputs(seed: int = 3) -> keras.Model:
    keras.utils.set_random_seed(seed)
    a, b = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    return keras.Model([a, b], keras.layers.Add()([a, b]), name="pair")


def save(model: keras.Model, folder: Path, name: str = "model.keras") -> Path:
    path = folder / name
    model.save(path)
    return path


def rewrite(path: Path, out: Path, edit) -> Path:
    """Copy a .keras zip, passing its parsed config.json through ``edit(config) -> config``."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "config.json":
                data = json.dumps(edit(json.loads(data))).encode()
            dst.writestr(info.filename, data)
    return out


def replace_entry(path: Path, out: Path, entry: str, data: bytes) -> Path:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, data if info.filename == entry else src.read(info.filename))
    return out


def layers_of(config: dict) -> list:
    return config["config"]["layers"]


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()
