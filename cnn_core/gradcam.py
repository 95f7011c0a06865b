"""Grad-CAM (Selvaraju et al., 2017) for any Keras image model, at any layer with maps, for any output unit.

    >>> computer = model_maps.MapComputer(model)
    >>> cam = grad_cam(computer, batch, layer="backbone/block5_conv3", unit=281)
    >>> cam.heat                        # float32 (height, width) of the model's input, in [0, 1]

αₖ is the gradient of the score with respect to map Aₖ of the chosen layer, averaged over the map, and the
map is ReLU(Σₖ αₖ Aₖ). The score is the chosen unit's logit before the softmax when the model ends in one (a
Softmax layer, or a Dense layer with ``activation="softmax"``), else the chosen output unit itself.

Only the part of the network after the chosen layer is differentiated: the layer's maps come from the
MapComputer, and the rest of the graph, from that layer's call to the output, through every model that holds
it, is a Keras model of its own. A layer that the network also goes around (a skip connection from before it)
can't be cut there, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError


@dataclass(frozen=True)
class GradCam:
    """One Grad-CAM.

    Attributes:
        layer: the layer path whose maps were weighed.
        label: the output unit explained.
        alpha: float32 (channels,), the averaged gradient per map.
        coarse: float32 (map_height, map_width), ReLU(Σₖ αₖ Aₖ) at the layer's resolution.
        heat: float32 (input_height, input_width) in [0, 1], resized to the model's input.
        score: what was differentiated, in words ("logit before softmax" or "output").
    """

    layer: str
    label: int
    alpha: np.ndarray
    coarse: np.ndarray
    heat: np.ndarray
    score: str = "output"


def last_convolution(acts) -> str | None:
    """Grad-CAM's usual layer: the last convolution, or the activation layer right after it; None without one."""
    found = None
    for layer in acts.layers:
        if layer.kind is not None and layer.kind.name == "conv2d" and len(layer.shape) == 3:
            found = layer.path
        elif found is not None and layer.input == found and layer.kind is not None and layer.kind.name == "activation":
            found = layer.path
    return found


def _head(model):
    """(tensor, function) for the score: the softmax's input and how to turn it into logits; else the output."""
    out = model.outputs[0]
    op = out._keras_history[0]
    name = type(op).__name__
    node = op._inbound_nodes[out._keras_history[1]]
    if name == "Softmax" and len(node.input_tensors) == 1:
        return node.input_tensors[0], None, "logit before softmax"
    if name == "Dense" and getattr(op.activation, "__name__", "") == "softmax":
        kernel, *bias = op.get_weights()

        def logits(x):
            import tensorflow as tf

            y = tf.matmul(tf.reshape(x, (1, -1)), kernel)
            return y + bias[0] if bias else y

        return node.input_tensors[0], logits, "logit before softmax"
    return out, None, "output"


def grad_cam(computer, batch: np.ndarray, layer: str, unit: int) -> GradCam:
    """Grad-CAM of output ``unit`` from the maps of the layer at ``layer``.

    Args:
        computer: the model's ``model_maps.MapComputer``.
        batch: float32 (1, height, width, channels), from ``model_maps.prepare_photo``.
        layer: a layer path with image-shaped maps, as ``model_maps.describe`` names it.
        unit: the output unit (class) to explain.

    Raises:
        ModelError: for a layer without maps, a unit out of range, or a layer the network goes around.
    """
    import keras
    import tensorflow as tf

    entries = computer.entries()
    if layer not in entries:
        raise ModelError(f"no layer at {layer!r}", "layer")
    e = entries[layer]
    if e.call.output is None or len(e.info.shape) != 3:
        raise ModelError(f"{layer!r} has no image-shaped maps (height × width × channels) to weigh", "layer")
    model = computer.model
    head, to_logits, score_name = _head(model)
    # From the layer's call outwards: its container to that container's output, then each holding model.
    cuts = [(e.container, e.call.output)]
    for depth in range(len(e.chain) - 1, -1, -1):
        call = e.chain[depth]
        holder = e.chain[depth - 1].layer if depth > 0 else model
        cuts.append((holder, call.output))
    tails = []
    for container, start in cuts:
        end = head if container is model else container.outputs[0]
        if end is start:  # the layer is where this model's output comes from: nothing to add
            if container is model:
                break
            continue
        try:
            tails.append(keras.Model(start, end))
        except ValueError:
            raise ModelError(
                f"Grad-CAM can't be taken at {layer!r}: the network also goes around it (a skip connection), "
                "so the output is not a function of its maps alone. Pick a layer after the branches meet.",
                "layer",
            ) from None
        if container is model:
            break
    maps = computer.compute(batch, [layer])[layer]
    a = tf.constant(maps[None])
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = a
        for tail in tails:
            y = tail(y, training=False)
        if to_logits is not None:
            y = to_logits(y)
        y = tf.reshape(y, (1, -1))
        n = int(y.shape[1])
        if not 0 <= unit < n:
            raise ModelError(f"unit {unit} does not exist; the output has units 0 to {n - 1}", "unit")
        score = y[0, unit]
    grads = np.asarray(tape.gradient(score, a))[0]
    alpha = grads.mean(axis=(0, 1))
    coarse = np.maximum(np.tensordot(maps, alpha, axes=([2], [0])), 0.0).astype(np.float32)
    size = batch.shape[1:3]
    heat = tf.image.resize(coarse[None, :, :, None], size, method="bilinear").numpy()[0, :, :, 0]
    top = float(heat.max())
    heat = heat / top if top > 0 else np.zeros_like(heat)
    return GradCam(layer, unit, alpha.astype(np.float32), coarse, heat.astype(np.float32), score_name)
