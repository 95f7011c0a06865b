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

import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass

from .errors import ModelError
from .images import MAX_FILE_BYTES, size_text
from .model_maps import MAX_TENSOR_VALUES

# --------------------------------------------------------------------------- the caps (the page states them)

MAX_ENTRIES = 8  # a .keras file holds 3
MAX_UNCOMPRESSED_BYTES = 256 * 10**6  # all entries together, as declared and as read
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_JSON_DEPTH = 64
MAX_LAYERS = 1000  # nested layers included
MAX_WEIGHT_VALUES = 50_000_000  # 200 MB of float32, declared by the config or by the weights file
MAX_SIDE = 2048  # a fixed input height or width
MAX_INPUT_CHANNELS = 4

ENTRIES = ("config.json", "metadata.json", "model.weights.h5")

# --------------------------------------------------------------------------- the allow-list

_LAYERS = frozenset("""
InputLayer Conv1D Conv2D Conv2DTranspose DepthwiseConv2D SeparableConv2D Dense
Activation ReLU LeakyReLU PReLU ELU Softmax
BatchNormalization LayerNormalization GroupNormalization UnitNormalization
Dropout SpatialDropout2D GaussianNoise GaussianDropout AlphaDropout ActivityRegularization
MaxPooling2D AveragePooling2D GlobalAveragePooling2D GlobalMaxPooling2D
Flatten Reshape Permute ZeroPadding2D Cropping2D UpSampling2D Identity
Add Subtract Multiply Average Maximum Minimum Concatenate
Rescaling Normalization Resizing CenterCrop
RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomBrightness RandomCrop
""".split())
_INITIALIZERS = frozenset("""
Constant GlorotNormal GlorotUniform HeNormal HeUniform Identity IdentityInitializer LecunNormal LecunUniform
Ones Orthogonal OrthogonalInitializer RandomNormal RandomUniform TruncatedNormal VarianceScaling Zeros
""".split())
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
ACTIVATIONS = frozenset("""
celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu linear
log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink softmax softplus softsign sparse_plus
sparse_sigmoid sparsemax squareplus swish tanh tanh_shrink threshold
""".split())

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


