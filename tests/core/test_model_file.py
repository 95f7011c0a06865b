"""Model files are checked before Keras reads them: hostile or unusable files are refused with one sentence,
and nothing in them runs (Keras's loader is never reached, and a payload's marker file never appears)."""

from __future__ import annotations

import base64
import io
import json
import marshal
import types
import zipfile

import h5py
import keras
import numpy as np
import pytest

from cnn_core import model_file
from cnn_core.errors import CnnError, ModelError
from tests.core import model_builders as mb


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return {
        "seq": mb.save(mb.sequential(), folder, "seq.keras"),
        "nested": mb.save(mb.nested(), folder, "nested.keras"),
        "two": mb.save(mb.two_inputs(), folder, "two.keras"),
        "folder": folder,
    }


@pytest.fixture()
def keras_never_loads(monkeypatch):
    """Fail if a refused file reaches Keras's loader."""
    calls = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: calls.append(a) or pytest.fail("Keras loaded it"))
    return calls


def _refused(data: bytes, name: str = "model.keras") -> str:
    with pytest.raises(ModelError) as e:
        model_file.load_model(data, name)
    assert isinstance(e.value, CnnError)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


def _lambda_layer(marker) -> dict:
    """A Keras Lambda layer config whose function would write ``marker`` when run, made without running it."""
    source = f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]"
    code = next(c for c in compile(source, "<payload>", "eval").co_consts if isinstance(c, types.CodeType))
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "innocent",
            "function": {
                "class_name": "__lambda__",
                "config": {"code": base64.b64encode(marshal.dumps(code)).decode(), "defaults": None, "closure": None},
            },
            "arguments": {},
        },
        "registered_name": None,
    }


# --------------------------------------------------------------------------- what is accepted


