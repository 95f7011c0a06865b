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


# --------------------------------------------------------------------------- probe shapes, written as JSON
# The large probe models are written straight into a zip (config.json, and a weights file of zeros where one
# is needed) rather than built with Keras, so that making them takes no time and no memory.


def _layer(cls: str, name: str, config: dict | None = None, inbound: str | None = None, shape=None) -> dict:
    layer = {
        "module": "keras.layers",
        "class_name": cls,
        "config": {"name": name, **(config or {})},
        "registered_name": None,
    }
    if inbound is not None:
        layer["name"] = name  # functional models name each layer beside its config, too
        tensor = {
            "class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [inbound, 0, 0]},
        }
        layer["inbound_nodes"] = [{"args": [tensor], "kwargs": {}}]
    return layer


def _input(shape: list, name: str = "input") -> dict:
    return _layer("InputLayer", name, {"batch_shape": shape, "dtype": "float32"})


def sequential_config(n: int, side: int = 16) -> dict:
    """A Sequential of ``n`` ReLU layers on a side × side × 3 input."""
    layers = [_input([None, side, side, 3])] + [_layer("ReLU", f"relu_{i}") for i in range(n)]
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "long", "layers": layers},
        "registered_name": None,
    }


def functional_config(depth: int, branches: int = 1, side: int = 16) -> dict:
    """A functional model of ``branches`` chains of ``depth`` ReLU layers from one input, added together."""
    shape = [None, side, side, 3]
    layers = [{**_input(shape), "name": "input", "inbound_nodes": []}]
    ends = []
    for b in range(branches):
        prev = "input"
        for i in range(depth):
            name = f"relu_{b}_{i}"
            layers.append(_layer("ReLU", name, inbound=prev, shape=shape))
            prev = name
        ends.append(prev)
    out = ends[0]
    if branches > 1:
        add = {**_layer("Add", "sum"), "name": "sum"}
        add["inbound_nodes"] = [
            {
                "args": [
                    [
                        {
                            "class_name": "__keras_tensor__",
                            "config": {"shape": shape, "dtype": "float32", "keras_history": [e, 0, 0]},
                        }
                        for e in ends
                    ]
                ],
                "kwargs": {},
            }
        ]
        layers.append(add)
        out = "sum"
    config = {"name": "deep", "layers": layers, "input_layers": ["input", 0, 0], "output_layers": [out, 0, 0]}
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": config,
        "registered_name": None,
    }


def normalization_config(build_side: int = 8000, side: int = 32) -> dict:
    """issue 28's 14 KB model: a side × side × 3 input, then a Normalization layer with a scalar mean and
    variance over axes 1 and 2 whose own build config declares [None, build_side, build_side, 3]."""
    norm = _layer("Normalization", "norm", {"axis": [1, 2], "mean": 0.5, "variance": 0.25, "invert": False})
    norm["build_config"] = {"input_shape": [None, build_side, build_side, 3]}
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "norm_model", "layers": [_input([None, side, side, 3]), norm]},
        "registered_name": None,
    }


def zero_weights_h5(shapes: dict[str, tuple[int, ...]]) -> bytes:
    """An HDF5 weights file of deflated zeros: ``{"layers/dense/vars/0": (3072, 16000), ...}``."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for name, shape in shapes.items():
            chunk = tuple(min(s, 1024) for s in shape)
            f.create_dataset(name, shape=shape, dtype="float32", compression="gzip", chunks=chunk, fillvalue=0.0)
    return buf.getvalue()


def keras_zip(config: dict, weights: bytes | None = None) -> bytes:
    entries = {"config.json": json.dumps(config).encode(), "metadata.json": b'{"keras_version": "3.15.0"}'}
    # Keras wants a weights file even for a model without weights: an empty one.
    entries["model.weights.h5"] = zero_weights_h5({}) if weights is None else weights
    return zip_bytes(entries)