def caps_text() -> list[str]:
    """The limits, one line each, for the page and the documentation."""
    return [
        f"only the `.keras` format (a zip), up to {size_text(MAX_FILE_BYTES)}, with at most {MAX_ENTRIES} entries "
        f"and {size_text(MAX_UNCOMPRESSED_BYTES)} unpacked",
        f"built-in Keras layers only, at most {MAX_LAYERS:,} (nested ones included); no Lambda, TFSMLayer, "
        "lookup or text layers, custom objects or modules outside Keras",
        f"at most {MAX_WEIGHT_VALUES / 1e6:.0f} million weights, as declared by the architecture and by the weights file",
        f"one image input, height and width up to {MAX_SIDE} (or free), 1 to {MAX_INPUT_CHANNELS} channels",
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
    _check_declared_weights(config)
    weights = _read_bounded(zf, "model.weights.h5", MAX_UNCOMPRESSED_BYTES) if "model.weights.h5" in zf.namelist() else b""
    values = _check_weights_file(weights) if weights else 0
    version = meta.get("keras_version", "") if isinstance(meta, dict) else ""
    # Keras gets exactly what was checked: the parsed config (as JSON again), the metadata and the weights.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        out.writestr("metadata.json", json.dumps(meta if isinstance(meta, dict) else {}))
        out.writestr("config.json", json.dumps(config))
        if weights:
            out.writestr("model.weights.h5", weights)
    return CheckedModel(config, counts["layers"], values, str(version)[:20], buf.getvalue())


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
        try:
            model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except MemoryError:
            raise ModelError("the model is too large to load on this server", "model") from None
        except Exception as e:  # a file that passed the checks but that Keras can't build
            raise ModelError(f"Keras could not load it ({_short(e)})", "model") from None
    if len(model.inputs) != 1:
        raise ModelError(f"the model has {len(model.inputs)} inputs; only models with one image input can be shown", "model")
    return model, checked


def _check_kind(data: bytes, name: str) -> None:
    if not data:
        raise ModelError("the file is empty (0 bytes)", "model")
    if len(data) > MAX_FILE_BYTES:
        raise ModelError(f"the file is {size_text(len(data))}; at most {size_text(MAX_FILE_BYTES)} is accepted", "model")
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ModelError(
            "this is an HDF5 (.h5) model; only the .keras format is accepted, because Keras loads .h5 files "
            "without its safe mode. Re-save it with model.save('name.keras')",
            "model",
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelError("this is a Python pickle, which runs code when opened; only .keras model files are accepted", "model")
    if not data.startswith(b"PK\x03\x04"):
        raise ModelError("this is not a .keras model file (a .keras file is a zip archive); save one with model.save('name.keras')", "model")
    ext = os.path.splitext(name)[1].lower()
    if ext != ".keras":
        raise ModelError(f"the file is named {ext or 'without an extension'}; only .keras model files are accepted", "model")


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ModelError(f"the zip archive is broken ({_short(e)}), so this is not a usable .keras file", "model") from None
    if len(infos) > MAX_ENTRIES:
        raise ModelError(f"the archive has {len(infos):,} entries; a .keras file has 3 and at most {MAX_ENTRIES} are accepted", "model")
    names = [i.filename for i in infos]
    if "saved_model.pb" in {n.rsplit("/", 1)[-1] for n in names}:
        raise ModelError("this is a zipped TensorFlow SavedModel, which can run its own graph code; only .keras files are accepted", "model")
    if "config.json" not in names:
        raise ModelError("the archive has no config.json, so it is not a .keras model file", "model")
    if len(set(names)) != len(names):
        raise ModelError("the archive names an entry twice, which a .keras file never does", "model")
    extra = [n for n in names if n not in ENTRIES]
    if extra:
        raise ModelError(
            f"the archive holds {extra[0][:60]!r}; a .keras file of built-in layers holds only {', '.join(ENTRIES)}", "model"
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
    except Exception as e:  # bad CRC, unsupported compression, truncated data
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
            raise ModelError(f"the model uses the activation {node[:60]!r}, which is not a built-in Keras activation", "model")
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
        raise ModelError("the model does not declare its input shape; build it with keras.Input((H, W, C)) and save it again", "model")
    if len(shape) != 4:
        raise ModelError(
            f"the model's input has shape {_shape_text(shape)}; an image model takes (height, width, channels)", "model"
        )
    h, w, c = shape[1:]
    if c is None or not 1 <= c <= MAX_INPUT_CHANNELS:
        raise ModelError(f"the model's input has {c} channels; 1 to {MAX_INPUT_CHANNELS} are accepted (a photo has 1 or 3)", "model")
    for side in (h, w):
        if side is not None and not 1 <= side <= MAX_SIDE:
            raise ModelError(f"the model's input is {h}×{w}; height and width must be from 1 to {MAX_SIDE} (or free)", "model")


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


def _check_declared_weights(config: dict) -> None:
    """Let Keras build the architecture with every variable left unallocated, and cap their total size.

    Everything named in the config has passed the allow-list, so only built-in Keras code runs here.
    Variables made inside a StatelessScope wait for their values; they are dropped before anyone asks.
    """
    import keras
    from keras.src.backend.common import global_state
    from keras.src.backend.common.stateless_scope import StatelessScope

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with StatelessScope(initialize_variables=False):
            # A copy: deserialising consumes parts of the dict it is given.
            model = keras.saving.deserialize_keras_object(json.loads(json.dumps(config)), safe_mode=True)
            total = sum(math.prod(int(d) for d in v.shape) for v in model.weights)
    except ModelError:
        raise
    except MemoryError:
        raise ModelError("the architecture is too large to build on this server", "model") from None
    except Exception as e:
        raise ModelError(f"Keras can't build the architecture in config.json ({_short(e)})", "model") from None
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)
    if total > MAX_WEIGHT_VALUES:
        raise ModelError(
            f"the architecture declares {total:,} weights; at most {MAX_WEIGHT_VALUES:,} are accepted", "model"
        )


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
    except Exception as e:
        raise ModelError(f"model.weights.h5 is not a readable weights file ({_short(e)})", "model") from None
    if problems:
        raise ModelError(problems[0], "model")
    if total > MAX_WEIGHT_VALUES:
        raise ModelError(f"the weights file declares {total:,} numbers; at most {MAX_WEIGHT_VALUES:,} are accepted", "model")
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
