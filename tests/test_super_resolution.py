"""Super-resolution: network shapes, degradation, training, and the upscale CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_style import train, upscale
from keras_style.data import degrade, gaussian_kernel
from keras_style.networks import save_network, training_stages, training_totals
from keras_style.nets.johnson import build_transformer
from keras_style.nets.superres import (SR_UPSAMPLINGS, ShuffleConv2D, build_super_resolution,
                                       sr_architecture)

ASSETS = Path(train.__file__).parent / "assets"


@pytest.mark.parametrize("upsampling", SR_UPSAMPLINGS)
@pytest.mark.parametrize("factor", [2, 4, 8])
@pytest.mark.parametrize("h,w", [(16, 16), (13, 21), (9, 30)])
def test_output_is_factor_times_larger(factor, h, w, upsampling):
    model = build_super_resolution(factor, upsampling=upsampling)
    out = np.asarray(model(np.random.default_rng(0).random((1, h, w, 3), np.float32)))
    assert out.shape == (1, h * factor, w * factor, 3)
    assert out.min() >= 0 and out.max() <= 1


def test_unknown_factor_and_upsampling_are_refused():
    with pytest.raises(ValueError, match="factor"):
        build_super_resolution(3)
    with pytest.raises(ValueError, match="shuffle"):
        build_super_resolution(4, upsampling="bicubic")


@pytest.mark.parametrize("upsampling", SR_UPSAMPLINGS)
@pytest.mark.parametrize("factor", [2, 4, 8])
def test_untrained_network_is_exactly_bicubic(factor, upsampling):
    import tensorflow as tf

    x = np.random.default_rng(4).random((2, 11, 14, 3)).astype(np.float32)
    model = build_super_resolution(**sr_architecture(factor, upsampling=upsampling))
    bicubic = np.clip(tf.image.resize(x, (11 * factor, 14 * factor), "bicubic").numpy(), 0, 1)
    np.testing.assert_allclose(np.asarray(model(x)), bicubic, atol=1e-6)


def test_icnr_shuffle_starts_as_nearest_upsampling_of_one_convolution():
    import keras

    keras.utils.set_random_seed(5)
    x = np.random.default_rng(5).random((2, 7, 9, 6)).astype(np.float32)
    layer = ShuffleConv2D(5, 3, upsample=2)
    y = np.asarray(layer(x))
    assert y.shape == (2, 14, 18, 5)
    # every 2x2 block holds one value per channel: no pattern inside a block ...
    np.testing.assert_allclose(y, np.repeat(np.repeat(y[:, ::2, ::2], 2, 1), 2, 2), atol=1e-6)
    # ... and that value is the first `filters` channels of the convolution
    conv = np.asarray(layer.conv(layer.pad(x)))[..., :5]
    np.testing.assert_allclose(y[:, ::2, ::2], conv, atol=1e-6)
    assert np.abs(y).mean() > 0.05  # a real convolution, not zeros
    # the 4 phases are free parameters: changing one phase's kernel moves only its pixels
    kernel = layer.conv.kernel.numpy()
    kernel[..., 3 * 5:] += 0.5  # phase (1, 1) of each block
    layer.conv.kernel.assign(kernel)
    z = np.asarray(layer(x))
    np.testing.assert_allclose(z[:, ::2, :], y[:, ::2, :], atol=1e-6)
    np.testing.assert_allclose(z[:, 1::2, ::2], y[:, 1::2, ::2], atol=1e-6)
    assert np.abs(z[:, 1::2, 1::2] - y[:, 1::2, 1::2]).max() > 0.1


def _perturbed(model, seed=6, scale=0.02):
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        v.assign(v.numpy() + rng.normal(0, scale, v.shape).astype(np.float32))
    return model


def test_shuffle_network_round_trips_through_a_keras_file(tmp_path):
    import keras

    model = _perturbed(build_super_resolution(**sr_architecture(4, upsampling="shuffle")))
    assert isinstance(model.get_layer("up1_conv"), ShuffleConv2D)
    x = np.random.default_rng(7).random((1, 12, 10, 3)).astype(np.float32)
    path = tmp_path / "sr.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("up2_conv"), ShuffleConv2D)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5)
    # a variable-size input after loading
    assert loaded(np.zeros((1, 9, 13, 3), np.float32)).shape == (1, 36, 52, 3)


def test_shuffle_network_round_trips_through_weights_and_json(tmp_path):
    from keras_style.networks import load_model, read_metadata

    arch = sr_architecture(4, upsampling="shuffle")
    model = _perturbed(build_super_resolution(**arch))
    save_network(model, tmp_path / "net", {"name": "net", "task": "super-resolution",
                                           "architecture": arch})
    assert read_metadata(tmp_path / "net.json")["architecture"]["upsampling"] == "shuffle"
    loaded = load_model(tmp_path / "net")
    x = np.random.default_rng(8).random((1, 12, 10, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-5)


def test_shipped_training_histories_agree_with_their_init_chains():
    """A shipped network trained in stages describes each in ``training_history`` (what
    changed, the command); its steps and wall times must be those its ``init`` chain
    records, and they add up to the totals."""
    from keras_style.networks import read_metadata, shipped_weights_dir

    staged = 0
    for path in sorted(shipped_weights_dir().glob("*.json")):
        meta = read_metadata(path)
        stages = training_stages(meta)
        history = meta.get("training_history")
        if history is None:
            continue
        staged += 1
        assert [(h["steps"], h["wall_seconds"]) for h in history] == [
            (s["steps"], pytest.approx(s["wall_seconds"], abs=0.2)) for s in stages], path.name
        assert sum(s["steps"] for s in stages) == training_totals(meta)[0]
        assert sum(s["wall_seconds"] for s in stages) == pytest.approx(
            training_totals(meta)[1], abs=0.5)
    assert staged >= 2  # sr_x4 and sr_x8


@pytest.mark.parametrize("name, upsampling", [("sr_x4", "bilinear"), ("sr_x8", "bilinear"),
                                              ("sr_x4_pixel", "nearest")])
def test_shipped_networks_load_with_their_upsampling(name, upsampling):
    import tensorflow as tf

    from keras_style.layers import UpsampleConv2D
    from keras_style.networks import load_model

    model, meta = load_model(name, with_metadata=True)
    factor = meta["architecture"]["factor"]
    assert meta["architecture"]["upsampling"] == upsampling
    layer = model.get_layer("up1_conv")
    assert isinstance(layer, UpsampleConv2D) and layer.interpolation == upsampling
    # trained: not bicubic any more
    x = np.random.default_rng(9).random((1, 16, 16, 3)).astype(np.float32)
    bicubic = np.clip(tf.image.resize(x, (16 * factor, 16 * factor), "bicubic").numpy(), 0, 1)
    assert np.abs(np.asarray(model(x)) - bicubic).max() > 1e-3


def test_sr_upsampling_flag_is_part_of_the_run_identity(tmp_path):
    from keras_style.cli import UsageError

    base = ["--task", "super-resolution", "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    assert train.parse_config(base).sr_upsampling == "nearest"
    shuffle = train.parse_config(base + ["--sr-upsampling", "shuffle"])
    assert train.run_identity(shuffle)["sr_upsampling"] == "shuffle"
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    # a checkpoint written before the flag existed was a nearest run: it resumes as one ...
    old = train.run_identity(train.parse_config(base))
    for later in ("sr_upsampling", "laplacian_weight", "pixel_weight", "loss_jitter"):
        del old[later]
    (ckpt / "progress.json").write_text(json.dumps({"step": 5, "config": old}))
    nearest = train.parse_config(base + ["--checkpoint-dir", str(ckpt)])
    assert train.check_resume(nearest, ckpt)["step"] == 5
    # ... and refuses to continue as a shuffle network, or with a loss term it did not have
    with pytest.raises(UsageError, match="--sr-upsampling"):
        train.check_resume(train.parse_config(base + ["--sr-upsampling", "shuffle"]), ckpt)
    with pytest.raises(UsageError, match="--pixel-weight .was 0.0, now 0.5"):
        train.check_resume(train.parse_config(base + ["--pixel-weight", "0.5"]), ckpt)
    with pytest.raises(UsageError, match="--loss-jitter .was 0, now 3"):
        train.check_resume(train.parse_config(base + ["--loss-jitter", "3"]), ckpt)
    (ckpt / "progress.json").write_text(json.dumps({"step": 5,
                                                    "config": train.run_identity(shuffle)}))
    assert train.check_resume(shuffle, ckpt)["step"] == 5
    with pytest.raises(UsageError, match="was 'shuffle', now 'nearest'"):
        train.check_resume(nearest, ckpt)


def test_degradation_is_deterministic_and_shaped():
    rng = np.random.default_rng(1)
    hr = rng.random((2, 67, 50, 3)).astype(np.float32)
    a, b = np.asarray(degrade(hr, 4)), np.asarray(degrade(hr, 4))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 16, 12, 3)
    assert np.asarray(degrade(hr[0], 8)).shape == (8, 6, 3)


def test_degradation_blurs_then_downsamples():
    k = gaussian_kernel(1.0)
    assert len(k) == 7 and abs(k.sum() - 1) < 1e-6 and k.argmax() == 3
    flat = np.full((1, 32, 32, 3), 0.25, np.float32)
    np.testing.assert_allclose(np.asarray(degrade(flat, 4)), 0.25, atol=1e-5)
    # a one-pixel checkerboard is removed by the blur: the low-res image is almost flat
    board = (np.indices((32, 32)).sum(0) % 2).astype(np.float32)[None, :, :, None]
    low = np.asarray(degrade(np.repeat(board, 3, axis=-1), 4))
    assert low.std() < 0.05
    noise = np.random.default_rng(3).random((1, 64, 64, 3)).astype(np.float32)
    blurred, sharp = np.asarray(degrade(noise, 4)), np.asarray(degrade(noise, 4, sigma=0))
    assert blurred.std() < 0.6 * sharp.std()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hr")
    with Image.open(ASSETS / "colosseum.jpg") as img:
        img = img.convert("RGB")
        for i in range(4):
            img.crop((i * 60, 40, i * 60 + 200, 200)).resize((100, 80)).save(folder / f"{i}.png")
    return folder


@pytest.mark.vgg
@pytest.mark.slow
def test_training_a_shuffle_network_records_it(tmp_path, photos, capsys):
    from keras_style.networks import load_model

    out = tmp_path / "shuffle"
    code = train.main(["--task", "super-resolution", "--factor", "2", "--data", str(photos),
                       "--out", str(out), "--steps", "2", "--image-size", "32",
                       "--batch-size", "2", "--no-progress", "--sr-upsampling", "shuffle"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads(Path(f"{out}.json").read_text())
    assert meta["architecture"]["upsampling"] == "shuffle"
    assert meta["hyperparameters"]["sr_upsampling"] == "shuffle"
    assert isinstance(load_model(out).get_layer("up1_conv"), ShuffleConv2D)


@pytest.mark.vgg
@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--pixel-loss"]])
def test_a_few_training_steps_lower_the_loss(capsys, tmp_path, photos, extra):
    out = tmp_path / "sr"
    code = train.main(["--task", "super-resolution", "--factor", "4", "--data", str(photos),
                       "--out", str(out), "--steps", "40", "--image-size", "48",
                       "--batch-size", "4", "--no-progress", "--log-every", "1",
                       *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # An untrained network is exactly bicubic (zero-initialized residual on a bicubic
    # skip); 40 steps must already improve on it, for the loss it was trained on, on the
    # whole training photos (per-batch losses of random crops are too noisy to compare).
    from keras_style.networks import load_model
    from keras_style.vgg import loss_network
    trained = load_model(out)
    untrained = build_super_resolution(**sr_architecture(4))
    vgg = loss_network(["block2_conv2"])
    truth = np.stack([np.asarray(Image.open(p), np.float32) / 255
                      for p in sorted(photos.glob("*.png"))])
    low = np.asarray(degrade(truth, 4))

    def loss(model):
        out = model(low)
        if extra:
            return float(np.mean((np.asarray(out) - truth) ** 2))
        feats, target = vgg(out)["block2_conv2"], vgg(truth)["block2_conv2"]
        return float(np.mean((np.asarray(feats) - np.asarray(target)) ** 2))

    assert loss(trained) < 0.99 * loss(untrained)
    meta = json.loads(Path(f"{out}.json").read_text())
    assert meta["task"] == "super-resolution" and meta["architecture"]["factor"] == 4
    assert meta["loss"]["kind"] == ("pixel" if extra else "perceptual")


@pytest.fixture(scope="module")
def sr_net(tmp_path_factory, saved_sr_network):
    return saved_sr_network(tmp_path_factory.mktemp("srnet"), "sr", 4)


def test_upscale_cli_writes_a_four_times_larger_image(sr_net, tmp_path, capsys):
    src = tmp_path / "small.png"
    Image.fromarray(np.zeros((30, 41, 3), np.uint8)).save(src)
    out = tmp_path / "big.png"
    code = upscale.main([str(src), "--model", str(sr_net), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as img:
        assert img.size == (164, 120)


def test_upscale_tiled_equals_whole(sr_net):
    from keras_style.networks import apply, load_model

    model = load_model(sr_net)
    x = np.random.default_rng(2).random((70, 90, 3)).astype(np.float32)
    whole = apply(model, x, tile=None, scale=4)
    tiled = apply(model, x, tile=48, margin=16, scale=4)
    np.testing.assert_allclose(tiled, whole, atol=1e-4)


def test_upscale_refuses_a_style_network(tmp_path, capsys):
    model = build_transformer("light")
    save_network(model, tmp_path / "style", {"name": "style", "task": "style",
                                             "architecture": {"normalization": "instance",
                                                              "upsampling": "nearest",
                                                              "width": 16, "residual_blocks": 5,
                                                              "padding": 40}})
    src = tmp_path / "p.png"
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(src)
    code = upscale.main([str(src), "--model", str(tmp_path / "style"), "-o",
                         str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and "style network" in err and err.count("\n") == 1


def test_upscale_refuses_an_image_too_small(sr_net, tmp_path, capsys):
    src = tmp_path / "speck.png"
    Image.fromarray(np.zeros((5, 6, 3), np.uint8)).save(src)
    code = upscale.main([str(src), "--model", str(sr_net)])
    err = capsys.readouterr().err
    assert code == 2 and "speck.png" in err and "Traceback" not in err


def test_train_sr_refuses_a_style_image_and_tiny_patches(tmp_path, photos, capsys):
    code = train.main(["--task", "super-resolution", "--style", str(ASSETS / "starry_night.jpg"),
                       "--data", str(photos)])
    assert code == 2 and "--style" in capsys.readouterr().err
    code = train.main(["--task", "super-resolution", "--factor", "8", "--image-size", "32",
                       "--data", str(photos)])
    assert code == 2 and "--image-size" in capsys.readouterr().err


def test_loss_view_crops_output_and_photo_alike_at_random_phases():
    from keras_style.training import TrainConfig, loss_view

    cfg = TrainConfig(style=None, data="", task="super-resolution", image_size=32)
    index = np.arange(2 * 10 * 12, dtype=np.float32).reshape(2, 10, 12, 1)
    assert np.array_equal(loss_view(cfg)()(index), index)  # --loss-jitter 0: the whole image
    view = loss_view(TrainConfig(style=None, data="", task="super-resolution", image_size=32,
                                 loss_jitter=3))
    offsets = set()
    for _ in range(60):
        crop = view()
        a, b = np.asarray(crop(index)), np.asarray(crop(index + 1000))
        assert a.shape == (2, 7, 9, 1) and np.array_equal(b, a + 1000)  # one crop for both
        dy, dx = divmod(int(a[0, 0, 0, 0]), 12)
        assert np.array_equal(a, index[:, dy:dy + 7, dx:dx + 9])
        offsets.add((dy, dx))
    assert {dy for dy, _ in offsets} == {0, 1, 2, 3} == {dx for _, dx in offsets}


def test_loss_jitter_out_of_range_is_refused(tmp_path, photos, capsys):
    for value in ("-1", "9"):
        code = train.main(["--task", "super-resolution", "--data", str(photos), "--image-size",
                           "32", "--loss-jitter", value, "--out", str(tmp_path / "o")])
        assert code == 2 and "--loss-jitter must be between 0 and" in capsys.readouterr().err


def test_sr_training_continues_a_trained_network_with_new_settings(tmp_path, photos, capsys):
    from keras_style.networks import load_model

    common = ["--task", "super-resolution", "--factor", "2", "--data", str(photos),
              "--steps", "2", "--image-size", "32", "--batch-size", "2", "--no-progress"]
    first, second = tmp_path / "first", tmp_path / "second"
    assert train.main(common + ["--out", str(first)]) == 0, capsys.readouterr().err
    code = train.main(common + ["--out", str(second), "--init", str(first), "--loss-jitter", "2"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads(Path(f"{second}.json").read_text())
    assert meta["init"]["network"] == str(first) and meta["init"]["steps"] == 2
    assert meta["hyperparameters"]["loss_jitter"] == 2 and meta["family"] == "superres"
    # the JSON counts both stages, and a third stage all three
    first_meta = json.loads(Path(f"{first}.json").read_text())
    assert "total_steps" not in first_meta and meta["total_steps"] == 4
    assert meta["total_wall_seconds"] == pytest.approx(
        first_meta["wall_seconds"] + meta["wall_seconds"], abs=0.2)
    third = tmp_path / "third"
    assert train.main(common + ["--out", str(third), "--init", str(second)]) == 0
    third_meta = json.loads(Path(f"{third}.json").read_text())
    assert third_meta["total_steps"] == 6 and third_meta["init"]["total_steps"] == 4
    assert training_totals(third_meta)[0] == 6
    stages = training_stages(third_meta)  # derived from the chain, oldest first
    assert [(s["network"], s["steps"]) for s in stages] == [
        (str(first), 2), (str(second), 2), ("third", 2)]
    assert [s["wall_seconds"] for s in stages] == pytest.approx(
        [first_meta["wall_seconds"], meta["wall_seconds"], third_meta["wall_seconds"]], abs=0.2)
    assert [s["command"] for s in stages] == [first_meta["command"], meta["command"],
                                              third_meta["command"]]
    before, after = load_model(first), load_model(second)
    assert any(not np.array_equal(a, b) for a, b in zip(before.get_weights(), after.get_weights()))
    # a network of another upsampling, or a larger factor, or a style network, is refused
    # in a sentence
    for other, why in ((["--sr-upsampling", "bilinear"], "its upsampling is 'nearest', not "
                        "'bilinear'"), (["--factor", "4", "--sr-blocks", "2"], "it has 4 "
                                        "residual blocks, more than 2")):
        code = train.main(common + other + ["--out", str(tmp_path / "x"), "--init", str(first)])
        err = capsys.readouterr().err
        assert code == 2 and "not a super-resolution network this run can start from" in err
        assert why in err
    style = tmp_path / "style"
    from keras_style.nets.johnson import get_architecture

    save_network(build_transformer("light"), style,
                 {"task": "style", "architecture": get_architecture("light").to_dict()})
    code = train.main(common + ["--out", str(tmp_path / "y"), "--init", str(style)])
    assert code == 2 and "not a super-resolution network." in capsys.readouterr().err
    code = train.main(common + ["--out", str(tmp_path / "z"), "--init", str(first),
                                "--trainable", "norms"])
    assert code == 2 and "--trainable norms is for style networks" in capsys.readouterr().err
    assert not list(tmp_path.glob("[xyz]*"))


def test_default_tile_keeps_output_tiles_near_1024_px():
    from keras_style.upscale import MARGIN, TILE_OUTPUT, default_tile

    for factor in (2, 4, 8):
        tile = default_tile(factor)
        assert tile * factor <= TILE_OUTPUT and tile > 2 * MARGIN  # apply() needs the latter


def test_committed_training_state_resumes_with_its_documented_command(monkeypatch):
    """Every run in weights/training/ must stay resumable as the README says, whatever
    settings the trainer has gained since the checkpoint was written."""
    import re
    import shlex

    root = Path(__file__).resolve().parents[1]
    readme = (root / "weights" / "training" / "README.md").read_text()
    commands = [" ".join(block.replace("\\\n", " ").split())
                for block in re.findall(r"```bash\n(.*?)```", readme, re.S)]
    states = sorted(p.parent for p in (root / "weights" / "training").glob("*/progress.json"))
    assert states, "no committed training state to check"
    for state in states:
        relative = state.relative_to(root).as_posix()
        command = next((c for c in commands if f"--checkpoint-dir {relative}" in c), None)
        assert command is not None, f"weights/training/README.md has no command for {relative}"
        argv = shlex.split(command.split("keras_style.train", 1)[1])
        cfg = train.parse_config(argv)
        assert cfg.resume
        previous = train.check_resume(cfg, root / relative)
        assert previous["step"] > 0
        # the state describes its network, so it resumes without the one it started from
        monkeypatch.chdir(root)
        from keras_style.networks import build_from_metadata
        from keras_style.training import check_inputs, saved_network

        record = saved_network(previous)
        assert record is not None, f"{relative}/progress.json does not describe its network"
        assert record["architecture"]["factor"] == cfg.factor
        check_inputs(cfg, record)
        build_from_metadata(record)


def test_grown_network_starts_as_its_source_or_as_bicubic():
    """More residual blocks: the same output as the source; a larger factor: bicubic at the
    new factor, on the source's features (the new stage upsamples them)."""
    import tensorflow as tf

    from keras_style.nets.superres import grow_super_resolution, growth_problem

    arch = sr_architecture(2, upsampling="bilinear")
    source = build_super_resolution(**arch)
    rng = np.random.default_rng(3)
    source.set_weights([rng.normal(0, 0.05, w.shape).astype(np.float32)
                        for w in source.get_weights()])  # a "trained" network: not bicubic
    x = rng.random((1, 12, 10, 3)).astype(np.float32)
    deeper, report = grow_super_resolution(source, arch, {**arch, "residual_blocks": 6})
    np.testing.assert_allclose(np.asarray(deeper(x)), np.asarray(source(x)), atol=1e-5)
    assert report["added"] == ["residual5 (identity)", "residual6 (identity)"]
    x4, report = grow_super_resolution(source, arch, {**arch, "factor": 4})
    bicubic = np.clip(tf.image.resize(x, (48, 40), "bicubic").numpy(), 0, 1)
    np.testing.assert_allclose(np.asarray(x4(x)), bicubic, atol=1e-5)
    assert "up2_conv (identity: upsamples the features)" in report["added"]
    assert "in_conv" in report["copied"] and "up1_conv" in report["copied"]
    np.testing.assert_array_equal(x4.get_layer("residual1").get_weights()[0],
                                  source.get_layer("residual1").get_weights()[0])
    # nothing that cannot grow
    assert "larger than x2" in growth_problem({**arch, "factor": 4}, arch)
    assert "only a network with" in growth_problem(
        sr_architecture(2, upsampling="shuffle"), sr_architecture(4, upsampling="shuffle"))
    with pytest.raises(ValueError, match="width is 64, not 32"):
        grow_super_resolution(source, arch, {**arch, "width": 32})


