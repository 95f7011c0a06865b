"""Section "core": cnn_core.run_pipeline against the article's eager TensorFlow calls and against OpenCV.

The three implementations compute conv 3×3 ("same" zero padding) → ReLU → 2×2 max pool, stride 2,
on the same decoded uint8 image, and must agree to 1e-5 before anything is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .stats import Figure, Target, interleaved, ms, ratios, unavailable

SECTION = "core"
EDGE = [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]  # the article's kernel
RGB_PRESETS = ["edge", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian", "gaussian_3", "identity"]
RTOL = 1e-5


class AgreementError(AssertionError):
    """Two implementations gave different maps."""


def have_cv2() -> bool:
    try:
        import cv2  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- inputs


def photo(side: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A photo-like uint8 picture, (side, side) or (side, side, 3): smooth shapes, edges and some noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / max(side, 1)
    planes = []
    for c in range(channels):
        f = 3 + 2 * c
        v = 110 + 60 * np.sin(f * 6.3 * xx + c) * np.cos(4 * 6.3 * yy) + 50 * ((xx - 0.5) ** 2 + (yy - 0.4) ** 2 < 0.06)
        v += rng.normal(0, 12, (side, side))
        planes.append(v)
    a = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    return a[:, :, 0] if channels == 1 else a


def spec_for(color: str, filters: list, layers: int = 1, pool: bool = True) -> dict:
    """conv 3×3 same → ReLU (repeated ``layers`` times) → optional 2×2 max pool; no resize."""
    stack: list[dict] = []
    for _ in range(layers):
        stack.append({"type": "conv2d", "filters": filters, "stride": 1, "padding": "same", "dilation": 1, "bias": 0.0})
        stack.append({"type": "activation", "function": "relu"})
    if pool:
        stack.append({"type": "pool2d", "mode": "max", "size": 2, "stride": 2, "padding": "same"})
    return {"version": 1, "input": {"color": color, "size": None}, "layers": stack}


def kernel_of(spec: dict, in_channels: int) -> np.ndarray:
    """The first conv layer's weights, float32 (3, 3, in_channels, filters), as the pipeline builds them."""
    import cnn_core

    return cnn_core.layer_kernel(cnn_core.parse_spec(spec).layers[0], in_channels)


# --------------------------------------------------------------------------- the three implementations


def run_pipeline_maps(image: np.ndarray, spec: dict) -> list[np.ndarray]:
    """conv, ReLU and pool maps from cnn_core.run_pipeline (no cache), each (height, width, channels)."""
    import cnn_core

    return [s.maps for s in cnn_core.run_pipeline(image, spec)[1:]]


def eager_tf(image: np.ndarray, kernel) -> list[np.ndarray]:
    """The reference article's calls on a decoded uint8 image, conversions included.

    ``kernel`` is the article's nested list (kh, kw) or an array (kh, kw, in_channels, filters).
    """
    from cnn_core import ops  # TensorFlow, imported quietly in one place

    tf = ops.tf
    image = tf.convert_to_tensor(image if image.ndim == 3 else image[:, :, None])
    image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    image = tf.expand_dims(image, axis=0)
    kernel = tf.constant(kernel)
    shape = kernel.shape.as_list()
    kernel = tf.reshape(kernel, [*shape, 1, 1] if len(shape) == 2 else shape)
    kernel = tf.cast(kernel, dtype=tf.float32)
    image_filter = tf.nn.conv2d(input=image, filters=kernel, strides=1, padding="SAME")
    image_detect = tf.nn.relu(image_filter)
    image_condense = tf.nn.pool(
        input=image_detect, window_shape=(2, 2), pooling_type="MAX", strides=(2, 2), padding="SAME"
    )
    # The article turns each stage into NumPy to plot it; the pipeline hands back NumPy too.
    return [t[0].numpy() for t in (image_filter, image_detect, image_condense)]


