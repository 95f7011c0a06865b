"""A Tiny VGG (CNN Explainer's architecture) that classifies the shapes of ``shapes_data``, and every number
between its pixels and its probabilities.

    >>> model = load_model()                        # the network the project trained and ships
    >>> x = prepare_input(photo)                    # float32 (64, 64, 3) in [0, 1], framed like a drawing
    >>> acts = activations(model, x)                # every layer's maps, as cnn_core.activations.Activations
    >>> acts.output, CLASSES[predicted(acts)]       # the probabilities and the answer
    >>> cam = grad_cam(model, x, run.predicted)     # where the network looked

The layers, each named for what it is::

    input 64×64×3 → conv_1_1 (10 filters 3×3, valid) → relu_1_1 → conv_1_2 → relu_1_2 → max_pool_1 (2×2)
                  → conv_2_1 → relu_2_1 → conv_2_2 → relu_2_2 → max_pool_2 → flatten (13·13·10 = 1690)
                  → dense (7 logits: six shapes and "none") → temperature (÷ T) → softmax

The probabilities are softmax(logits / T): T is the temperature that calibrates them, fitted on held-out
pictures after training and stored in the model as the ``temperature`` layer (a ``Rescaling`` by 1/T), so
that "90%" means right about nine times in ten. The page's logits are the dense layer's, before ÷ T.

Everything here returns NumPy arrays; no ``tf.Tensor`` leaves this module.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import framing
from .activations import Activations
from .errors import CnnError, ImageError
from .shapes_data import CLASSES, NONE, SIDE

MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "tiny_vgg.keras"
FILTERS = 10
CONV_LAYERS = ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2")
GRAD_CAM_LAYER = "relu_2_2"  # the last convolution's maps, rectified: what Grad-CAM weighs
LAST_POOL = "max_pool_2"


def build_model(num_classes: int = len(CLASSES), temperature: float = 1.0) -> keras.Model:
    """The untrained Tiny VGG: input (64, 64, 3) floats in [0, 1] → softmax(logits / temperature) over
    ``num_classes``."""
    if not temperature > 0:
        raise CnnError(f"The temperature must be above 0, got {temperature}.")
    inputs = keras.Input((SIDE, SIDE, 3), name="input")
    x = inputs
    for block in (1, 2):
        for unit in (1, 2):
            x = keras.layers.Conv2D(FILTERS, 3, padding="valid", name=f"conv_{block}_{unit}")(x)
            x = keras.layers.ReLU(name=f"relu_{block}_{unit}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"max_pool_{block}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(num_classes, name="dense")(x)
    x = keras.layers.Rescaling(1.0 / temperature, name="temperature")(x)
    outputs = keras.layers.Softmax(name="softmax")(x)
    return keras.Model(inputs, outputs, name="tiny_vgg")


def load_model(path: str | Path = MODEL_PATH) -> keras.Model:
    """The trained network from a ``.keras`` file, loaded without compiling and with Keras's safe mode."""
    path = Path(path)
    if not path.is_file():
        raise CnnError(f"The trained model {path.name} is missing; run `python -m cnn_core.train` to make it.")
    return keras.saving.load_model(path, compile=False, safe_mode=True)


def temperature(model: keras.Model) -> float:
    """The model's temperature T (probabilities are softmax(logits / T)); 1 for a model without one."""
    try:
        layer = model.get_layer("temperature")
    except ValueError:
        return 1.0
    return 1.0 / float(layer.scale)


def with_temperature(model: keras.Model, t: float) -> keras.Model:
    """The same network with temperature ``t``: a new model holding a copy of ``model``'s weights."""
    out = build_model(model.get_layer("dense").units, t)
    out.set_weights(model.get_weights())
    return out


