"""Opening a stranger's model file without running any of its code.

A ``.keras`` file is a zip of ``config.json`` (the architecture), ``model.weights.h5``
(the numbers) and ``metadata.json``. Keras has had a series of loading bugs in which a
file ran code or exhausted memory (CVE-2024-3660, CVE-2025-1550, -8747, -9905, -9906,
-12058, -49655, CVE-2026-0897, -1462), so before Keras sees a file this module checks:

1. the zip: its size, its entries (only those three names) and their uncompressed size;
2. every object named in ``config.json``: only built-in Keras layers, initialisers,
   regularisers and constraints from an allow-list; Lambda, TFSMLayer, the lookup and
   text layers, Python functions, custom or registered objects and any module outside
   Keras are refused with the reason;
3. the declared weight shapes: Keras builds the architecture with its variables left
   unallocated and the total is capped, and the weights file's datasets are read by
   their headers only (no data) and capped too; links, external storage and virtual
   datasets that would reach outside the file are refused;

and then loads it with ``safe_mode=True, compile=False``. Every refusal is a
``ModelError`` whose message is one sentence a person can act on.
"""

from __future__ import annotations

import gc
import io
import json
import math
import os
import re
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, replace

from .errors import PARSER_FAILURES, CnnError, ModelError, unexpected
from .images import MAX_FILE_BYTES, size_text
from .model_maps import MAX_FREE_SIDE, MAX_TENSOR_VALUES

# --------------------------------------------------------------------------- the caps (the page states them)

MAX_ENTRIES = 8  # a .keras file holds 3
MAX_UNCOMPRESSED_BYTES = 256 * 10**6  # all entries together, as declared and as read
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_LAYERS = 1000  # nested layers included
MAX_WEIGHT_VALUES = 50_000_000  # 200 MB of float32, declared by the config or by the weights file
MAX_SIDE = 2048  # a fixed input height or width
MAX_INPUT_CHANNELS = 4
# Keras builds a Sequential by rebuilding it after every layer it adds, so its build time grows with the
# square of its length (200 layers took 40 s on 2 loaded cores); a functional model builds in one pass.
MAX_SEQUENTIAL_LAYERS = 120
MAX_DEPTH = 400  # the longest chain of layers from input to output (Keras recurses along it)
MAX_BUILD_SECONDS = 8.0  # each of the two builds (counting weights, then loading) may take this long
# What a loaded model may take: its weights as Keras loads them (LOAD_COPIES copies of each number at the
# peak: the unpacked archive, the HDF5 read, the variables) plus its largest declared tensors.
MAX_MODEL_BYTES = 768 * 1024 * 1024
LOAD_COPIES = 5  # measured: loading 49 M zero weights (196 MB) grew the process by 959 MB

ENTRIES = ("config.json", "metadata.json", "model.weights.h5")

# --------------------------------------------------------------------------- the allow-list

_LAYERS = frozenset(
    """
InputLayer Conv1D Conv2D Conv2DTranspose DepthwiseConv2D SeparableConv2D Dense
Activation ReLU LeakyReLU PReLU ELU Softmax
BatchNormalization LayerNormalization GroupNormalization UnitNormalization
Dropout SpatialDropout2D GaussianNoise GaussianDropout AlphaDropout ActivityRegularization
MaxPooling2D AveragePooling2D GlobalAveragePooling2D GlobalMaxPooling2D
Flatten Reshape Permute ZeroPadding2D Cropping2D UpSampling2D Identity
Add Subtract Multiply Average Maximum Minimum Concatenate
Rescaling Normalization Resizing CenterCrop
RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomBrightness RandomCrop
""".split()
)
_INITIALIZERS = frozenset(
    """
Constant GlorotNormal GlorotUniform HeNormal HeUniform Identity IdentityInitializer LecunNormal LecunUniform
Ones Orthogonal OrthogonalInitializer RandomNormal RandomUniform TruncatedNormal VarianceScaling Zeros
""".split()
)
_ALLOWED = {
    "keras.layers": _LAYERS,
    "keras.initializers": _INITIALIZERS,
    "keras.regularizers": frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    "keras.constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
    "keras": frozenset({"Sequential", "Functional", "DTypePolicy", "FloatDTypePolicy"}),
    "keras.models": frozenset({"Sequential", "Functional"}),
    "keras.src.models.functional": frozenset({"Functional"}),
    "keras.src.models.sequential": frozenset({"Sequential"}),
    None: frozenset({"__keras_tensor__", "__numpy__", "__tensor__"}),
}
_MODELS = frozenset({"Sequential", "Functional"})
ACTIVATIONS = frozenset(
    """
celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu linear
log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink softmax softplus softsign sparse_plus
sparse_sigmoid sparsemax squareplus swish tanh tanh_shrink threshold
""".split()
)