def opencv(image: np.ndarray, kernel: np.ndarray) -> list[np.ndarray]:
    """The same maths in OpenCV: filter2D (correlation, zero border), max(·, 0), 2×2 dilate + subsample.

    ``kernel`` is float32 (kh, kw, in_channels, filters); a multi-channel input is
    filtered channel by channel and summed per filter, as conv2d does.
    """
    import cv2

    x = image.astype(np.float32) * np.float32(1 / 255)
    kh, kw, cin, nf = kernel.shape
    if x.ndim == 2 and nf == 1:
        conv = cv2.filter2D(x, cv2.CV_32F, kernel[:, :, 0, 0], borderType=cv2.BORDER_CONSTANT)[:, :, None]
    else:
        planes = cv2.split(x) if x.ndim == 3 else [x]
        outs = []
        for f in range(nf):
            acc = cv2.filter2D(planes[0], cv2.CV_32F, kernel[:, :, 0, f], borderType=cv2.BORDER_CONSTANT)
            for c in range(1, cin):
                acc += cv2.filter2D(planes[c], cv2.CV_32F, kernel[:, :, c, f], borderType=cv2.BORDER_CONSTANT)
            outs.append(acc)
        conv = cv2.merge(outs) if nf > 1 else outs[0]
        conv = conv.reshape(*conv.shape[:2], nf)
    relu = np.maximum(conv, np.float32(0))
    # Max over each 2×2 window anchored at its top-left, then every second row and column;
    # outside the image the default border counts as -inf, as TensorFlow's "same" pooling pads.
    grown = cv2.dilate(relu, np.ones((2, 2), np.uint8), anchor=(0, 0))
    pool = np.ascontiguousarray(grown.reshape(relu.shape)[::2, ::2])
    return [conv, relu, pool]


# --------------------------------------------------------------------------- agreement


def agree(got: list[np.ndarray], ref: list[np.ndarray], what: str, rtol: float = RTOL) -> float:
    """Raise AgreementError unless every stage matches; returns the worst error relative to the maps' magnitude.

    Each stage passes when ``|got - ref| <= rtol * |ref| + rtol * max|ref|``.
    """
    worst = 0.0
    for name, a, b in zip(("conv2d", "activation", "pool2d"), got, ref):
        a = np.asarray(a, dtype=np.float32)
        b = np.asarray(b, dtype=np.float32)
        if a.shape != b.shape:
            raise AgreementError(f"{what}: {name} has shape {a.shape}, the pipeline's is {b.shape}")
        scale = float(np.max(np.abs(b))) or 1.0
        err = np.abs(a.astype(np.float64) - b)
        bad = err > rtol * np.abs(b) + rtol * scale
        if bad.any():
            i = tuple(int(v) for v in np.unravel_index(int(np.argmax(err)), err.shape))
            raise AgreementError(
                f"{what}: {name} differs at {i}: {a[i]} vs the pipeline's {b[i]} "
                f"({int(bad.sum())} values beyond rtol {rtol:g}, atol {rtol * scale:.3g})"
            )
        worst = max(worst, float(err.max()) / scale)
    if len(got) != len(ref):
        raise AgreementError(f"{what}: {len(got)} stages, the pipeline has {len(ref)}")
    return worst


@dataclass
class Case:
    label: str  # e.g. "1ch 1024²"
    image: np.ndarray
    spec: dict
    article_kernel: object  # what eager_tf gets: the article's list or a (kh, kw, c, f) array

    @property
    def kernel(self) -> np.ndarray:
        return kernel_of(self.spec, 1 if self.image.ndim == 2 else self.image.shape[2])


def gray_case(side: int) -> Case:
    return Case(f"1ch {side}²", photo(side), spec_for("grayscale", ["edge"]), EDGE)


def rgb_case(side: int, filters: int = 8) -> Case:
    spec = spec_for("rgb", RGB_PRESETS[:filters])
    return Case(f"RGB {side}² {filters} filters", photo(side, 3, seed=1), spec, kernel_of(spec, 3))


def run_pipeline_eager_maps(image: np.ndarray, spec: dict) -> list[np.ndarray]:
    """run_pipeline_maps with every op forced to its eager tf.nn form (the choice switched off)."""
    from cnn_core import formulations

    with formulations.forcing("eager"):
        return run_pipeline_maps(image, spec)


def implementations(case: Case, with_cv2: bool) -> dict[str, Callable[[], list[np.ndarray]]]:
    fns = {
        "run_pipeline": lambda: run_pipeline_maps(case.image, case.spec),
        "run_pipeline, eager ops only": lambda: run_pipeline_eager_maps(case.image, case.spec),
        "eager TF": lambda: eager_tf(case.image, case.article_kernel),
    }
    if with_cv2:
        kernel = case.kernel
        fns["OpenCV"] = lambda: opencv(case.image, kernel)
    return fns


def check_case(case: Case, with_cv2: bool) -> dict[str, float]:
    """Every implementation against run_pipeline; the worst relative error of each."""
    fns = implementations(case, with_cv2)
    ref = fns.pop("run_pipeline")()
    return {name: agree(fn(), ref, f"{name} on {case.label}") for name, fn in fns.items()}


# --------------------------------------------------------------------------- the section


