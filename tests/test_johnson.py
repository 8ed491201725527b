"""Tests for keras_style.nets.johnson: the talk's table, every architecture, saving."""

import io

import keras
import numpy as np
import pytest

from keras_style.nets.johnson import (ARCHITECTURES, Architecture, build_transformer,
                                     get_architecture, min_input_size)

# TALK.md section 6, the image transformation network for a 3 x 256 x 256 input,
# as (layer name in our model, (height, width, channels)).
TALK_TABLE = [
    ("reflection_pad", (336, 336, 3)),   # reflection padding (40 x 40)
    ("down1_conv", (336, 336, 32)),      # 32 x 9 x 9 conv, stride 1
    ("down2_conv", (168, 168, 64)),      # 64 x 3 x 3 conv, stride 2
    ("down3_conv", (84, 84, 128)),       # 128 x 3 x 3 conv, stride 2
    ("residual1", (80, 80, 128)),
    ("residual2", (76, 76, 128)),
    ("residual3", (72, 72, 128)),
    ("residual4", (68, 68, 128)),
    ("residual5", (64, 64, 128)),
    ("up1_conv", (128, 128, 64)),        # 64 x 3 x 3 conv, stride 1/2
    ("up2_conv", (256, 256, 32)),        # 32 x 3 x 3 conv, stride 1/2
    ("out_conv", (256, 256, 3)),         # 3 x 9 x 9 conv, stride 1
    ("to_pixels", (256, 256, 3)),
]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(size=shape).astype("float32")


@pytest.fixture(scope="module")
def johnson():
    return build_transformer("johnson")


def test_talk_table_runtime_shapes(johnson):
    """Run a real 256 x 256 image and read every row's activation size."""
    names = [name for name, _ in TALK_TABLE]
    probe = keras.Model(johnson.input, [johnson.get_layer(n).output for n in names])
    outputs = probe(np.zeros((1, 256, 256, 3), "float32"))
    for (name, expected), out in zip(TALK_TABLE, outputs):
        assert tuple(out.shape) == (1, *expected), name
    assert tuple(johnson(np.zeros((1, 256, 256, 3), "float32")).shape) == (1, 256, 256, 3)


def test_talk_table_layer_kinds(johnson):
    down1, down2, down3 = (johnson.get_layer(f"down{i}_conv") for i in (1, 2, 3))
    assert (down1.kernel_size, down1.strides) == ((9, 9), (1, 1))
    assert (down2.kernel_size, down2.strides) == ((3, 3), (2, 2))
    assert (down3.kernel_size, down3.strides) == ((3, 3), (2, 2))
    assert johnson.get_layer("reflection_pad").padding == (40, 40)
    for i in (1, 2):  # "stride 1/2": fractionally strided (transposed) convolutions
        up = johnson.get_layer(f"up{i}_conv")
        assert isinstance(up, keras.layers.Conv2DTranspose)
        assert (up.kernel_size, up.strides) == ((3, 3), (2, 2))
    assert johnson.get_layer("out_conv").kernel_size == (9, 9)
    for i in range(1, 6):
        block = johnson.get_layer(f"residual{i}")
        assert (block.filters, block.padding, block.kernel_size) == (128, "valid", 3)


def test_talk_table_in_model_summary(johnson):
    """model.summary() of the network on a fixed 256 x 256 input shows every row."""
    fixed = keras.models.clone_model(johnson,
                                     input_tensors=keras.Input(batch_shape=(1, 256, 256, 3)))
    buf = io.StringIO()
    fixed.summary(print_fn=lambda line, line_break=True: buf.write(line + "\n"),
                  line_length=160)
    text = buf.getvalue()
    rows = {}
    for line in text.splitlines():
        for name, _ in TALK_TABLE:
            if f" {name} (" in line:
                rows[name] = line
    for name, (h, w, c) in TALK_TABLE:
        assert name in rows, f"{name} missing from the summary"
        assert f"(1, {h}, {w}, {c})" in rows[name], rows[name]


@pytest.fixture(scope="module")
def models():
    return {name: build_transformer(name) for name in ARCHITECTURES}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_architecture_keeps_size_and_range(models, arch):
    model = models[arch]
    assert model.name == arch
    for h, w in [(64, 64), (50, 70)]:
        x = _rand(2, h, w, 3, seed=h)
        y = np.asarray(model(x))
        assert y.shape == (2, h, w, 3)
        assert np.all(np.isfinite(y))
        assert y.min() >= 0.0 and y.max() <= 1.0
    # the output depends on the input (not a constant network)
    a = np.asarray(model(_rand(1, 48, 48, 3, seed=1)))
    b = np.asarray(model(_rand(1, 48, 48, 3, seed=2)))
    assert np.abs(a - b).max() > 1e-4


def test_light_is_smaller_than_johnson_up(models):
    light, up = models["light"].count_params(), models["johnson_up"].count_params()
    assert light < up / 3  # half width: about a quarter of the parameters