def test_a_plain_model_loads_and_its_weights_are_counted(saved):
    data = saved["seq"].read_bytes()
    checked = model_file.check_model_bytes(data, "seq.keras")
    model = mb.sequential()
    assert checked.weight_values == model.count_params() + 0  # BatchNormalization's moving stats are weights too
    loaded, _ = model_file.load_model(data, "seq.keras")
    x = np.random.default_rng(0).random((1, 12, 10, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_nested_models_load(saved):
    loaded, checked = model_file.load_model(saved["nested"].read_bytes())
    assert loaded.get_layer("backbone").get_layer("block").get_layer("blk_conv") is not None
    assert checked.layer_count >= 8


# --------------------------------------------------------------------------- what is refused


def test_a_lambda_that_would_write_a_file_is_refused_and_never_runs(saved, tmp_path, keras_never_loads):
    marker = tmp_path / "pwned.txt"

    def add_lambda(config):
        mb.layers_of(config).insert(1, _lambda_layer(marker))
        return config

    evil = mb.rewrite(saved["seq"], tmp_path / "evil.keras", add_lambda)
    msg = _refused(evil.read_bytes())
    assert "Lambda" in msg and "Python code" in msg
    assert not marker.exists()
    assert not keras_never_loads


def test_a_lambda_hidden_in_a_nested_block_is_refused(saved, tmp_path, keras_never_loads):
    marker = tmp_path / "pwned.txt"

    def hide(config):
        backbone = next(x for x in mb.layers_of(config) if x["class_name"] == "Functional")
        block = next(x for x in backbone["config"]["layers"] if x["class_name"] == "Sequential")
        block["config"]["layers"].append(_lambda_layer(marker))
        return config

    evil = mb.rewrite(saved["nested"], tmp_path / "evil.keras", hide)
    assert "Lambda" in _refused(evil.read_bytes())
    assert not marker.exists()


def test_an_h5_model_is_refused(saved, tmp_path, keras_never_loads):
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as f:  # what Keras 2 wrote: an HDF5 file with the config as an attribute
        f.attrs["model_config"] = '{"class_name": "Sequential"}'
        f.create_dataset("model_weights/dense/kernel", data=np.zeros((2, 2), np.float32))
    for name in ("legacy.h5", "legacy.keras"):
        msg = _refused(path.read_bytes(), name)
        assert "HDF5" in msg and ".keras" in msg


def test_a_zip_bomb_is_refused(saved, tmp_path, keras_never_loads):
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(saved["seq"]) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("config.json", src.read("config.json"))
        dst.writestr("metadata.json", src.read("metadata.json"))
        with dst.open("model.weights.h5", "w") as f:
            zeros = bytes(2**20)
            for _ in range(model_file.MAX_UNCOMPRESSED_BYTES // 2**20 + 16):
                f.write(zeros)
    assert bomb.stat().st_size < 2 * 2**20  # a small file...
    msg = _refused(bomb.read_bytes())  # ...that unpacks to more than the cap
    assert "zip bomb" in msg


def test_an_oversized_entry_states_its_limit_in_bytes(saved, keras_never_loads):
    with zipfile.ZipFile(saved["seq"]) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["metadata.json"] = b" " * 70_000 + b"{}"  # metadata.json may unpack to 64 KiB
    assert "metadata.json unpacks to more than 65,536 bytes, its limit" in _refused(mb.zip_bytes(entries))


def test_too_many_entries_are_refused(keras_never_loads):
    data = mb.zip_bytes({f"f{i}.txt": b"x" for i in range(model_file.MAX_ENTRIES + 1)})
    assert "entries" in _refused(data)


def test_a_config_naming_an_outside_module_is_refused(saved, tmp_path, keras_never_loads):
    marker = tmp_path / "pwned.txt"

    def outside(config):
        mb.layers_of(config).insert(
            1,
            {
                "module": "subprocess",
                "class_name": "Popen",
                "registered_name": None,
                "config": {"args": ["touch", str(marker)]},
            },
        )
        return config

    msg = _refused(mb.rewrite(saved["seq"], tmp_path / "evil.keras", outside).read_bytes())
    assert "'subprocess'" in msg and "outside Keras" in msg
    assert not marker.exists()


def test_a_function_by_name_as_activation_is_refused(saved, tmp_path, keras_never_loads):
    def os_system(config):
        conv = mb.layers_of(config)[1]
        conv["config"]["activation"] = {
            "module": "os",
            "class_name": "function",
            "config": "system",
            "registered_name": "function",
        }
        return config

    assert "Python function" in _refused(mb.rewrite(saved["seq"], tmp_path / "evil.keras", os_system).read_bytes())


@pytest.mark.parametrize(
    ("cls", "words"),
    [("TFSMLayer", "SavedModel"), ("StringLookup", "vocabulary"), ("TextVectorization", "vocabulary")],
)
def test_layers_that_reach_outside_the_file_are_refused(saved, tmp_path, keras_never_loads, cls, words):
    def add(config):
        mb.layers_of(config).insert(
            1,
            {
                "module": "keras.layers",
                "class_name": cls,
                "registered_name": None,
                "config": {"name": "x", "filepath": "/etc", "vocabulary": "/etc/passwd"},
            },
        )
        return config

    assert words in _refused(mb.rewrite(saved["seq"], tmp_path / "evil.keras", add).read_bytes())


def test_a_custom_registered_object_is_refused(saved, tmp_path, keras_never_loads):
    def custom(config):
        mb.layers_of(config)[1]["registered_name"] = "my_package>MyConv"
        return config

    assert "my_package>MyConv" in _refused(mb.rewrite(saved["seq"], tmp_path / "evil.keras", custom).read_bytes())


def test_a_declared_weight_shape_of_a_trillion_is_refused_without_allocating(saved, tmp_path, keras_never_loads):
    def huge(config):
        layers = mb.layers_of(config)
        layers[0]["config"]["batch_shape"] = [None, 1000, 1000, 1]  # flattens to 10^6 values...
        layers[1]["config"]["filters"] = 1
        layers[1]["config"]["kernel_size"] = [1, 1]
        layers[2] = {
            "module": "keras.layers",
            "class_name": "Flatten",
            "registered_name": None,
            "config": {"name": "flat0"},
        }
        layers[3:] = [
            {
                "module": "keras.layers",
                "class_name": "Dense",
                "registered_name": None,
                "config": {"name": "huge", "units": 1_000_000},
            }
        ]  # ...times 10^6 units
        for layer in layers:
            layer.pop("build_config", None)
        return config

    msg = _refused(mb.rewrite(saved["seq"], tmp_path / "huge.keras", huge).read_bytes())
    assert "1,000,001,000,002 weights" in msg


def test_a_weights_file_declaring_a_trillion_values_is_refused(saved, tmp_path, keras_never_loads):
    h5 = tmp_path / "w.h5"
    with h5py.File(h5, "w") as f:  # a chunked dataset with no data written takes a few bytes on disk
        f.create_dataset("layers/dense/vars/0", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1024))
    evil = mb.replace_entry(saved["seq"], tmp_path / "evil.keras", "model.weights.h5", h5.read_bytes())
    assert evil.stat().st_size < 100_000
    assert "1,000,000,000,000 numbers" in _refused(evil.read_bytes())


def test_a_weights_file_linking_outside_is_refused(saved, tmp_path, keras_never_loads):
    h5 = tmp_path / "w.h5"
    with h5py.File(h5, "w") as f:
        f["layers/x"] = h5py.ExternalLink("/etc/passwd", "/")
    evil = mb.replace_entry(saved["seq"], tmp_path / "evil.keras", "model.weights.h5", h5.read_bytes())
    assert "links" in _refused(evil.read_bytes())


def test_a_two_input_model_is_refused(saved, keras_never_loads):
    assert "2 inputs" in _refused(saved["two"].read_bytes())


def test_a_text_file_renamed_keras_is_refused(keras_never_loads):
    msg = _refused(b"just some notes, not a model\n", "notes.keras")
    assert "not a .keras model file" in msg


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"", "m.keras", "empty"),
        (b"\x80\x04\x95 pickled", "m.keras", "pickle"),
        (b"PK\x03\x04broken", "m.keras", "broken"),
        (None, "m.zip", "named .zip"),
        (None, "m.pb", "named .pb"),
    ],
)
def test_other_files_are_refused_with_a_reason(saved, keras_never_loads, data, name, words):
    data = saved["seq"].read_bytes() if data is None else data
    assert words in _refused(data, name)


