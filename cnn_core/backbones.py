"""ImageNet backbones (MobileNetV2, VGG16) for the "Your model" page, where their weights can be downloaded.

Each is wrapped with its own pixel preprocessing as ordinary layers, so it takes raw 0–255 RGB pixels
like an uploaded model that rescales itself.
"""

from __future__ import annotations

import socket
import threading

from .errors import unexpected

WEIGHTS_HOST = "storage.googleapis.com"
BACKBONES = {
    "MobileNetV2": "MobileNetV2 (3.5 M weights, 14 MB download)",
    "VGG16": "VGG16 (138 M weights, 528 MB download)",
}


def weights_reachable(timeout: float = 1.5) -> bool:
    """Whether Keras's weight store answers within ``timeout`` seconds (DNS included; never hangs longer)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((WEIGHTS_HOST, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def build_backbone(name: str, weights: str | None = "imagenet"):
    """The named ImageNet classifier taking 224×224×3 raw pixels (0–255), with its preprocessing as layers."""
    import keras
    import numpy as np

    inp = keras.Input((224, 224, 3), name="pixels")
    if name == "MobileNetV2":
        x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="to_minus1_1")(inp)
        net = keras.applications.MobileNetV2(weights=weights, input_shape=(224, 224, 3))
    elif name == "VGG16":
        # Caffe-style: RGB -> BGR and subtract the ImageNet mean, as a fixed 1×1 convolution.
        prep = keras.layers.Conv2D(3, 1, name="rgb_to_bgr_minus_mean", trainable=False)
        x = prep(inp)
        prep.set_weights(
            [
                np.eye(3, dtype="float32")[::-1].reshape(1, 1, 3, 3),
                -np.array([103.939, 116.779, 123.68], dtype="float32"),
            ]
        )
        net = keras.applications.VGG16(weights=weights, input_shape=(224, 224, 3))
    else:
        raise ValueError(f"unknown backbone {name!r}")
    return keras.Model(inp, net(x), name=name.lower())


def class_names() -> list[str] | None:
    """ImageNet's 1000 class names (downloaded by Keras once), or None when they can't be had."""
    try:
        import numpy as np
        from keras.applications import imagenet_utils

        decoded = imagenet_utils.decode_predictions(np.eye(1000, dtype="float32"), top=1)
        return [row[0][1].replace("_", " ") for row in decoded]
    except Exception as e:  # Keras raises a bare Exception when its download fails
        unexpected(e, "fetching ImageNet's class names")
        return None
