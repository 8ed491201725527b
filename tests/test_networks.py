"""Saved networks: load by path with checks, apply whole or tiled, export, stylize --model."""

import json

import numpy as np
import pytest
from PIL import Image

from keras_style import stylize
from keras_style.errors import WeightsError
from keras_style.networks import (apply, available_networks, export, load_model, resolve,
                                  run_tflite, save_network, tiles)
from keras_style.nets.johnson import build_transformer


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An (untrained) light network saved in the package's format, and its model."""
    folder = tmp_path_factory.mktemp("nets")
    model = build_transformer("light")
    save_network(model, folder / "mini", {"name": "mini", "task": "style",
                                          "architecture": {"normalization": "instance",
                                                           "upsampling": "nearest", "width": 16,
                                                           "residual_blocks": 5, "padding": 40,
                                                           "output": "linear"}})
    return folder / "mini", model


def _image(h, w, seed=0):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


def test_save_then_load_gives_the_same_outputs(saved):
    prefix, model = saved
    loaded = load_model(prefix)
    x = _image(64, 48)
    np.testing.assert_allclose(apply(loaded, x), apply(model, x), atol=1e-6)
    for spelling in (f"{prefix}.json", f"{prefix}.weights.h5", str(prefix)):
        assert resolve(spelling)[0] == resolve(prefix)[0]


def test_weights_of_another_architecture_are_refused(saved, tmp_path):
    prefix, _ = saved
    meta = json.loads(open(f"{prefix}.json").read())
    meta["architecture"]["width"] = 32  # claims johnson_up, but the weights are light's
    (tmp_path / "liar.json").write_text(json.dumps(meta))
    (tmp_path / "liar.weights.h5").write_bytes(open(f"{prefix}.weights.h5", "rb").read())
    with pytest.raises(WeightsError, match="liar.weights.h5"):
        load_model(tmp_path / "liar")


def test_damaged_weights_are_refused(saved, tmp_path):
    prefix, _ = saved
    (tmp_path / "cut.json").write_text(open(f"{prefix}.json").read())
    data = open(f"{prefix}.weights.h5", "rb").read()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsError, match="cut.weights.h5"):
        load_model(tmp_path / "cut")


def test_missing_json_and_foreign_json(saved, tmp_path):
    prefix, _ = saved
    (tmp_path / "orphan.weights.h5").write_bytes(open(f"{prefix}.weights.h5", "rb").read())
    with pytest.raises(WeightsError, match="orphan.json"):
        load_model(tmp_path / "orphan")
    (tmp_path / "odd.json").write_text('{"hello": 1}')
    (tmp_path / "odd.weights.h5").write_bytes(b"")
    with pytest.raises(WeightsError, match="odd.json"):
        load_model(tmp_path / "odd")


def test_unknown_name_lists_the_shipped_networks():
    with pytest.raises(WeightsError, match="shipped networks"):
        load_model("surely_not_a_network")


def test_shipped_networks_load_by_name():
    style, sr = available_networks("style"), available_networks("super-resolution")
    pretrained = available_networks("arbitrary-style") + available_networks("multi-style")
    assert pretrained == ["arbitrary", "multistyle26"]  # two-input; tests/test_magenta.py
    assert sorted(style + sr + pretrained) == available_networks()
    for name in style + sr:
        model, meta = load_model(name, with_metadata=True)
        factor = meta["architecture"]["factor"] if name in sr else 1
        out = apply(model, _image(64, 64), scale=factor)
        assert out.shape == (64 * factor, 64 * factor, 3) and meta["name"] == name


def test_tiled_and_whole_agree(saved):
    """Overlap-save tiles on a stride-aligned grid with whole-image statistics: the same."""
    prefix, _ = saved
    model = load_model(prefix)
    # a smooth real-looking image: the bundled photo, resized
    with Image.open(stylize.DEMO_CONTENT) as img:
        x = np.asarray(img.convert("RGB").resize((200, 136)), np.float32) / 255
    whole = apply(model, x, tile=None)
    tiled = apply(model, x, tile=160, margin=64)
    assert tiled.shape == whole.shape
    np.testing.assert_allclose(tiled, whole, atol=1e-4)
    # too small a margin for the receptive field shows up as differences: the test can fail
    rough = apply(model, x, tile=64, margin=8)
    assert np.abs(rough - whole).max() > 1e-3
    # another image, another size: its own statistics (fed in, not left over from the first
    # trace), and no new trace
    y = np.ascontiguousarray(x[::-1, 20:180] ** 2)
    np.testing.assert_allclose(apply(model, y, tile=144, margin=64), apply(model, y, tile=None),
                               atol=1e-4)
    for fn in (model._keras_style_record, model._keras_style_fixed):
        assert fn.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("h,w,tile,margin", [(4096, 4096, 1024, 96), (300, 260, 128, 32),
                                             (1030, 77, 256, 64), (50, 2000, 512, 96)])