def model_card(path: str | Path = MODEL_PATH) -> dict | None:
    """What the training run measured (held-out accuracy, seeds, sizes), from the JSON beside the model."""
    card = Path(path).with_suffix(".json")
    try:
        return json.loads(card.read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- the input


def prepare_input(image: np.ndarray, frame: bool = True) -> np.ndarray:
    """Any picture as the network sees it, RGB in [0, 1] at 64×64: a drawing on plain paper cropped to its
    ink (with a margin, made square), anything else to its centre square (``framing.frame``).

    Args:
        image: uint8 (height, width) grey, (height, width, 3) RGB or (height, width, 4) RGBA.
            Transparent pixels are laid over white (a drawing's empty canvas).
        frame: False takes the centre square whatever the picture: for a picture that already is the
            network's input (a link carries it), which framing again would enlarge.

    Returns:
        float32 (64, 64, 3).
    """
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or a.size == 0 or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)):
        raise ImageError(f"Expected a uint8 picture of shape (H, W), (H, W, 3) or (H, W, 4), got {a.dtype} {a.shape}.")
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[..., 3:4].astype(np.float32) / 255.0
        a = np.rint(a[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    return (framing.frame(a) if frame else framing.centre_square(a)).astype(np.float32) / 255.0


# --------------------------------------------------------------------------- the forward pass


FLAT = "flatten"  # the path of the flattened vector, float32 (1690,), in TensorFlow's channels-last order
LOGITS = "dense"  # the path of the logits, float32 (classes,): ``flat @ W + b``, before ÷ T
_COMPUTER_LOCK = threading.Lock()


def map_layers(model: keras.Model) -> list:
    """The layers whose outputs are maps (conv, ReLU and pooling), in order."""
    return [layer for layer in model.layers if type(layer).__name__ in ("Conv2D", "ReLU", "MaxPooling2D")]


def _batch(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.shape != (SIDE, SIDE, 3):
        raise ImageError(f"The network takes one picture of shape (64, 64, 3); got {x.shape}. Use prepare_input.")
    return x[None]


def activations(model: keras.Model, x: np.ndarray) -> Activations:
    """Run the network on one prepared picture and keep every layer's output.

    Args:
        model: a Tiny VGG from ``build_model`` or ``load_model``.
        x: float32 (64, 64, 3) in [0, 1], from ``prepare_input``.

    Returns:
        The ``cnn_core.activations.Activations`` of the network, every layer's maps computed in one call:
        "input" and each conv, ReLU and pooling layer by name (``image_layers``, each (height, width,
        channels)), ``FLAT`` (1690,), ``LOGITS`` (classes,), "temperature" (the logits ÷ T) and, last, the
        probabilities (``output``, classes,). The same type the Playground, the Layer stack and Your model use,
        so its values can be explained (``Activations.explain``).
    """
    from .model_maps import activations as model_activations

    return model_activations(map_computer(model), _batch(x)).fill()


def predicted(acts: Activations) -> int:
    """The class with the largest probability."""
    return int(np.argmax(acts.output))


def dense_weights(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """The dense layer's kernel float32 (1690, classes) and bias float32 (classes,)."""
    w, b = model.get_layer("dense").get_weights()
    return w.astype(np.float32), b.astype(np.float32)


def conv_filters(model: keras.Model, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A conv layer's learned kernel float32 (3, 3, in_channels, filters) and bias float32 (filters,)."""
    if name not in CONV_LAYERS:
        raise CnnError(f"{name!r} is not a convolution of this network; those are {', '.join(CONV_LAYERS)}.")
    k, b = model.get_layer(name).get_weights()
    return k.astype(np.float32), b.astype(np.float32)


# --------------------------------------------------------------------------- the answer

UNSURE_TOP = 0.6  # a top probability at or below this is not an answer
CLOSE_GAP = 0.3  # nor is a top class less than this ahead of the second


@dataclass(frozen=True)
class Verdict:
    """What the network's probabilities amount to.

    Attributes:
        label: the most probable class.
        runner_up: the second most probable class.
        sure: False when the answer is "none", the top probability is at most ``UNSURE_TOP``, or the top two
            are within ``CLOSE_GAP`` of each other.
        reason: one sentence saying why it is unsure ("" when sure).
    """

    label: int
    runner_up: int
    sure: bool
    reason: str


def verdict(probabilities: np.ndarray) -> Verdict:
    """Read calibrated probabilities (classes,) as an answer, saying when it is "none of these" or unsure."""
    p = np.asarray(probabilities, dtype=np.float64)
    first, second = (int(i) for i in np.argsort(-p, kind="stable")[:2])
    top, gap = p[first], p[first] - p[second]
    if first == NONE:
        reason = "it looks like none of the six shapes"
    elif top <= UNSURE_TOP:
        reason = f"its best guess, {CLASSES[first]}, has only {top:.0%}"
    elif gap < CLOSE_GAP:
        reason = f"{CLASSES[first]} ({top:.0%}) and {CLASSES[second]} ({p[second]:.0%}) are close"
    else:
        reason = ""
    return Verdict(first, second, not reason, reason)


# --------------------------------------------------------------------------- flatten, dense, softmax


def flat_position(index: int, shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Where entry ``index`` of the flattened vector comes from: (row, col, channel) of maps ``shape``.

    TensorFlow stores maps channels-last, (height, width, channels), and flattens in that order, so the
    channel changes fastest: index = (row · width + col) · channels + channel.
    """
    h, w, c = shape
    if not 0 <= index < h * w * c:
        raise CnnError(
            f"Flattened index {index} is out of range; there are {h * w * c} entries (0 to {h * w * c - 1})."
        )
    row, rest = divmod(index, w * c)
    col, channel = divmod(rest, c)
    return row, col, channel


@dataclass(frozen=True)
class Contribution:
    """One term ``weight × activation`` of a class's logit."""

    index: int
    row: int
    col: int
    channel: int
    activation: float
    weight: float

    @property
    def product(self) -> float:
        return self.activation * self.weight


def contributions(flat: np.ndarray, kernel: np.ndarray, label: int, shape: tuple[int, int, int]) -> np.ndarray:
    """Every term of class ``label``'s logit, ``flat[i] · W[i, label]``, laid back onto the pooled maps.

    Returns:
        float32 ``shape`` (height, width, channels); its sum plus the bias is the logit.
    """
    return (flat * kernel[:, label]).reshape(shape).astype(np.float32)


def top_contributions(
    flat: np.ndarray, kernel: np.ndarray, label: int, shape: tuple[int, int, int], k: int = 10
) -> list[Contribution]:
    """The ``k`` terms of class ``label``'s logit that are largest in size (either sign), largest first."""
    terms = flat * kernel[:, label]
    order = np.argsort(-np.abs(terms), kind="stable")[:k]
    return [Contribution(int(i), *flat_position(int(i), shape), float(flat[i]), float(kernel[i, label])) for i in order]


def softmax(logits: np.ndarray) -> np.ndarray:
    """exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z), float64: the same as exp(zᵢ)/Σ exp(zⱼ), without overflow."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


# --------------------------------------------------------------------------- Grad-CAM


@dataclass(frozen=True)
class GradCam:
    """Where the network looked for one class.

    Attributes:
        label: the class explained.
        weights: float32 (channels,), αₖ: the mean gradient of the class's logit over map k.
        coarse: float32 (26, 26), ReLU(Σₖ αₖ Aₖ) on the last convolution's grid.
        heat: float32 (64, 64), ``coarse`` resized bilinearly onto the input and scaled to [0, 1]
            (all zeros when nothing speaks for the class).
    """

    label: int
    weights: np.ndarray
    coarse: np.ndarray
    heat: np.ndarray


_COMPUTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def map_computer(model: keras.Model):
    """The model's ``model_maps.MapComputer`` (one per loaded model)."""
    from .model_maps import MapComputer

    with _COMPUTER_LOCK:
        c = _COMPUTERS.get(model)
        if c is None:
            c = _COMPUTERS[model] = MapComputer(model)
        return c


def grad_cam(model: keras.Model, x: np.ndarray, label: int, layer: str = GRAD_CAM_LAYER) -> GradCam:
    """Grad-CAM (Selvaraju et al., 2017) of class ``label``, by default from the last convolution after its ReLU.

    αₖ is the gradient of the class's logit (before softmax) with respect to map Aₖ, averaged over the map;
    the map is ReLU(Σₖ αₖ Aₖ). Computed by ``cnn_core.gradcam``, which works for any model and layer.

    Args:
        model: a Tiny VGG.
        x: float32 (64, 64, 3), from ``prepare_input``.
        label: the class to explain, 0 to classes − 1.
        layer: the layer whose maps are weighed.
    """
    from . import gradcam

    n = model.get_layer("dense").units
    if not 0 <= label < n:
        raise CnnError(f"Class {label} does not exist; classes run from 0 to {n - 1}.")
    cam = gradcam.grad_cam(map_computer(model), _batch(x), layer, label)
    return GradCam(label, cam.alpha, cam.coarse, cam.heat)
