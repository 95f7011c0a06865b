"""Input gradients through N random conv/pool/dense models, with oneDNN on; run as a child process.

``python -m tests.core.gradient_child N SEED [ONEDNN]`` (ONEDNN 1 by default, 0 to turn it off) prints "ok N" and exits 0 when every gradient came back
finite and of the input's shape. A heap corruption in TensorFlow's kernels (seen once with oneDNN on)
ends the process with a signal instead, which the parent test reports.
"""

from __future__ import annotations

import os
import sys

# The setting under test, whatever the parent had (it must be set before TensorFlow is imported).
os.environ["TF_ENABLE_ONEDNN_OPTS"] = sys.argv[3] if len(sys.argv) > 3 else "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def random_model(rng: np.random.Generator):
    """A random stack: 1–4 convolutions (kernel, stride, dilation, padding), pools, then maybe dense."""
    import keras

    side = int(rng.integers(12, 40))
    channels = int(rng.choice([1, 3]))
    layers = [keras.Input((side, side, channels))]
    size = side
    for _ in range(int(rng.integers(1, 5))):
        k = int(rng.choice([1, 3, 5, 7]))
        dilation = int(rng.choice([1, 1, 2]))
        stride = 1 if dilation > 1 else int(rng.choice([1, 2]))
        padding = str(rng.choice(["same", "valid"]))
        span = dilation * (k - 1) + 1
        if padding == "valid" and size < span + 1:
            padding = "same"
        layers.append(
            keras.layers.Conv2D(
                int(rng.integers(1, 9)),
                k,
                strides=stride,
                dilation_rate=dilation,
                padding=padding,
                activation=str(rng.choice(["relu", "tanh", "linear", "gelu"])),
            )
        )
        size = -(-size // stride) if padding == "same" else (size - span) // stride + 1
        if size >= 4 and rng.random() < 0.6:
            pool = keras.layers.MaxPooling2D if rng.random() < 0.5 else keras.layers.AveragePooling2D
            p = int(rng.choice([2, 3]))
            layers.append(pool(p, strides=int(rng.choice([1, p])), padding="same"))
            size = -(-size // layers[-1].strides[0])
    if rng.random() < 0.7:
        layers += [keras.layers.Flatten(), keras.layers.Dense(int(rng.integers(2, 11)))]
    return keras.Sequential(layers), side, channels


def main(n: int, seed: int) -> int:
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    for i in range(n):
        model, side, channels = random_model(rng)
        x = tf.constant(rng.random((1, side, side, channels)).astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x, training=False)
            target = tf.reduce_sum(y * tf.constant(rng.standard_normal(y.shape).astype(np.float32)))
        grad = tape.gradient(target, x).numpy()
        if grad.shape != tuple(x.shape) or not np.isfinite(grad).all():
            print(f"model {i}: gradient of shape {grad.shape}, finite: {np.isfinite(grad).all()}", flush=True)
            return 1
    print(f"ok {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
