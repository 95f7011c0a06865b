"""The maps of a loaded model equal Keras's own results, for Sequential, functional and nested models.

The references are computed straight from the original (unsaved) model: layer by layer in eager mode for the
Sequential model, and through a direct ``keras.Model(inputs, layer.output)`` call otherwise.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from cnn_core import model_file, model_maps
from cnn_core.__main__ import main as cli_main
from cnn_core.errors import ModelError
from tests.core import model_builders as mb
from tests.core.np_reference import np_resize

RNG = np.random.default_rng(7)


def _photo(h: int, w: int, channels: int = 3) -> np.ndarray:
    shape = (h, w) if channels == 1 else (h, w, channels)
    return RNG.integers(0, 256, size=shape, dtype=np.uint8)


def _load(model, tmp_path, name="m.keras"):
    path = mb.save(model, tmp_path, name)
    loaded, _ = model_file.load_model(path.read_bytes(), name)
    return loaded, path


def _all_maps(loaded, info, batch, **page_args) -> dict:
    computer = model_maps.MapComputer(loaded)
    out = {}
    for page in model_maps.pages(info, batch.shape, **page_args):
        out.update(computer.compute(batch, [x.path for x in page]))
    return out


def test_sequential_maps_equal_a_layer_by_layer_call(tmp_path):
    model = mb.sequential()
    loaded, _ = _load(model, tmp_path)
    info = model_maps.describe(loaded)
    assert [x.path for x in info.image_layers] == ["conv_a", "pool_a", "conv_b", "bn_b"]
    assert info.input_shape == (12, 10, 3) and info.softmax and info.rescale is None
    prepared = model_maps.prepare_photo(_photo(12, 10), info)
    maps = _all_maps(loaded, info, prepared.batch, max_layers=1)  # one layer per page
    x = prepared.batch
    for layer in model.layers:
        x = layer(x, training=False)
        if layer.name in maps:
            assert maps[layer.name].shape == tuple(x.shape[1:]) and maps[layer.name].dtype == np.float32
            np.testing.assert_allclose(maps[layer.name], x.numpy()[0], rtol=1e-5, atol=1e-5, err_msg=layer.name)
    final = model_maps.MapComputer(loaded).final_output(prepared.batch)
    np.testing.assert_allclose(final, x.numpy()[0], rtol=1e-5, atol=1e-6)
    assert abs(final.sum() - 1) < 1e-5


def test_functional_maps_equal_a_direct_submodel_call(tmp_path):
    model = mb.functional()
    loaded, _ = _load(model, tmp_path)
    info = model_maps.describe(loaded)
    assert [x.path for x in info.image_layers] == ["left", "right", "sum", "relu", "cat", "dw"]
    assert info.input_shape == (9, 11, 1) and not info.softmax
    prepared = model_maps.prepare_photo(_photo(9, 11, 1), info, "0-255")
    maps = _all_maps(loaded, info, prepared.batch, max_layers=4)
    assert set(maps) == {x.path for x in info.image_layers}
    for x in info.image_layers:
        ref = keras.Model(model.inputs, model.get_layer(x.path).output)(prepared.batch).numpy()[0]
        np.testing.assert_allclose(maps[x.path], ref, rtol=1e-5, atol=1e-4, err_msg=x.path)


def test_nested_maps_equal_the_backbone_called_directly(tmp_path):
    model = mb.nested()
    loaded, _ = _load(model, tmp_path)
    info = model_maps.describe(loaded)
    paths = [x.path for x in info.image_layers]
    assert paths == [
        "scale",
        "backbone",
        "backbone/b_conv1",
        "backbone/block",
        "backbone/block/blk_conv",
        "backbone/block/blk_relu",
        "backbone/b_pool",
    ]
    assert [x.depth for x in info.layers if x.image] == [0, 0, 1, 1, 2, 2, 1]
    assert info.rescale == pytest.approx((1 / 255, 0.0)) and info.softmax
    prepared = model_maps.prepare_photo(_photo(16, 16), info)
    assert prepared.batch.max() > 1  # the model rescales itself, so it gets raw pixels
    maps = _all_maps(loaded, info, prepared.batch, max_layers=2)
    scaled = prepared.batch / np.float32(255)
    backbone = model.get_layer("backbone")
    block = backbone.get_layer("block")
    np.testing.assert_allclose(maps["scale"], scaled[0], rtol=1e-6)
    np.testing.assert_allclose(maps["backbone"], backbone(scaled).numpy()[0], rtol=1e-5, atol=1e-5)
    for name in ("b_conv1", "b_pool"):
        ref = keras.Model(backbone.inputs, backbone.get_layer(name).output)(scaled).numpy()[0]
        np.testing.assert_allclose(maps[f"backbone/{name}"], ref, rtol=1e-5, atol=1e-5)
    block_in = keras.Model(backbone.inputs, backbone.get_layer("b_conv1").output)(scaled)
    x = block_in
    for layer in block.layers:
        x = layer(x)
        np.testing.assert_allclose(maps[f"backbone/block/{layer.name}"], x.numpy()[0], rtol=1e-5, atol=1e-5)


def test_pages_keep_every_layer_in_order_within_their_bounds(tmp_path):
    loaded, _ = _load(mb.nested(), tmp_path)
    info = model_maps.describe(loaded)
    shape = (1, 16, 16, 3)
    one_map = 4 * 16 * 16 * 4
    pages = model_maps.pages(info, shape, max_layers=3, max_bytes=2 * one_map)
    assert [x for page in pages for x in page] == list(info.image_layers)
    for page in pages:
        assert len(page) <= 3
        assert len(page) == 1 or sum(model_maps.map_bytes(x, shape) for x in page) <= 2 * one_map


def test_a_free_size_model_keeps_or_shrinks_the_photo(tmp_path):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(2, 3, padding="same", name="c")])
    loaded, _ = _load(model, tmp_path)
    info = model_maps.describe(loaded)
    assert info.input_shape == (None, None, 3) and [x.shape for x in info.image_layers] == [(None, None, 2)]
    small = model_maps.prepare_photo(_photo(20, 30), info)
    assert small.batch.shape == (1, 20, 30, 3) and "keeps its 20×30" in small.notes[0]
    big = model_maps.prepare_photo(_photo(600, 1024), info)
    assert big.batch.shape == (1, 300, 512, 3) and "shrunk to 300×512" in big.notes[0]
    maps = model_maps.MapComputer(loaded).compute(big.batch, ["c"])
    np.testing.assert_allclose(maps["c"], model(big.batch).numpy()[0], rtol=1e-5, atol=1e-5)


def test_photo_preparation_channels_and_ranges(tmp_path):
    loaded, _ = _load(mb.functional(), tmp_path)  # grayscale 9×11, no Rescaling
    info = model_maps.describe(loaded)
    rgb = _photo(9, 11)
    p = model_maps.prepare_photo(rgb, info)
    luma = (rgb.astype(np.float64) @ np.array([0.2989, 0.587, 0.114])) / 255
    np.testing.assert_allclose(p.batch[0, :, :, 0], luma, atol=2e-3)
    assert "grayscale" in p.notes[0] and "0 to 1" in p.notes[-1]
    gray = _photo(9, 11, 1)
    for rng, ref in (("0-1", gray / 255), ("0-255", gray.astype(float)), ("-1-1", gray / 127.5 - 1)):
        got = model_maps.prepare_photo(gray, info, rng).batch[0, :, :, 0]
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)
    seq, _ = _load(mb.sequential(), tmp_path, "s.keras")
    sinfo = model_maps.describe(seq)
    p = model_maps.prepare_photo(_photo(24, 20, 1), sinfo)
    assert p.batch.shape == (1, 12, 10, 3)
    np.testing.assert_allclose(p.batch[0, :, :, 0], p.batch[0, :, :, 2])
    assert any("copied into all three" in n for n in p.notes) and any("resized" in n for n in p.notes)
    ref = np_resize(np.repeat(_photo(24, 20, 1)[:, :, None], 3, 2) / 255.0, (12, 10))
    assert ref.shape == (12, 10, 3)
    with pytest.raises(ModelError, match="not a value range"):
        model_maps.prepare_photo(gray, info, "0-9")


def test_a_four_channel_model_is_explained(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.Conv2D(1, 1)])
    loaded, _ = _load(model, tmp_path)
    with pytest.raises(ModelError, match="takes 4 channels"):
        model_maps.prepare_photo(_photo(8, 8), model_maps.describe(loaded))


def test_top_outputs():
    assert model_maps.top_outputs(np.array([0.1, 0.5, 0.2, 0.2]), 3) == [(1, 0.5), (2, 0.2), (3, 0.2)]


# --------------------------------------------------------------------------- the command line


def test_cli_writes_every_image_layer_and_the_layer_list(tmp_path, capsys):
    model = mb.nested()
    path = mb.save(model, tmp_path, "nested.keras")
    image = tmp_path / "photo.png"
    from PIL import Image

    Image.fromarray(_photo(20, 24)).save(image)
    out = tmp_path / "out"
    assert cli_main(["model-maps", str(path), str(image), "--out", str(out)]) == 0
    listing = json.loads((out / "layers.json").read_text())
    files = sorted(p.name for p in out.glob("*.npy"))
    assert files == [
        "00_scale.npy",
        "01_backbone.npy",
        "02_backbone__b_conv1.npy",
        "03_backbone__block.npy",
        "04_backbone__block__blk_conv.npy",
        "05_backbone__block__blk_relu.npy",
        "06_backbone__b_pool.npy",
    ]
    rows = {r["path"]: r for r in listing["layers"]}
    assert rows["backbone/block/blk_conv"]["class"] == "Conv2D"
    assert rows["backbone/block/blk_conv"]["output_shape"] == [14, 14, 4]
    assert rows["probs"]["output_shape"] == [3] and "file" not in rows["probs"]
    loaded, _ = model_file.load_model(path.read_bytes())
    info = model_maps.describe(loaded)
    from cnn_core.images import load_image

    batch = model_maps.prepare_photo(load_image(image), info).batch
    saved = np.load(out / "04_backbone__block__blk_conv.npy")
    assert saved.dtype == np.float32 and saved.shape == (14, 14, 4)
    want = model_maps.MapComputer(loaded).compute(batch, ["backbone/block/blk_conv"])["backbone/block/blk_conv"]
    np.testing.assert_array_equal(saved, want)


def test_cli_refuses_a_hostile_model_with_one_line(tmp_path, capsys):
    marker = tmp_path / "ran.txt"
    seq = mb.save(mb.sequential(), tmp_path, "seq.keras")

    def outside(config):
        mb.layers_of(config).insert(
            1,
            {"module": "os", "class_name": "system", "registered_name": None, "config": {"command": f"touch {marker}"}},
        )
        return config

    evil = mb.rewrite(seq, tmp_path / "evil.keras", outside)
    out = tmp_path / "out"
    rc = cli_main(["model-maps", str(evil), "assets/camera.png", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0
    assert len(err) == 1 and err[0].startswith("error: ") and "outside Keras" in err[0]
    assert not marker.exists() and not out.exists()


def test_a_layer_that_would_blow_up_memory_is_refused_before_running(tmp_path):
    keras.utils.set_random_seed(6)
    model = keras.Sequential(
        [
            keras.Input((None, None, 3)),
            keras.layers.Conv2D(2, 3, padding="same", name="c"),
            keras.layers.UpSampling2D(64, name="up"),
            keras.layers.Conv2D(8, 1, name="after"),
        ]
    )
    loaded, _ = _load(model, tmp_path)
    info = model_maps.describe(loaded)
    small = model_maps.prepare_photo(_photo(8, 8), info)
    computer = model_maps.MapComputer(loaded)
    assert computer.compute(small.batch, ["after"])["after"].shape == (512, 512, 8)  # 2M values: fine
    big = model_maps.prepare_photo(_photo(300, 400), info)
    assert computer.compute(big.batch, ["c"])["c"].shape == (300, 400, 2)  # layers before the blow-up still run
    with pytest.raises(ModelError, match=r"up.* would make a tensor of 983,040,000 values .*nothing was run"):
        computer.compute(big.batch, ["after"])
    with pytest.raises(ModelError, match="would make a tensor"):
        computer.final_output(big.batch)
