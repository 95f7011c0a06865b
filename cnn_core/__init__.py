"""cnn_core: what a convolutional layer does to an image, on TensorFlow. Never imports streamlit.

>>> import cnn_core
>>> stages = cnn_core.run_pipeline(image, cnn_core.default_spec())
>>> [(s.name, s.maps.shape) for s in stages]
"""

import importlib
import importlib.util
import sys
import types

# Where each public name lives. They are imported on first use, so that ``python -m cnn_core`` can refuse a
# bad path in a moment, before TensorFlow (seconds, hundreds of MB) is imported.
_EXPORTS = {
    "activations": ("Activations",),
    "errors": ("Cancelled", "CnnError", "ImageError", "SpecError"),
    "explain": ("ExplainError", "Explanation", "explain", "receptive_field"),
    "images": ("MAX_PIXELS", "decode_image", "load_image"),
    "kernels": ("PRESETS",),
    "ops": ("device_label",),
    "pipeline": (
        "PlanError",
        "Stage",
        "StageCache",
        "StagePlan",
        "axis_arithmetic",
        "plan",
        "prepare_input",
        "run_pipeline",
    ),
    "spec": ("Activation", "Conv2D", "InputSpec", "Pool2D", "Spec", "default_spec", "layer_kernel", "parse_spec"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}


class _Package(types.ModuleType):
    """Keeps ``cnn_core.explain`` the function once the ``cnn_core.explain`` module is imported, as it was
    when this file imported everything eagerly (importing a submodule binds its name on the package)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _HOME and isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    if name.isidentifier() and not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f".{name}", __name__)  # a submodule, as the eager imports made it
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


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