def test_tiles_partition_the_image_and_stay_bounded(h, w, tile, margin):
    """Memory is bounded by the tile: no input region exceeds it; kept parts cover once."""
    cover = np.zeros((h, w), np.int32)
    for (y0, y1, x0, x1), (top, bottom, left, right) in tiles(h, w, tile, margin):
        assert y1 - y0 <= tile and x1 - x0 <= tile
        assert y0 % 4 == 0 and x0 % 4 == 0
        assert y0 <= top < bottom <= y1 and x0 <= left < right <= x1
        assert y1 - y0 >= min(h, tile // 2) and x1 - x0 >= min(w, tile // 2)  # never a sliver
        cover[top:bottom, left:right] += 1
    assert (cover == 1).all()


def test_stylize_with_a_saved_network_through_the_cli(saved, tmp_path, capsys):
    prefix, _ = saved
    photos = tmp_path / "in"
    photos.mkdir()
    for i, size in enumerate([(64, 48), (70, 90)]):
        Image.fromarray((_image(size[1], size[0], i) * 255).astype(np.uint8)).save(
            photos / f"p{i}.png")
    out = tmp_path / "out"
    out.mkdir()
    code = stylize.main([str(photos), "--model", str(prefix), "-o", str(out),
                         "--preserve-color", "luminance"])
    err = capsys.readouterr().err
    assert code == 0, err
    for i, size in enumerate([(64, 48), (70, 90)]):
        with Image.open(out / f"p{i}_mini.jpg") as img:
            assert img.size == size


def test_stylize_rejects_images_too_small_for_the_network(saved, tmp_path, capsys):
    prefix, _ = saved
    Image.fromarray(np.zeros((36, 36, 3), np.uint8)).save(tmp_path / "small.png")
    code = stylize.main([str(tmp_path / "small.png"), "--model", str(prefix), "-o",
                         str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "too small" in err and "Traceback" not in err


def test_stylize_with_a_damaged_network_is_one_clear_error(saved, tmp_path, capsys):
    prefix, _ = saved
    (tmp_path / "bad.json").write_text(open(f"{prefix}.json").read())
    (tmp_path / "bad.weights.h5").write_bytes(b"garbage")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "p.png")
    code = stylize.main([str(tmp_path / "p.png"), "--model", str(tmp_path / "bad"), "-o",
                         str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "bad.weights.h5" in err and err.count("\n") == 1


@pytest.mark.slow
def test_savedmodel_export_matches_keras(saved, tmp_path):
    import tensorflow as tf

    prefix, _ = saved
    model = load_model(prefix)
    x = _image(72, 56)
    path = export(model, tmp_path / "sm", "savedmodel")
    reloaded = tf.saved_model.load(str(path))  # keep a reference while serving
    served = reloaded.serve(x[None]).numpy()[0]
    np.testing.assert_allclose(served, apply(model, x), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("fmt,tol", [("tflite", 1e-4), ("tflite-fp16", 2e-2)])
def test_tflite_export_matches_keras(saved, tmp_path, fmt, tol):
    prefix, _ = saved
    model = load_model(prefix)
    x = _image(64, 64, 5)
    path = export(model, tmp_path / f"m_{fmt}.tflite", fmt, (64, 64))
    assert np.max(np.abs(run_tflite(path, x) - apply(model, x))) < tol


def test_export_cli_bad_input(tmp_path, capsys):
    from keras_style import export as export_cli

    code = export_cli.main(["no_such_net", "-o", str(tmp_path / "x.tflite"), "--format",
                            "tflite"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_net" in err
    with pytest.raises(SystemExit) as exc:
        export_cli.main(["x", "-o", str(tmp_path / "y"), "--format", "onnx"])
    assert exc.value.code == 2
