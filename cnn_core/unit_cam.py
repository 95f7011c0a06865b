"""One unit (a channel of a layer) on one picture: its weights, its map and its Grad-CAM.

Grad-CAM for a unit (Selvaraju et al., 2017, with the unit's mean activation as the score): take the maps
A that the unit's nearest convolution or pooling reads (pointwise layers such as ReLU are looked through),
αₖ = the mean over map k of ∂score/∂Aₖ, and the heat map ReLU(Σₖ αₖ Aₖ), resized bilinearly to the input and
scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CnnError


@dataclass(frozen=True)
class UnitWeights:
    """The weights that make a channel.

    Attributes:
        layer: the layer holding them (the channel's own, or the convolution before a ReLU or pooling).
        kernel: float32 (kernel height, kernel width, input channels).
        bias: the channel's bias, or None.
        note: how ``layer`` relates to the layer asked about ("" when it is the same).
    """

    layer: str
    kernel: np.ndarray
    bias: float | None
    note: str = ""


@dataclass(frozen=True)
class UnitCam:
    """Grad-CAM of a unit: ``heat`` float32 (input height, input width) in [0, 1]; ``read`` names the maps A
    (a layer, or "the input"); ``coarse`` is ReLU(Σ αₖ Aₖ) on A's grid."""

    heat: np.ndarray
    coarse: np.ndarray
    read: str


def _producer(t):
    op, node_index, _ = t._keras_history
    ins = [x for x in op._inbound_nodes[node_index].input_tensors if len(x.shape) == 4]
    return op, ins


def unit_weights(model, path: str, channel: int) -> UnitWeights | None:
    """The kernel and bias of ``channel`` of the layer at ``path``, looking back through pointwise and pooling
    layers to the convolution that makes the channel; None when there is none (a merge, the input, ...)."""
    from . import units

    containers, layer = units._find(model, path)
    t = layer.output
    hops = []
    for _ in range(50):
        op, ins = _producer(t)
        name = type(op).__name__
        kernel = getattr(op, "kernel", None)
        if name in ("Conv2D", "DepthwiseConv2D") and kernel is not None:
            k = np.asarray(kernel.numpy() if hasattr(kernel, "numpy") else kernel, np.float32)
            if name == "DepthwiseConv2D":
                mult = k.shape[3]
                k = k[:, :, channel // mult : channel // mult + 1, channel % mult]
            else:
                k = k[:, :, :, channel]
            bias = getattr(op, "bias", None)
            b = (
                float(np.asarray(bias.numpy() if hasattr(bias, "numpy") else bias)[channel])
                if bias is not None
                else None
            )
            prefix = "/".join(path.split("/")[:-1])
            where = f"{prefix}/{op.name}" if prefix else op.name
            note = (
                ""
                if not hops
                else f"{path} has no weights; its channel {channel} is channel {channel} of {where}, through {', '.join(hops)}"
            )
            return UnitWeights(where, k, b, note)
        if len(ins) != 1 or name not in units._POINTWISE | {"MaxPooling2D", "AveragePooling2D"}:
            return None
        if t is containers[-1].inputs[0]:
            return None
        hops.append(op.name)
        t = ins[0]
        if any(t is c.inputs[0] for c in containers):
            return None
    return None


def unit_grad_cam(model, path: str, channel: int, batch: np.ndarray) -> UnitCam:
    """Grad-CAM of the unit's mean activation for one prepared picture.

    Args:
        model: the loaded Keras model.
        path: an image-shaped layer's path.
        channel: its channel.
        batch: float32 (1, height, width, channels), as fed (``model_maps.prepare_photo``).
    """
    import keras
    import tensorflow as tf

    from . import units
    from .model_maps import _call_input

    containers, layer = units._find(model, path)
    x = tf.constant(batch)
    for outer, inner in zip(containers, containers[1:]):
        x = keras.Model(outer.inputs[0], _call_input(inner))(x, training=False)
    c = containers[-1]
    out = layer.output
    # Look back through pointwise layers to the window (convolution or pooling) that makes the unit: A is what it reads.
    t = out
    while True:
        op, ins = _producer(t)
        if not ins or t is c.inputs[0]:
            a_t = c.inputs[0]
            break
        if units._window(op) is not None or type(op).__name__ not in units._POINTWISE or len(ins) != 1:
            a_t = ins[0]
            break
        t = ins[0]
    with tf.GradientTape() as tape:
        if a_t is c.inputs[0]:
            tape.watch(x)
            a, maps = x, keras.Model(c.inputs[0], out)(x, training=False)
            read = "the input" if len(containers) == 1 else f"the input of {'/'.join(path.split('/')[:-1])}"
        else:
            a, maps = keras.Model(c.inputs[0], [a_t, out])(x, training=False)
            prefix = "/".join(path.split("/")[:-1])
            read = f"{prefix}/{a_t._keras_history[0].name}" if prefix else a_t._keras_history[0].name
        if not 0 <= channel < maps.shape[-1]:
            raise CnnError(f"{path} has channels 0 to {maps.shape[-1] - 1}, got {channel}", "channel")
        score = tf.reduce_mean(maps[..., channel])
    grads = tape.gradient(score, a)
    if grads is None:
        raise CnnError(f"{path} does not depend on {read}; no Grad-CAM", "layer")
    alpha = tf.reduce_mean(grads[0], axis=(0, 1))
    coarse = tf.nn.relu(tf.tensordot(a[0], alpha, axes=[[2], [0]])).numpy().astype(np.float32)
    h, w = batch.shape[1:3]
    heat = tf.image.resize(coarse[None, :, :, None], (h, w), method="bilinear").numpy()[0, :, :, 0]
    top = float(heat.max())
    heat = heat / top if top > 0 else np.zeros_like(heat)
    return UnitCam(heat.astype(np.float32), coarse, read)


def unit_maps(model, path: str, batch: np.ndarray) -> np.ndarray:
    """Every channel's map of the layer at ``path`` for one prepared picture: float32 (height, width, channels)."""
    from . import units

    return np.asarray(units.layer_model(model, path)(batch)[0], dtype=np.float32)


def outlined(pixels: np.ndarray, box: tuple[int, int, int, int], side: int = 160) -> np.ndarray:
    """A fed picture, uint8 (height, width, channels), enlarged with square pixels to about ``side`` on its
    longer side, with the receptive-field box [top, left, bottom, right] (inclusive) outlined in red."""
    rgb = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels[:, :, :3]
    f = max(1, side // max(rgb.shape[:2]))
    big = np.repeat(np.repeat(rgb, f, axis=0), f, axis=1).copy()
    t, left, b, r = (v * f for v in box)
    b, r = b + f - 1, r + f - 1
    red = np.array([230, 30, 30], np.uint8)
    w = max(1, f // 3)
    big[t : t + w, left : r + 1] = red
    big[b - w + 1 : b + 1, left : r + 1] = red
    big[t : b + 1, left : left + w] = red
    big[t : b + 1, r - w + 1 : r + 1] = red
    return big
