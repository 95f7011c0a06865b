"""One unit (a channel of a layer) on one picture: its weights, its map and its Grad-CAM.

Grad-CAM for a unit (Selvaraju et al., 2017, with the unit's mean activation as the score): take the maps
A that the unit's nearest convolution or pooling reads (pointwise layers such as ReLU are looked through),
αₖ = the mean over map k of ∂score/∂Aₖ, and the heat map ReLU(Σₖ αₖ Aₖ), resized bilinearly to the input and
scaled to [0, 1]. The weighing is ``gradcam.weigh``, the same as the class Grad-CAM's (``gradcam.grad_cam``,
whose score is an output unit instead); layers are found by the model's ``MapComputer`` and kinds, so a path
is the Your model page's.
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


_THROUGH = ("activation", "affine")  # kinds that keep every value where it is (ReLU, batch norm, rescaling)


def _layers(model, batch_shape: tuple):
    """(MapComputer, Activations) of the model for a batch of ``batch_shape``; paths as the Your model page's."""
    from . import model_maps

    computer = model_maps.MapComputer(model)
    return computer, model_maps.activations(computer, np.zeros((1, *batch_shape[1:]), np.float32))


def _is_window(layer) -> bool:
    return layer.kind is not None and layer.kind.name in ("conv2d", "pool2d") and len(layer.shape) == 3


def unit_weights(model, path: str, channel: int) -> UnitWeights | None:
    """The kernel and bias of ``channel`` of the layer at ``path``, looking back through pointwise and pooling
    layers to the convolution that makes the channel; None when there is none (a merge, the input, ...)."""
    from . import model_maps, units

    info = units._fixed(model_maps.describe(model))
    _, acts = _layers(model, (1, *info.input_shape))
    layer = acts[path]
    hops = []
    while layer.kind is not None and layer.input is not None:
        if layer.kind.name == "conv2d":
            op = layer.op
            k, b = op.weights()
            k = np.asarray(k, np.float32)
            if op.depthwise:
                mult = k.shape[3]
                k = k[:, :, channel // mult : channel // mult + 1, channel % mult]
            else:
                k = k[:, :, :, channel]
            bias = float(np.asarray(b)[channel])
            note = (
                ""
                if not hops
                else f"{path} has no weights; its channel {channel} is channel {channel} of {layer.path}, through {', '.join(hops)}"
            )
            return UnitWeights(layer.path, k, bias, note)
        if layer.kind.name not in (*_THROUGH, "pool2d") or len(layer.shape) != 3:
            return None
        hops.append(layer.path)
        layer = acts[layer.input]
    return None


def unit_grad_cam(model, path: str, channel: int, batch: np.ndarray) -> UnitCam:
    """Grad-CAM of the unit's mean activation for one prepared picture.

    Args:
        model: the loaded Keras model.
        path: an image-shaped layer's path, as ``model_maps.describe`` names it.
        channel: its channel.
        batch: float32 (1, height, width, channels), as fed (``model_maps.prepare_photo``).
    """
    import keras
    import tensorflow as tf

    from .gradcam import weigh
    from .model_maps import INPUT_PATH

    computer, acts = _layers(model, batch.shape)
    entries = computer.entries()
    if path not in entries or entries[path].call.output is None or len(acts[path].shape) != 3:
        raise CnnError(f"{path!r} is not a layer with maps (height × width × channels)", "layer")
    e = entries[path]
    # Look back through pointwise layers to the window (convolution or pooling) that makes the unit: A is what it
    # reads. Stop at the edge of the nested model that holds the layer: A is then what is fed into it.
    layer = acts[path]
    while not _is_window(layer) and layer.kind is not None and layer.kind.name in _THROUGH:
        if layer.input not in entries or entries[layer.input].chain != e.chain:
            break
        layer = acts[layer.input]
    read = layer.input or INPUT_PATH
    inside = read in entries and entries[read].chain == e.chain and entries[read].call.output is not None
    start = entries[read].call.output if inside else e.container.inputs[0]
    try:
        tail = keras.Model(start, e.call.output)
    except ValueError:
        raise CnnError(
            f"{path} does not depend on {read} alone (the network also goes around it); no Grad-CAM", "layer"
        ) from None
    maps_a = computer.compute(batch, [read])[read]
    a = tf.constant(maps_a[None])
    with tf.GradientTape() as tape:
        tape.watch(a)
        maps = tail(a, training=False)
        if not 0 <= channel < maps.shape[-1]:
            raise CnnError(f"{path} has channels 0 to {maps.shape[-1] - 1}, got {channel}", "channel")
        score = tf.reduce_mean(maps[..., channel])
    grads = tape.gradient(score, a)
    if grads is None:
        raise CnnError(f"{path} does not depend on {read}; no Grad-CAM", "layer")
    _, coarse, heat = weigh(maps_a, grads.numpy()[0], batch.shape[1:3])
    return UnitCam(heat, coarse, "the input" if read == INPUT_PATH else read)


def unit_maps(model, path: str, batch: np.ndarray) -> np.ndarray:
    """Every channel's map of the layer at ``path`` for one prepared picture: float32 (height, width, channels)."""
    from .model_maps import MapComputer

    return MapComputer(model).compute(batch, [path])[path]


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