# Named refusals: what the object would do, in words.
_REFUSED = {
    "Lambda": "a Lambda layer, which runs Python code stored in the file",
    "TFSMLayer": "a TFSMLayer, which loads a TensorFlow SavedModel from a path outside the file",
    "StringLookup": "a StringLookup layer, which can read a vocabulary file from any path on the server",
    "IntegerLookup": "an IntegerLookup layer, which can read a vocabulary file from any path on the server",
    "TextVectorization": "a TextVectorization layer, which can read a vocabulary file from any path on the server",
    "Hashing": "a Hashing layer (text input, not an image layer)",
    "function": "a Python function stored by name, which would be imported and run",
    "__lambda__": "Python bytecode (a lambda), which would run on load",
    "__bytes__": "raw bytes, which no image layer needs",
}


@dataclass(frozen=True)
class CheckedModel:
    """What the checks learned before Keras saw the file.

    Attributes:
        config: the parsed ``config.json``.
        layer_count: layers named in the config, nested ones included.
        weight_values: numbers in the weights file, from its dataset headers.
        keras_version: the version that saved it, as ``metadata.json`` says ("" if not said).
    """

    config: dict
    layer_count: int
    weight_values: int
    keras_version: str
    archive: bytes = b""  # the archive Keras loads: the checked entries only, rebuilt
    class_names: tuple[str, ...] | None = None  # metadata.json's "classes" or "labels", when it has them


def caps_text() -> list[str]:
    """The limits, one line each, for the page and the documentation."""
    return [
        f"only the `.keras` format (a zip), up to {size_text(MAX_FILE_BYTES)}, with at most {MAX_ENTRIES} entries "
        f"and {size_text(MAX_UNCOMPRESSED_BYTES)} unpacked",
        f"built-in Keras layers only, at most {MAX_LAYERS:,} (nested ones included); no Lambda, TFSMLayer, "
        "lookup or text layers, custom objects or modules outside Keras",
        f"at most {MAX_WEIGHT_VALUES / 1e6:.0f} million weights, as declared by the architecture and by the weights file",
        f"one image input, height and width up to {MAX_SIDE} (or free), 1 to {MAX_INPUT_CHANNELS} channels",
        f"at most {MAX_DEPTH} layers in a row and {MAX_SEQUENTIAL_LAYERS} in one Sequential; each build may take "
        f"{MAX_BUILD_SECONDS:g} s",
        f"at most {MAX_MODEL_BYTES // 2**20:,} MB of memory, estimated before Keras builds anything from the weights "
        "file and every tensor shape the config declares (build configurations and inner input shapes included)",
        "loaded with Keras's safe mode on and without compiling",
        f"before a forward pass runs, no tensor in it may hold more than {MAX_TENSOR_VALUES / 1e6:.0f} million values",
    ]


# --------------------------------------------------------------------------- the checks