def run(quick: bool, repeats: int) -> tuple[list[Figure], dict]:
    with_cv2 = have_cv2()
    if quick:
        cases = [gray_case(64), gray_case(128), rgb_case(96)]
        target_label, rgb_label = "1ch 128²", "RGB 96² 8 filters"
    else:
        cases = [gray_case(300), gray_case(1024), gray_case(2048), rgb_case(1024)]
        target_label, rgb_label = "1ch 1024²", "RGB 1024² 8 filters"
    figures: list[Figure] = []
    detail: dict = {"opencv": with_cv2, "cases": {}}
    for case in cases:
        errors = check_case(case, with_cv2)  # raises before any timing if they disagree
        times = interleaved(implementations(case, with_cv2), repeats)
        detail["cases"][case.label] = {"max_rel_error": errors, "seconds": times}
        for name, t in times.items():
            figures.append(Figure(SECTION, f"{name}, {case.label}", "ms", ms(t), quick=quick))
        pipe = times["run_pipeline"]
        is_target = case.label == target_label
        figures.append(
            Figure(
                SECTION,
                f"speed-up of run_pipeline over eager TF, {case.label}",
                "×",
                ratios(times["eager TF"], pipe),
                Target(">=", 10, "×") if is_target else None,
                quick=quick,
            )
        )
        name = f"run_pipeline time ÷ OpenCV time, {case.label}"
        target = Target("<=", 2, "×") if case.label in (target_label, rgb_label) else None
        if with_cv2:
            figures.append(Figure(SECTION, name, "×", ratios(pipe, times["OpenCV"]), target, quick=quick))
        else:
            figures.append(
                unavailable(SECTION, name, "×", "OpenCV not installed (pip install -r requirements-bench.txt)", target)
            )
        figures.append(
            Figure(
                SECTION,
                f"speed-up of the chosen formulations over eager ops only, {case.label}",
                "×",
                ratios(times["run_pipeline, eager ops only"], pipe),
                quick=quick,
            )
        )
        if is_target:
            figures += tf_alone(case, repeats, quick)
    choices = chosen_formulations()
    detail["formulations"] = choices
    detail["sentences"] = [formulation_sentence(choices)] if choices else []
    compiles = [v for c in choices for k, v in c["seconds"].items() if k.endswith(" compile")]
    if compiles:
        figures.append(
            Figure(
                SECTION,
                "slowest compile of a formulation at first use (each new shape)",
                "s",
                [max(compiles)],
                Target("<=", 0.5, "s"),
                quick=quick,
            )
        )
    return figures, detail


def tf_alone(case: Case, repeats: int, quick: bool) -> list[Figure]:
    """Eager tf.nn.conv2d and tf.nn.max_pool2d alone on the case's prepared input: is TensorFlow slow here?"""
    from cnn_core import ops

    tf = ops.tf
    x = (case.image.astype(np.float32) / np.float32(255))[None, :, :, None]
    k = case.kernel
    y = np.maximum(np.asarray(tf.nn.conv2d(x, k, 1, "SAME")), np.float32(0))
    times = interleaved(
        {
            "eager tf.nn.conv2d alone": lambda: np.asarray(tf.nn.conv2d(x, k, 1, "SAME")),
            "eager tf.nn.max_pool2d alone": lambda: np.asarray(tf.nn.max_pool2d(y, 2, 2, "SAME")),
        },
        repeats,
    )
    return [Figure(SECTION, f"{name}, {case.label}", "ms", ms(t), quick=quick) for name, t in times.items()]


def chosen_formulations() -> list[dict]:
    """What cnn_core.formulations chose in this process, per operation and input shape, with its timings."""
    from cnn_core import formulations

    out = []
    for key, choice in formulations.CHOOSER.choices().items():
        out.append(
            {
                "op": key[0],
                "input": "×".join(str(v) for v in key[1]),
                "chosen": choice.name,
                "seconds": dict(choice.seconds),
                "rejected": dict(choice.rejected),
            }
        )
    return out


def formulation_sentence(choices: list[dict]) -> str:
    """One sentence: which formulation each op and shape got, and the first-use timings it was chosen by."""
    parts = []
    for c in choices:
        timings = ", ".join(
            f"{k} {1000 * v:.1f} ms" if not k.endswith(" compile") else f"{k} {v:.2f} s"
            for k, v in c["seconds"].items()
        )
        parts.append(f"{c['op']} on {c['input']} → {c['chosen']} ({timings})")
    return "Formulations chosen at first use (one timing each, under this run's load): " + "; ".join(parts) + "."