def test_an_unknown_extra_entry_is_refused(saved, tmp_path, keras_never_loads):
    with zipfile.ZipFile(saved["seq"]) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["assets/vocab.txt"] = b"a\nb\n"
    assert "assets/vocab.txt" in _refused(mb.zip_bytes(entries))


def test_a_zipped_saved_model_is_refused(keras_never_loads):
    assert "SavedModel" in _refused(mb.zip_bytes({"m/saved_model.pb": b"\x08\x01", "config.json": b"{}"}))


def test_the_caps_are_stated():
    text = " ".join(model_file.caps_text())
    assert "up to 50 MB," in text and "256 MB unpacked" in text and "Lambda" in text and "safe mode" in text


def test_compiled_models_load_without_their_training_settings(tmp_path):
    keras.utils.set_random_seed(4)
    backbone = mb.sequential()
    backbone.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    inp = keras.Input((12, 10, 3))
    outer = keras.Model(inp, backbone(inp), name="outer")
    outer.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError())
    for model, name in ((backbone, "compiled.keras"), (outer, "outer.keras")):
        data = mb.save(model, tmp_path, name).read_bytes()
        loaded, checked = model_file.load_model(data, name)
        assert "Adam" not in json.dumps(checked.config) and "MeanSquaredError" not in json.dumps(checked.config)
        x = np.random.default_rng(1).random((1, 12, 10, 3), dtype=np.float32)
        np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_keras_reads_only_the_checked_entries(saved):
    checked = model_file.check_model_bytes(saved["seq"].read_bytes())
    with zipfile.ZipFile(io.BytesIO(checked.archive)) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        assert json.loads(z.read("config.json")) == checked.config


def test_weights_reachable_answers_quickly_offline(monkeypatch):
    import socket
    import time

    from cnn_core import backbones

    def hang(*a, **k):  # a DNS lookup or connection that never answers in time
        time.sleep(5)
        raise OSError("no route")

    monkeypatch.setattr(socket, "create_connection", hang)
    t = time.monotonic()
    assert backbones.weights_reachable(timeout=0.5) is False
    assert time.monotonic() - t < 4  # bounded by the timeout, not by the hanging connection


def test_backbone_wrappers_build_without_weights():
    from cnn_core import backbones, model_maps

    model = backbones.build_backbone("MobileNetV2", weights=None)
    info = model_maps.describe(model)
    assert info.input_shape == (224, 224, 3) and info.softmax and info.rescale == pytest.approx((1 / 127.5, -1.0))
    assert model_maps.default_range(info) == "0-255"
    assert any(x.path.startswith("mobilenetv2_1.00_224/") for x in info.image_layers)
    pixels = np.random.default_rng(2).uniform(0, 255, (1, 224, 224, 3)).astype("float32")
    ours = model.get_layer("to_minus1_1")(pixels).numpy()
    want = keras.applications.mobilenet_v2.preprocess_input(pixels.copy())
    np.testing.assert_allclose(ours, want, atol=1e-6)


# --------------------------------------------------------------------------- class names


def test_class_names_come_from_the_metadata_when_it_has_them(saved, tmp_path):
    path = saved["seq"]
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("metadata.json"))
    plain = model_file.check_model_bytes(path.read_bytes())
    assert plain.class_names is None
    for key in ("classes", "labels"):
        named = mb.replace_entry(
            path, tmp_path / f"{key}.keras", "metadata.json", json.dumps({**meta, key: ["cat", "dog", 3]}).encode()
        )
        assert model_file.check_model_bytes(named.read_bytes()).class_names == ("cat", "dog", "3")


def test_labels_text_and_what_is_not_a_list_of_names():
    assert model_file.class_names_from("cat\n dog \n\n") == ("cat", "dog")
    assert model_file.class_names_from(["a" * 500])[0] == "a" * 200
    for bad in (None, "", [], {"0": "cat"}, [["nested"]], [True, False], "\n\n"):
        assert model_file.class_names_from(bad) is None