def check_model_bytes(data: bytes, name: str = "model.keras") -> CheckedModel:
    """Check a model file's bytes before Keras reads them.

    Args:
        data: the file's bytes.
        name: the file's name as given (only its extension is looked at).

    Returns:
        What was checked: the parsed config, the layer and weight counts.

    Raises:
        ModelError: with one sentence saying why the file is refused.
    """
    _check_kind(data, name)
    zf = _open_zip(data)
    config = _read_json(zf, "config.json", MAX_CONFIG_BYTES)
    meta = _read_json(zf, "metadata.json", 64 * 1024) if "metadata.json" in zf.namelist() else {}
    counts = {"layers": 0}
    _check_objects(config, counts, depth=0)
    # Training settings (optimizer, loss, metrics) are never used: the model is loaded without compiling.
    config = _without_compile_config(config)
    if counts["layers"] > MAX_LAYERS:
        raise ModelError(f"the model has {counts['layers']:,} layers; at most {MAX_LAYERS:,} are accepted", "model")
    _check_top(config)
    _check_structure(config)
    # Everything below the config that sizes memory is known before Keras builds anything: the weights
    # file's headers and every shape the config declares.
    weights = (
        _read_bounded(zf, "model.weights.h5", MAX_UNCOMPRESSED_BYTES) if "model.weights.h5" in zf.namelist() else b""
    )
    values = _check_weights_file(weights) if weights else 0
    _check_memory(values, declared_tensors(config))
    declared = _check_declared_weights(config)
    _check_memory(max(values, declared), declared_tensors(config))
    version = meta.get("keras_version", "") if isinstance(meta, dict) else ""
    # Keras gets exactly what was checked: the parsed config (as JSON again), the metadata and the weights.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        out.writestr("metadata.json", json.dumps(meta if isinstance(meta, dict) else {}))
        out.writestr("config.json", json.dumps(config))
        if weights:
            out.writestr("model.weights.h5", weights)
    names = class_names_from(meta.get("classes", meta.get("labels")) if isinstance(meta, dict) else None)
    return CheckedModel(config, counts["layers"], values, str(version)[:20], buf.getvalue(), names)


MAX_CLASS_NAMES = 100_000
MAX_CLASS_NAME_CHARS = 200


def class_names_from(value) -> tuple[str, ...] | None:
    """Class names from a list of strings (metadata's ``classes``/``labels``) or the text of a ``labels.txt``
    (one name a line); None when there are none or they are not names (each is cut to 200 characters)."""
    if isinstance(value, str):
        value = [line.strip() for line in value.splitlines()]
        while value and not value[-1]:
            value.pop()
    if not isinstance(value, list) or not value or len(value) > MAX_CLASS_NAMES:
        return None
    if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return None
    return tuple(str(v)[:MAX_CLASS_NAME_CHARS] for v in value)


def load_model(data: bytes, name: str = "model.keras"):
    """Check a model file, then load it with Keras in safe mode, uncompiled.

    Returns:
        ``(model, checked)``: the ``keras.Model`` and the ``CheckedModel``.

    Raises:
        ModelError: the file was refused, or Keras could not build it.
    """
    checked = check_model_bytes(data, name)
    import keras

    # Keras reads a path: the checked bytes go to a private folder under a fixed name, never the visitor's.
    with tempfile.TemporaryDirectory(prefix="cnn_model_") as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(checked.archive)
        # Keras reads the file; the bytes in memory (up to 256 MB of weights) would only double the peak.
        checked = replace(checked, archive=b"")
        try:
            with time_limit(MAX_BUILD_SECONDS, "loading the model"):
                model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except MemoryError:
            gc.collect()  # a refused model frees what it took
            raise ModelError("the model is too large to load on this server", "model") from None
        except ModelError:
            gc.collect()
            raise
        except _keras_failures() as e:  # a file that passed the checks but that Keras can't build
            gc.collect()
            raise ModelError(f"Keras could not load it: {keras_reason(e)}", "model") from None
        except Exception as e:  # refused all the same, but a failure nobody named is logged (and fails a test)
            gc.collect()
            unexpected(e, "loading a model")
            raise ModelError(f"Keras could not load it: {keras_reason(e)}", "model") from None
    if len(model.inputs) != 1:
        raise ModelError(
            f"the model has {len(model.inputs)} inputs; only models with one image input can be shown", "model"
        )
    return model, checked


def load_model_file(path) -> tuple:
    """``load_model`` on a file read through the bounded reader (at most MAX_FILE_BYTES); errors name the path."""
    from .files import read_bounded

    data = read_bounded(path, MAX_FILE_BYTES, "a .keras model file", ModelError)
    try:
        return load_model(data, os.path.basename(str(path)))
    except ModelError as e:
        raise ModelError(e.detail, str(path)) from None


