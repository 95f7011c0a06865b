"""cnn_core: what a convolutional layer does to an image, on TensorFlow. Never imports streamlit.

    >>> import cnn_core
    >>> stages = cnn_core.run_pipeline(image, cnn_core.default_spec())
    >>> [(s.name, s.maps.shape) for s in stages]
"""

from .activations import Activations
from .errors import Cancelled, CnnError, ImageError, SpecError
from .explain import ExplainError, Explanation, explain, receptive_field
from .images import MAX_PIXELS, decode_image, load_image
from .kernels import PRESETS
from .ops import device_label
from .pipeline import (
    PlanError,
    Stage,
    StageCache,
    StagePlan,
    axis_arithmetic,
    plan,
    prepare_input,
    run_pipeline,
)
from .spec import Activation, Conv2D, InputSpec, Pool2D, Spec, default_spec, layer_kernel, parse_spec

__all__ = [
    "Activation",
    "Activations",
    "Cancelled",
    "CnnError",
    "Conv2D",
    "ExplainError",
    "Explanation",
    "ImageError",
    "InputSpec",
    "MAX_PIXELS",
    "PRESETS",
    "PlanError",
    "Pool2D",
    "Spec",
    "SpecError",
    "Stage",
    "StageCache",
    "StagePlan",
    "axis_arithmetic",
    "decode_image",
    "default_spec",
    "device_label",
    "explain",
    "layer_kernel",
    "load_image",
    "parse_spec",
    "plan",
    "prepare_input",
    "receptive_field",
    "run_pipeline",
]