def test_architecture_variants_use_their_layers(models):
    assert isinstance(models["johnson"].get_layer("down1_norm"), keras.layers.BatchNormalization)
    assert type(models["johnson_in"].get_layer("down1_norm")).__name__ == "InstanceNormalization"
    assert isinstance(models["johnson_in"].get_layer("up1_conv"), keras.layers.Conv2DTranspose)
    assert type(models["johnson_up"].get_layer("up1_conv")).__name__ == "UpsampleConv2D"
    assert models["light"].get_layer("down1_conv").filters == 16


def _perturb_normalization(model, seed):
    """Give normalization parameters and statistics non-default values, so a round trip
    that forgot them would change the output (and a zero-initialized last convolution, as
    ``light_skip`` has, small random weights: otherwise nothing reaches the output)."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        leaf = v.path.rsplit("/", 1)[-1]
        if leaf == "kernel" and not np.any(np.asarray(v)):
            v.assign(rng.normal(0, 0.05, v.shape).astype(v.dtype))
        elif leaf in ("gamma", "moving_variance"):
            v.assign(rng.uniform(0.8, 1.2, v.shape).astype(v.dtype))
        elif leaf in ("beta", "moving_mean"):
            v.assign(rng.uniform(-0.1, 0.1, v.shape).astype(v.dtype))


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_architecture_roundtrips_through_keras_file(models, arch, tmp_path):
    model = models[arch]
    _perturb_normalization(model, seed=4)
    x = _rand(1, 48, 54, 3, seed=5)
    expected = np.asarray(model(x))
    assert expected.std() > 1e-4
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), expected, rtol=1e-5, atol=1e-6)
    assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_architecture_roundtrips_through_weights_h5(models, arch, tmp_path):
    model = models[arch]
    _perturb_normalization(model, seed=6)
    x = _rand(1, 48, 54, 3, seed=7)
    expected = np.asarray(model(x))
    path = tmp_path / f"{arch}.weights.h5"
    model.save_weights(path)
    fresh = build_transformer(arch)
    assert not np.allclose(np.asarray(fresh(x)), expected, atol=1e-6)  # really different
    fresh.load_weights(path)
    np.testing.assert_allclose(np.asarray(fresh(x)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning")
def test_loading_johnson_weights_into_light_raises(models, tmp_path):
    path = tmp_path / "johnson.weights.h5"
    models["johnson"].save_weights(path)
    with pytest.raises(ValueError):
        build_transformer("light").load_weights(path)


def test_untrained_light_skip_returns_the_photo():
    model = build_transformer("light_skip")
    x = _rand(2, 50, 70, 3, seed=3)
    np.testing.assert_allclose(np.asarray(model(x)), x, atol=1e-6)
    assert model.count_params() == build_transformer("light").count_params()
    with pytest.raises(ValueError, match="output='linear'"):
        build_transformer(Architecture(skip="input"))  # the tanh default
    with pytest.raises(ValueError, match="skip must be"):
        build_transformer(Architecture(output="linear", skip="photo"))


def test_get_architecture_and_min_input_size():
    assert get_architecture("johnson_up") == Architecture(normalization="instance",
                                                          upsampling="nearest", output="linear")
    # JSON written before the "output" field existed means the tanh network.
    assert get_architecture({"width": 8}).output == "tanh"
    assert get_architecture({"width": 8}) == Architecture(width=8)
    arch = Architecture(width=4)
    assert get_architecture(arch) is arch
    with pytest.raises(ValueError):
        get_architecture("johnson_xl")
    assert min_input_size("johnson") == 41
    assert min_input_size(Architecture(padding=0)) == 32


@pytest.mark.parametrize("arch", ["johnson", "light"])
def test_output_layer_keeps_training_gradient_alive_where_intended(arch):
    """The paper's tanh vs our linear output: at a pixel driven far below black."""
    import tensorflow as tf
    model = build_transformer(arch)
    last = model.get_layer("out_conv")
    last.bias.assign([-20.0, -20.0, -20.0])   # every pixel deep "below black"
    x = tf.constant(np.random.default_rng(0).random((1, 44, 44, 3), "float32"))
    with tf.GradientTape() as tape:
        y = model(x, training=True)
        loss = tf.reduce_mean(tf.square(y - 0.5))
    grad = tf.norm(tape.gradient(loss, last.bias)).numpy()
    assert float(tf.reduce_max(model(x))) == pytest.approx(0.0, abs=1e-6)  # black at inference
    if arch == "johnson":
        assert grad < 1e-8      # saturated tanh: nothing left to learn from
    else:
        assert grad > 0.1       # linear output: the loss still pulls the pixels back


def test_unpadded_variant_uses_reflect_residuals_and_keeps_size():
    arch = Architecture(normalization="instance", upsampling="nearest", width=4,
                        residual_blocks=2, padding=0)
    model = build_transformer(arch)
    assert model.name == "transformer"
    assert model.get_layer("residual1").padding == "reflect"
    y = np.asarray(model(_rand(1, 33, 38, 3)))
    assert y.shape == (1, 33, 38, 3)
    with pytest.raises(ValueError):
        build_transformer(Architecture(upsampling="bilinear", width=4))