@pytest.mark.vgg
@pytest.mark.slow
def test_training_grows_a_smaller_network_and_records_it(tmp_path, photos, capsys):
    common = ["--task", "super-resolution", "--data", str(photos), "--steps", "2",
              "--image-size", "32", "--batch-size", "2", "--no-progress"]
    small, big = tmp_path / "small", tmp_path / "big"
    assert train.main(common + ["--factor", "2", "--out", str(small)]) == 0
    code = train.main(common + ["--factor", "4", "--sr-blocks", "5", "--out", str(big),
                                "--init", str(small)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "grown from x2 with 4 residual blocks; added residual5 (identity)" in err
    meta = json.loads(Path(f"{big}.json").read_text())
    assert meta["architecture"]["factor"] == 4 and meta["architecture"]["residual_blocks"] == 5
    assert meta["init"]["architecture"]["factor"] == 2 and meta["total_steps"] == 4
    assert "out_conv (zero: starts as bicubic)" in meta["init"]["grown"]["added"]
    assert meta["hyperparameters"]["sr_blocks"] == 5


@pytest.mark.vgg
@pytest.mark.slow
def test_a_checkpointed_run_resumes_without_its_init_network(tmp_path, photos, capsys):
    """progress.json keeps the network's description, so a committed training state
    resumes on a machine that has no copy of the network the run started from, and goes
    on exactly as an uninterrupted run."""
    from keras_style.networks import load_model

    common = ["--task", "super-resolution", "--factor", "2", "--data", str(photos),
              "--image-size", "32", "--batch-size", "2", "--no-progress",
              "--checkpoint-every", "2"]
    start = tmp_path / "start"
    assert train.main(common + ["--out", str(start), "--steps", "2"]) == 0
    grown = common + ["--init", str(start), "--sr-blocks", "5"]
    assert train.main(grown + ["--out", str(tmp_path / "straight"), "--steps", "4"]) == 0
    assert train.main(grown + ["--out", str(tmp_path / "split"), "--steps", "2"]) == 0
    for suffix in (".json", ".weights.h5"):
        Path(f"{start}{suffix}").unlink()
    code = train.main(grown + ["--out", str(tmp_path / "split"), "--steps", "4", "--resume"])
    assert code == 0, capsys.readouterr().err
    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "split")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
    meta = json.loads((tmp_path / "split.json").read_text())
    assert meta["total_steps"] == 6 and meta["init"]["grown"]["added"][0].startswith("residual5")
    # without a checkpoint the start network is still needed, and its absence is a sentence
    code = train.main(grown + ["--out", str(tmp_path / "new"), "--steps", "2"])
    assert code == 2 and f"--init {start}" in capsys.readouterr().err