def _check_kind(data: bytes, name: str) -> None:
    if not data:
        raise ModelError("the file is empty (0 bytes)", "model")
    if len(data) > MAX_FILE_BYTES:
        raise ModelError(
            f"the file is {size_text(len(data))}; at most {size_text(MAX_FILE_BYTES)} is accepted", "model"
        )
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ModelError(
            "this is an HDF5 (.h5) model; only the .keras format is accepted, because Keras loads .h5 files "
            "without its safe mode. Re-save it with model.save('name.keras')",
            "model",
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelError(
            "this is a Python pickle, which runs code when opened; only .keras model files are accepted", "model"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError(
            "this is not a .keras model file (a .keras file is a zip archive); save one with model.save('name.keras')",
            "model",
        )
    ext = os.path.splitext(name)[1].lower()
    if ext != ".keras":
        raise ModelError(
            f"the file is named {ext or 'without an extension'}; only .keras model files are accepted", "model"
        )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ModelError(
            f"the zip archive is broken ({_short(e)}), so this is not a usable .keras file", "model"
        ) from None
    if len(infos) > MAX_ENTRIES:
        raise ModelError(
            f"the archive has {len(infos):,} entries; a .keras file has 3 and at most {MAX_ENTRIES} are accepted",
            "model",
        )
    names = [i.filename for i in infos]
    if "saved_model.pb" in {n.rsplit("/", 1)[-1] for n in names}:
        raise ModelError(
            "this is a zipped TensorFlow SavedModel, which can run its own graph code; only .keras files are accepted",
            "model",
        )
    if "config.json" not in names:
        raise ModelError("the archive has no config.json, so it is not a .keras model file", "model")
    if len(set(names)) != len(names):
        raise ModelError("the archive names an entry twice, which a .keras file never does", "model")
    extra = [n for n in names if n not in ENTRIES]
    if extra:
        raise ModelError(
            f"the archive holds {extra[0][:60]!r}; a .keras file of built-in layers holds only {', '.join(ENTRIES)}",
            "model",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ModelError(
            f"the archive unpacks to {size_text(total)}, over the limit of {size_text(MAX_UNCOMPRESSED_BYTES)} "
            "(it may be a zip bomb)",
            "model",
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise ModelError("the archive is encrypted; save the model again with model.save('name.keras')", "model")
    return zf


def _read_bounded(zf: zipfile.ZipFile, entry: str, limit: int) -> bytes:
    """An entry's bytes, reading no more than ``limit`` whatever its header claims."""
    try:
        with zf.open(entry) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, *PARSER_FAILURES) as e:  # bad CRC, unsupported compression, truncated data
        raise ModelError(f"{entry} can't be unpacked ({_short(e)})", "model") from None
    if len(data) > limit:
        raise ModelError(f"{entry} unpacks to more than {size_text(limit)}, its limit (it may be a zip bomb)", "model")
    return data


def _read_json(zf: zipfile.ZipFile, entry: str, limit: int):
    raw = _read_bounded(zf, entry, limit)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ModelError(f"{entry} is not valid JSON ({_short(e)})", "model") from None


def _check_objects(node, counts: dict, depth: int, key: str = "") -> None:
    """Walk the config: every serialised object must be on the allow-list; count the layers."""
    if depth > MAX_JSON_DEPTH:
        raise ModelError(f"config.json nests deeper than {MAX_JSON_DEPTH} levels", "model")
    if isinstance(node, list):
        for v in node:
            _check_objects(v, counts, depth + 1, key)
        return
    if isinstance(node, str):
        if key in ("activation", "recurrent_activation") and node not in ACTIVATIONS:
            raise ModelError(
                f"the model uses the activation {node[:60]!r}, which is not a built-in Keras activation", "model"
            )
        return
    if not isinstance(node, dict):
        return
    if "class_name" in node:
        _check_object(node)
        if node["class_name"] in _LAYERS or node["class_name"] in _MODELS:
            counts["layers"] += 1
    for k, v in node.items():
        if k == "compile_config":  # dropped before Keras sees the config
            continue
        if k in ("activation", "recurrent_activation") and isinstance(v, dict):
            _check_activation_object(v)
        _check_objects(v, counts, depth + 1, k)


def _check_object(node: dict) -> None:
    cls, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    if not isinstance(cls, str):
        raise ModelError("config.json has an object whose class_name is not a name", "model")
    shown = cls[:60]
    if cls in _REFUSED:
        raise ModelError(f"the model contains {_REFUSED[cls]}; such layers are refused on this public server", "model")
    if registered is not None and registered != cls:
        raise ModelError(
            f"the model uses the custom or registered object {str(registered)[:60]!r}; only built-in Keras layers "
            "are accepted",
            "model",
        )
    if module is not None and not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
        raise ModelError(
            f"the model names {shown!r} from the module {str(module)[:60]!r}, outside Keras; only built-in Keras "
            "layers are accepted",
            "model",
        )
    if module not in _ALLOWED or cls not in _ALLOWED[module]:
        where = f"{module}." if module else ""
        raise ModelError(
            f"the model uses {where}{shown}, which is not among the built-in layers this app accepts (convolution, "
            "pooling, dense, normalisation, activation, merge, reshape and preprocessing layers)",
            "model",
        )


def _check_activation_object(node: dict) -> None:
    """Keras 3 stores built-in activations as names; an activation stored as an object is a function or a class."""
    if node.get("class_name") in _REFUSED:
        raise ModelError(f"the model's activation is {_REFUSED[node['class_name']]}", "model")


def _input_layers(config: dict) -> list:
    inner = config.get("config", {})
    if config.get("class_name") == "Functional":
        found = inner.get("input_layers", [])
        # One input is stored as ["name", 0, 0] (or [["name", 0, 0]]); several as a list of those.
        if isinstance(found, list) and found and isinstance(found[0], str):
            return [found]
        return found if isinstance(found, list) else []
    layers = inner.get("layers", [])
    return layers[:1] if layers else []


def _check_top(config: dict) -> None:
    if not isinstance(config, dict) or config.get("class_name") not in _MODELS:
        raise ModelError("config.json does not describe a Sequential or functional Keras model", "model")
    inputs = _input_layers(config)
    if config.get("class_name") == "Functional" and len(inputs) != 1:
        raise ModelError(f"the model has {len(inputs)} inputs; only models with one image input can be shown", "model")
    shape = _declared_input_shape(config)
    if shape is None:
        raise ModelError(
            "the model does not declare its input shape; build it with keras.Input((H, W, C)) and save it again",
            "model",
        )
    if len(shape) != 4:
        raise ModelError(
            f"the model's input has shape {_shape_text(shape)}; an image model takes (height, width, channels)", "model"
        )
    h, w, c = shape[1:]
    if c is None or not 1 <= c <= MAX_INPUT_CHANNELS:
        raise ModelError(
            f"the model's input has {c} channels; 1 to {MAX_INPUT_CHANNELS} are accepted (a photo has 1 or 3)", "model"
        )
    for side in (h, w):
        if side is not None and not 1 <= side <= MAX_SIDE:
            raise ModelError(
                f"the model's input is {h}×{w}; height and width must be from 1 to {MAX_SIDE} (or free)", "model"
            )


def _declared_input_shape(config: dict) -> list | None:
    inner = config.get("config", {})
    for layer in inner.get("layers", []):
        if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
            shape = layer.get("config", {}).get("batch_shape") or layer.get("config", {}).get("batch_input_shape")
            if isinstance(shape, list) and all(s is None or isinstance(s, int) for s in shape):
                return shape
    shape = inner.get("build_input_shape")
    if isinstance(shape, list) and all(s is None or isinstance(s, int) for s in shape):
        return shape
    return None


def _check_declared_weights(config: dict) -> int:
    """Let Keras build the architecture with every variable left unallocated, and cap their total size.

    Everything named in the config has passed the allow-list, so only built-in Keras code runs here.
    Variables made inside a StatelessScope wait for their values; they are dropped before anyone asks.
    """
    import keras
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with time_limit(MAX_BUILD_SECONDS, "building the architecture"), StatelessScope(initialize_variables=False):
            # A copy: deserialising consumes parts of the dict it is given.
            model = keras.saving.deserialize_keras_object(json.loads(json.dumps(config)), safe_mode=True)
            total = sum(math.prod(int(d) for d in v.shape) for v in model.weights)
    except ModelError:
        raise
    except MemoryError:
        raise ModelError("the architecture is too large to build on this server", "model") from None
    except RecursionError:
        raise ModelError(
            "the model nests or chains its layers too deeply for Keras to build it here; "
            f"at most {MAX_DEPTH} layers in a row are accepted",
            "model",
        ) from None
    except _keras_failures() as e:
        raise ModelError(f"Keras can't build the architecture in config.json: {keras_reason(e)}", "model") from None
    except Exception as e:  # refused all the same, but a failure nobody named is logged (and fails a test)
        unexpected(e, "building a model's architecture")
        raise ModelError(f"Keras can't build the architecture in config.json: {keras_reason(e)}", "model") from None
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
        model = None
        gc.collect()
    if total > MAX_WEIGHT_VALUES:
        raise ModelError(
            f"the architecture declares {total:,} weights; at most {MAX_WEIGHT_VALUES:,} are accepted", "model"
        )
    return total


# --------------------------------------------------------------------------- structure, memory and time


def _model_configs(node, depth: int = 0):
    """Every Sequential or functional model config in ``node``, the top one first, nested ones after."""
    if depth > MAX_JSON_DEPTH:
        return
    if isinstance(node, dict):
        if node.get("class_name") in _MODELS and isinstance(node.get("config"), dict):
            yield node
        for v in node.values():
            yield from _model_configs(v, depth + 1)
    elif isinstance(node, list):
        for v in node:
            yield from _model_configs(v, depth + 1)


def _history(node, found: list, depth: int = 0) -> list:
    """The names of the layers whose outputs ``node`` (a layer's inbound_nodes) reads."""
    if depth > MAX_JSON_DEPTH:
        return found
    if isinstance(node, dict):
        if node.get("class_name") == "__keras_tensor__":
            hist = (node.get("config") or {}).get("keras_history")
            if isinstance(hist, list) and hist and isinstance(hist[0], str):
                found.append(hist[0])
        for v in node.values():
            _history(v, found, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _history(v, found, depth + 1)
    return found


def model_depth(config: dict) -> int:
    """The longest chain of layers from the input to the output, nested models counted by their own depth.

    Read from config.json alone: a Sequential's layers follow one another; a functional model's layers
    name the layers they read (``inbound_nodes``), which gives the longest path through its graph.
    """
    inner = config.get("config", {})
    layers = [x for x in inner.get("layers", []) if isinstance(x, dict)]

    def own(layer: dict) -> int:
        if layer.get("class_name") in _MODELS:
            return model_depth(layer)
        return 0 if layer.get("class_name") == "InputLayer" else 1

    if config.get("class_name") == "Sequential":
        return sum(own(x) for x in layers)
    depth: dict[str, int] = {}
    names = {str(x.get("name") or (x.get("config") or {}).get("name", i)): x for i, x in enumerate(layers)}
    for start in names:  # iterative depth-first search, so a deep chain can't exhaust Python's stack
        stack = [(start, False)]
        visiting: set[str] = set()
        while stack:
            name, done = stack.pop()
            if name in depth:
                continue
            parents = [p for p in _history(names[name].get("inbound_nodes", []), []) if p in names]
            if done:
                depth[name] = own(names[name]) + max((depth.get(p, 0) for p in parents), default=0)
                visiting.discard(name)
                continue
            if name in visiting:  # a cycle, which Keras would refuse; count it once
                continue
            visiting.add(name)
            stack.append((name, True))
            stack.extend((p, False) for p in parents if p not in depth)
    return max(depth.values(), default=0)


def _check_structure(config: dict) -> None:
    """Refuse, from config.json alone, shapes of model that Keras takes minutes or all its stack to build."""
    for m in _model_configs(config):
        if m.get("class_name") == "Sequential":
            n = sum(
                1 for x in m["config"].get("layers", []) if isinstance(x, dict) and x.get("class_name") != "InputLayer"
            )
            if n > MAX_SEQUENTIAL_LAYERS:
                raise ModelError(
                    f"a Sequential model in it has {n:,} layers; at most {MAX_SEQUENTIAL_LAYERS} are accepted in one "
                    "Sequential (Keras rebuilds it after every layer, so a long one takes minutes). Save it as a "
                    "functional model (keras.Model(inputs, outputs)) instead",
                    "model",
                )
    depth = model_depth(config)
    if depth > MAX_DEPTH:
        raise ModelError(f"the model chains {depth:,} layers in a row; at most {MAX_DEPTH} are accepted", "model")


_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "build_input_shape", "input_shape", "shape")


def _is_shape(v) -> bool:
    return isinstance(v, list) and 0 < len(v) <= 8 and all(d is None or (isinstance(d, int) and d >= 0) for d in v)


def _shape_values(shape: list) -> int:
    """Values in one example of ``shape``: the batch counts 1, a free side MAX_FREE_SIDE, a free channel 1."""
    dims = [
        1 if d is None and (i == 0 or i == len(shape) - 1) else MAX_FREE_SIDE if d is None else d
        for i, d in enumerate(shape)
    ]
    return math.prod(dims)


def declared_tensors(config, depth: int = 0, found: list | None = None) -> list[tuple[int, list]]:
    """Every tensor shape config.json declares, as (values, shape): build configs, input layers, inner
    models' input shapes and the symbolic tensors between layers. Keras allocates what these say when it
    builds (a Normalization layer's mean and variance take the shape of its build input), so they size the
    memory a model takes whatever its own input is.
    """
    found = [] if found is None else found
    if depth > MAX_JSON_DEPTH:
        return found
    if isinstance(config, dict):
        for k, v in config.items():
            if k in _SHAPE_KEYS and _is_shape(v):
                found.append((_shape_values(v), v))
            elif k in _SHAPE_KEYS and isinstance(v, list) and v and all(_is_shape(x) for x in v):
                found.extend((_shape_values(x), x) for x in v)  # a layer with several inputs
            elif k in _SHAPE_KEYS and isinstance(v, dict):  # several named inputs
                found.extend((_shape_values(x), x) for x in v.values() if _is_shape(x))
            else:
                declared_tensors(v, depth + 1, found)
    elif isinstance(config, list):
        for v in config:
            declared_tensors(v, depth + 1, found)
    return found


def memory_estimate(weight_values: int, tensors: list[tuple[int, list]]) -> int:
    """Bytes a model will take when loaded and run: its weights as Keras loads them (LOAD_COPIES copies at
    the peak) plus three times its largest declared tensor (a layer's input, its output and a state or
    workspace the size of its input, as a Normalization layer's mean and variance are), all float32."""
    largest = max((v for v, _ in tensors), default=0)
    return 4 * (LOAD_COPIES * weight_values + 3 * largest)


def resident_bytes(checked: CheckedModel) -> int:
    """What a loaded model keeps in memory: its weights and its largest declared tensor, float32."""
    largest = max((v for v, _ in declared_tensors(checked.config)), default=0)
    return 4 * (checked.weight_values + largest)


def _check_memory(weight_values: int, tensors: list[tuple[int, list]]) -> None:
    big = max(tensors, default=(0, []))
    if big[0] > MAX_TENSOR_VALUES:
        raise ModelError(
            f"its config declares a tensor of shape {_shape_text(big[1])} ({big[0]:,} values); at most "
            f"{MAX_TENSOR_VALUES:,} are accepted in one tensor",
            "model",
        )
    need = memory_estimate(weight_values, tensors)
    if need > MAX_MODEL_BYTES:
        raise ModelError(
            f"it would take about {need / 2**20:,.0f} MB of memory to load and run (its weights and its largest "
            f"declared tensors); at most {MAX_MODEL_BYTES // 2**20:,} MB is accepted",
            "model",
        )


class _TooLong(BaseException):
    """Raised inside Keras when a build passes its time limit (a BaseException, so no ``except Exception`` in
    Keras swallows it)."""


@contextmanager
def time_limit(seconds: float, what: str):
    """Stop the Python code run in this block (in this thread) once it has taken ``seconds``.

    A profile hook checks the clock at each Python function call, which Keras's builders make thousands of
    a second; past the limit it raises, and the block ends in a ModelError. Native code in a single call
    is not interrupted.
    """
    deadline = time.perf_counter() + seconds
    previous = sys.getprofile()

    def check(frame, event, arg):
        if event == "call" and time.perf_counter() > deadline:
            sys.setprofile(None)
            raise _TooLong

    sys.setprofile(check)
    try:
        yield
    except _TooLong:
        raise ModelError(
            f"{what} took longer than {seconds:g} s, the limit on this server; a smaller model will load", "model"
        ) from None
    finally:
        sys.setprofile(previous)


def _keras_failures() -> tuple[type[Exception], ...]:
    """What Keras and TensorFlow raise for a model they can't build or run (not a bug of this app)."""
    tf = sys.modules.get("tensorflow")  # loaded by then if TensorFlow raised it; never imported here
    op_error = (tf.errors.OpError,) if tf is not None else ()
    return (ValueError, TypeError, KeyError, IndexError, RuntimeError, NotImplementedError, *op_error)


@contextmanager
def keras_failures(what: str):
    """Turn what Keras or TensorFlow raises in this block (a shape it can't compute, an op that fails) into a
    ModelError of one clean sentence; the project's own errors pass through unchanged."""
    try:
        yield
    except CnnError:
        raise
    except _keras_failures() as e:  # only Keras's and TensorFlow's own failures are reworded; anything else goes on
        gc.collect()
        raise ModelError(f"{what} failed: {keras_reason(e)}", "model") from None


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_REPR = re.compile(r"<(\w+) name=([^,>]+)[^>]*>")
_OBJECT_AT = re.compile(r"<[^<>]* at 0x[0-9a-f]+>")
_RAISED = re.compile(r"^(\w+(?:Error|Exception)): (.*)$")
_CALLED = re.compile(r"^Exception encountered when calling (\w+)\.call\(\)\.\s*(.*)$")
_NODE = re.compile(r"\s*for '\{\{node [^']*'")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s'\"():,]+){2,}")


def keras_reason(e: BaseException, limit: int = 160) -> str:
    """What Keras said, as one clean clause: no ANSI colours, file paths, tracebacks, graph node names or
    object reprs, cut at a word (with "…") when long."""
    text = _ANSI.sub("", str(e)).split("Arguments received by")[0]
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    # A message that quotes a traceback ("in user code: File ...") has its reason after the last "XError: ".
    raised = [i for i, x in enumerate(lines) if _RAISED.match(x)]
    if raised:
        i = raised[-1]
        lines = [_RAISED.match(lines[i]).group(2), *lines[i + 1 :]]
    lines = [x for x in lines if not x.startswith(("File ", "in user code", "Traceback", "raise "))]
    text = " ".join(lines)
    called = _CALLED.match(text)
    if called:
        text = f"the {called.group(1)} layer: {called.group(2)}"
    text = _NODE.sub("", text)
    text = _REPR.sub(lambda m: f"the {m.group(1)} layer {m.group(2).strip()!r}", text)
    text = _OBJECT_AT.sub("an object", text)
    text = _PATH.sub("a file", text)
    text = " ".join(text.split()).rstrip(".")
    if not text:
        return type(e).__name__
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:(") + "…"
    return text


def _without_compile_config(node):
    """The config with every model's ``compile_config`` emptied (Keras compiles nested models that have one)."""
    if isinstance(node, dict):
        return {k: None if k == "compile_config" else _without_compile_config(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_compile_config(v) for v in node]
    return node


def _check_weights_file(raw: bytes) -> int:
    """Read the weights file's dataset headers (shapes and types, never the data) and cap the total."""
    try:
        import h5py
    except ImportError:  # Keras needs h5py to read .keras weights, so this is only a missing install
        raise ModelError("h5py is not installed, so the weights can't be checked", "model") from None
    total = 0
    problems: list[str] = []

    def visit(name: str, link) -> None:
        nonlocal total
        if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
            problems.append(f"the weights file links {name[:60]!r} to somewhere else, which .keras files never do")

    def dataset(name: str, obj) -> None:
        nonlocal total
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.is_virtual or obj.external:
            problems.append(f"the weights file's dataset {name[:60]!r} reads its data from other files")
            return
        if obj.dtype.kind not in "fiub":
            problems.append(f"the weights file's dataset {name[:60]!r} holds {obj.dtype}, not numbers")
            return
        if obj.shape is None:
            return
        total += math.prod(obj.shape)

    try:
        with h5py.File(io.BytesIO(raw), "r") as f:
            f.visititems_links(visit) if hasattr(f, "visititems_links") else _walk_links(f, visit)
            if not problems:
                f.visititems(dataset)
    except ModelError:
        raise
    except (RuntimeError, *PARSER_FAILURES) as e:  # h5py: OSError, KeyError, ValueError, RuntimeError, ...
        raise ModelError(f"model.weights.h5 is not a readable weights file ({_short(e)})", "model") from None
    if problems:
        raise ModelError(problems[0], "model")
    if total > MAX_WEIGHT_VALUES:
        raise ModelError(
            f"the weights file declares {total:,} numbers; at most {MAX_WEIGHT_VALUES:,} are accepted", "model"
        )
    return total


def _walk_links(group, visit, prefix: str = "") -> None:
    import h5py

    for key in group:
        link = group.get(key, getlink=True)
        path = f"{prefix}{key}"
        visit(path, link)
        if isinstance(link, h5py.HardLink) and isinstance(group[key], h5py.Group):
            _walk_links(group[key], visit, path + "/")


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _short(e: BaseException) -> str:
    s = " ".join(str(e).split()) or type(e).__name__
    return s if len(s) <= 120 else s[:117] + "..."
