"""Tests for keras_style.layers: shapes, NumPy references, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_style.layers import (CropLike, GramMatrix, HalvesConv2D, InstanceNormalization,
                                LinearPixels, PadToMultiple, ReflectionPadding2D, ResidualBlock,
                                ResizeBy, ScaledTanh, UpsampleConv2D, gram_matrix,
                                make_normalization)

RNG = np.random.default_rng(1234)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype("float32")


def randomize_weights(model, seed=0):
    """Give every variable (BN moving statistics included) non-default random values."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        if "variance" in v.path:
            value = rng.uniform(0.5, 1.5, v.shape)
        else:
            value = rng.uniform(-0.5, 0.5, v.shape)
        v.assign(value.astype(v.dtype))


# --- the layer catalogue ------------------------------------------------------------
# name -> (factory, channels in, expected (h, w, c) out for an (h, w) input; None stays None)

def _same(h, w, c):
    return (h, w, c)


def _none_add(s, d):
    return None if s is None else s + d


def _none_mul(s, m):
    return None if s is None else s * m


def _up4(s):
    return None if s is None else -(-s // 4) * 4


SINGLE_INPUT = {
    "reflection_pad": (lambda: ReflectionPadding2D((2, 3)), 3,
                       lambda h, w, c: (_none_add(h, 4), _none_add(w, 6), c)),
    "instance_norm": (lambda: InstanceNormalization(), 5, _same),
    "residual_valid_batch": (lambda: ResidualBlock(8, padding="valid", normalization="batch"), 8,
                             lambda h, w, c: (_none_add(h, -4), _none_add(w, -4), c)),
    "residual_valid_instance": (lambda: ResidualBlock(8, padding="valid",
                                                      normalization="instance"), 8,
                                lambda h, w, c: (_none_add(h, -4), _none_add(w, -4), c)),
    "residual_reflect_batch": (lambda: ResidualBlock(8, padding="reflect",
                                                     normalization="batch"), 8, _same),
    "residual_reflect_instance": (lambda: ResidualBlock(8, padding="reflect",
                                                        normalization="instance"), 8, _same),
    "upsample_conv": (lambda: UpsampleConv2D(6, 3, upsample=2, activation="relu"), 4,
                      lambda h, w, c: (_none_mul(h, 2), _none_mul(w, 2), 6)),
    "gram_hw": (lambda: GramMatrix("hw"), 5, None),
    "scaled_tanh": (lambda: ScaledTanh(), 3, _same),
    "linear_pixels": (lambda: LinearPixels(), 3, _same),
    "resize_by": (lambda: ResizeBy(3), 3,
                  lambda h, w, c: (_none_mul(h, 3), _none_mul(w, 3), c)),
    "halves_conv": (lambda: HalvesConv2D(3, 5), 6,
                    lambda h, w, c: (_none_add(h, -4), _none_add(w, -4), 3)),
    "pad_to_multiple": (lambda: PadToMultiple(4), 3, lambda h, w, c: (_up4(h), _up4(w), c)),
}


def build_single(key, hw):
    factory, channels, _ = SINGLE_INPUT[key]
    inputs = keras.Input(shape=(*hw, channels))
    layer = factory()
    outputs = layer(inputs)
    return keras.Model(inputs, outputs), layer, channels


def expected_shape(key, hw):
    _, channels, fn = SINGLE_INPUT[key]
    if fn is None:  # GramMatrix
        return (None, channels, channels)
    return (None, *fn(hw[0], hw[1], channels))


@pytest.mark.parametrize("key", sorted(SINGLE_INPUT))
@pytest.mark.parametrize("hw", [(None, None), (34, 37)], ids=["unknown", "known"])
def test_symbolic_output_shape(key, hw):
    model, _, _ = build_single(key, hw)
    assert tuple(model.output.shape) == expected_shape(key, hw)


@pytest.mark.parametrize("key", sorted(SINGLE_INPUT))
def test_runtime_shape_matches_declared(key):
    """Run the unknown-size model on a concrete odd-sized batch; the result has the shape
    compute_output_shape promises for that size."""
    model, _, channels = build_single(key, (None, None))
    x = rand(2, 34, 37, channels)
    y = np.asarray(model(x))
    exp = expected_shape(key, (34, 37))
    assert y.shape == (2, *exp[1:])
    assert np.all(np.isfinite(y))


def test_crop_like_shapes():
    for hw_x, hw_ref in [((None, None), (None, None)), ((40, 44), (37, 41))]:
        x_in = keras.Input(shape=(*hw_x, 5))
        ref_in = keras.Input(shape=(*hw_ref, 3))
        out = CropLike()([x_in, ref_in])
        assert tuple(out.shape) == (None, hw_ref[0], hw_ref[1], 5)
    model = keras.Model([x_in, ref_in], out)
    x = rand(2, 40, 44, 5)
    y = np.asarray(model([x, rand(2, 37, 41, 3)]))
    np.testing.assert_array_equal(y, x[:, :37, :41, :])  # top-left anchored


# --- ReflectionPadding2D ------------------------------------------------------------

@pytest.mark.parametrize("padding", [1, (2, 3), (4, 1)])
def test_reflection_padding_matches_numpy(padding):
    x = rand(2, 9, 11, 3)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    y = np.asarray(ReflectionPadding2D(padding)(x))
    ref = np.pad(x, [(0, 0), (ph, ph), (pw, pw), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(y, ref)
    # mirrored without repeating the edge pixel
    np.testing.assert_array_equal(y[:, ph - 1, pw:-pw], x[:, 1])


def test_reflection_padding_rejects_bad_padding():
    with pytest.raises(ValueError):
        ReflectionPadding2D((1, 2, 3))


# --- InstanceNormalization ----------------------------------------------------------

def instance_norm_ref(x, gamma, beta, eps=1e-5):
    x = x.astype(np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_instance_norm_default_is_standardized():
    # channels with very different offsets and scales, per image
    x = rand(3, 16, 20, 4) * np.array([1, 10, 2, 100], "float32") + np.array(
        [5, -3, 0, 50], "float32")
    y = np.asarray(InstanceNormalization()(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)
    np.testing.assert_allclose(y, instance_norm_ref(x, 1.0, 0.0), rtol=1e-4, atol=1e-4)


def test_instance_norm_matches_numpy_with_gamma_beta():
    x = rand(2, 12, 10, 3, low=-2, high=3)
    layer = InstanceNormalization(epsilon=1e-3)
    layer.build(x.shape)
    gamma = np.array([0.5, 2.0, -1.0], "float32")
    beta = np.array([0.1, -0.2, 3.0], "float32")
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y, instance_norm_ref(x, gamma, beta, eps=1e-3),
                               rtol=1e-4, atol=1e-4)


def test_instance_norm_is_per_image_not_per_batch():
    a = rand(1, 8, 8, 2)
    b = rand(1, 8, 8, 2) * 50 + 7
    layer = InstanceNormalization()
    alone = np.asarray(layer(a))
    together = np.asarray(layer(np.concatenate([a, b])))
    np.testing.assert_allclose(together[:1], alone, atol=1e-5)


def test_instance_norm_center_scale_flags():
    layer = InstanceNormalization(center=False, scale=False)
    layer.build((None, None, None, 3))
    assert layer.weights == []
    layer = InstanceNormalization()
    layer.build((None, None, None, 3))
    assert len(layer.weights) == 2


def test_make_normalization_rejects_unknown():
    assert isinstance(make_normalization("batch"), keras.layers.BatchNormalization)
    assert isinstance(make_normalization("instance"), InstanceNormalization)
    with pytest.raises(ValueError):
        make_normalization("layer")


# --- ResidualBlock ------------------------------------------------------------------

@pytest.mark.parametrize("normalization", ["batch", "instance"])
@pytest.mark.parametrize("training", [False, True])
def test_residual_valid_shortcut_is_centre_crop(normalization, training):
    """With the second normalization's gamma = beta = 0 the residual branch is exactly
    zero (whatever the convolutions compute), so the output is exactly the shortcut."""
    block = ResidualBlock(4, padding="valid", normalization=normalization)
    x = rand(2, 15, 18, 4)
    block(x)  # build
    randomize_weights(block, seed=3)
    block.norm2.gamma.assign(np.zeros(4, "float32"))
    block.norm2.beta.assign(np.zeros(4, "float32"))
    y = np.asarray(block(x, training=training))
    assert y.shape == (2, 11, 14, 4)  # shaves 4 px
    np.testing.assert_array_equal(y, x[:, 2:-2, 2:-2, :])


@pytest.mark.parametrize("normalization", ["batch", "instance"])
def test_residual_zero_convolutions_give_identity(normalization):
    """Zero kernels and biases: the branch sees zeros, both normalizations map 0 to 0
    (BN at inference with fresh statistics, IN with zero variance), output = crop."""
    block = ResidualBlock(4, padding="valid", normalization=normalization)
    x = rand(1, 12, 12, 4)
    block(x)
    for conv in (block.conv1, block.conv2):
        conv.kernel.assign(np.zeros(conv.kernel.shape, "float32"))
        conv.bias.assign(np.zeros(conv.bias.shape, "float32"))
    np.testing.assert_array_equal(np.asarray(block(x)), x[:, 2:-2, 2:-2, :])


@pytest.mark.parametrize("padding", ["valid", "reflect"])
def test_residual_matches_manual_composition(padding):
    block = ResidualBlock(3, padding=padding, normalization="instance")
    x = rand(2, 13, 11, 3)
    block(x)
    randomize_weights(block, seed=5)
    y = np.asarray(block(x))

    def pad(t):
        if padding == "reflect":
            return np.pad(t, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
        return t

    h = np.asarray(block.conv1(pad(x)))
    h = np.maximum(np.asarray(block.norm1(h)), 0.0)
    h = np.asarray(block.norm2(np.asarray(block.conv2(pad(h)))))
    shortcut = x if padding == "reflect" else x[:, 2:-2, 2:-2, :]
    np.testing.assert_allclose(y, h + shortcut, rtol=1e-5, atol=1e-5)
    # and the residual branch is not trivially zero here
    assert np.abs(y - shortcut).max() > 1e-3


def test_residual_block_rejects_bad_arguments():
    with pytest.raises(ValueError):
        ResidualBlock(8, padding="same")
    with pytest.raises(ValueError):
        ResidualBlock(8, normalization="group")
    with pytest.raises(ValueError):
        ResidualBlock(8)(keras.Input(shape=(None, None, 4)))


# --- UpsampleConv2D -----------------------------------------------------------------

def test_upsample_conv_doubles_size_and_keeps_constants_constant():
    layer = UpsampleConv2D(5, kernel_size=3, upsample=2)
    x = np.full((2, 7, 9, 3), 0.37, "float32")
    x[1] = -1.25
    y = np.asarray(layer(x))
    assert y.shape == (2, 14, 18, 5)
    # a constant image stays constant per channel: no checkerboard, no border effect
    per_channel = y.reshape(2, -1, 5)
    spread = per_channel.max(axis=1) - per_channel.min(axis=1)
    assert spread.max() < 1e-5
    # and it is the conv of the constant: sum of kernel taps times the value plus bias
    k = layer.conv.kernel.numpy()
    b = layer.conv.bias.numpy()
    expected = 0.37 * k.sum(axis=(0, 1, 2)) + b
    np.testing.assert_allclose(y[0, 0, 0], expected, rtol=1e-5, atol=1e-6)


def test_upsample_conv_is_nearest_upsample_then_conv():
    layer = UpsampleConv2D(2, kernel_size=3, upsample=2)
    x = rand(1, 5, 6, 3)
    y = np.asarray(layer(x))
    up = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    ref = np.asarray(layer.conv(np.pad(up, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_upsample_conv_bilinear_is_bilinear_resize_then_conv():
    layer = UpsampleConv2D(2, kernel_size=3, upsample=2, interpolation="bilinear")
    x = rand(1, 5, 6, 3)
    y = np.asarray(layer(x))
    assert y.shape == (1, 10, 12, 2)
    # half-pixel centres: output pixel 1 of a doubled row is 3/4 of input 0 and 1/4 of input 1
    up = np.asarray(tf.image.resize(x, (10, 12), method="bilinear"))
    np.testing.assert_allclose(up[0, 1, 1], 0.75 * (0.75 * x[0, 0, 0] + 0.25 * x[0, 0, 1])
                               + 0.25 * (0.75 * x[0, 1, 0] + 0.25 * x[0, 1, 1]), rtol=1e-5)
    ref = np.asarray(layer.conv(np.pad(up, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    # inside a graph whose shapes are unknown until it runs (as networks are applied)
    graph = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_allclose(np.asarray(graph(x)), y, rtol=1e-5, atol=1e-6)
    # no blocks: unlike nearest-neighbour, the enlarged map is not constant on 2x2 blocks
    nearest = UpsampleConv2D(2, kernel_size=3, upsample=2)
    assert not np.allclose(up[0, 0::2, 0::2], up[0, 1::2, 1::2])
    clone = UpsampleConv2D.from_config(layer.get_config())
    assert clone.interpolation == "bilinear" and nearest.interpolation == "nearest"
    with pytest.raises(ValueError, match="interpolation"):
        UpsampleConv2D(2, interpolation="bicubic")


# --- GramMatrix ---------------------------------------------------------------------

@pytest.mark.parametrize("normalization", ["hw", "chw", "none"])
def test_gram_matrix_matches_einsum(normalization):
    f = rand(2, 6, 7, 5)
    raw = np.einsum("bijc,bijd->bcd", f.astype(np.float64), f.astype(np.float64))
    norm = {"hw": 6 * 7, "chw": 5 * 6 * 7, "none": 1}[normalization]
    ref = raw / norm
    layer_out = np.asarray(GramMatrix(normalization)(f))
    fn_out = np.asarray(gram_matrix(f, normalization))
    assert layer_out.shape == (2, 5, 5)
    assert layer_out.dtype == np.float32
    np.testing.assert_allclose(layer_out, ref, rtol=1e-5)
    np.testing.assert_allclose(fn_out, ref, rtol=1e-5)
    np.testing.assert_allclose(layer_out, np.swapaxes(layer_out, 1, 2), rtol=1e-6)


def test_gram_matrix_rejects_unknown_normalization():
    with pytest.raises(ValueError):
        GramMatrix("bchw")


# --- ScaledTanh, PadToMultiple ------------------------------------------------------

def test_scaled_tanh_range_and_values():
    x = np.array([[-100.0, -1.0, 0.0, 1.0, 100.0]], "float32")
    y = np.asarray(ScaledTanh()(x))
    np.testing.assert_allclose(y, (np.tanh(x) + 1) / 2, rtol=1e-6, atol=1e-7)
    assert y.min() >= 0.0 and y.max() <= 1.0
    assert y[0, 2] == pytest.approx(0.5)


@pytest.mark.parametrize("b,h,w,k,s", [(1, 20, 17, 9, 1), (2, 21, 30, 9, 1), (1, 9, 12, 9, 1),
                                       (3, 10, 9, 5, 1), (1, 8, 8, 1, 1), (1, 34, 20, 3, 2),
                                       (1, 33, 20, 3, 2), (2, 13, 9, 3, 2), (1, 3, 5, 3, 2),
                                       (1, 40, 17, 5, 3)])
def test_halves_conv_equals_conv2d(b, h, w, k, s):
    """Same weights, same output as keras Conv2D, for even and odd output heights and for
    strided convolutions."""
    import tensorflow as tf
    x = rand(b, h, w, 6)
    plain = keras.layers.Conv2D(3, k, strides=s)
    plain.build(x.shape)
    halves = HalvesConv2D(3, k, strides=s)
    halves.build(x.shape)
    halves.set_weights(plain.get_weights())
    ref = plain(x).numpy()
    np.testing.assert_allclose(np.asarray(halves(x)), ref, atol=1e-5)
    traced = tf.function(halves.__call__, input_signature=[tf.TensorSpec((None, None, None, 6))])
    np.testing.assert_allclose(traced(x).numpy(), ref, atol=1e-5)


def test_resize_by_is_bicubic_and_traces_for_any_size():
    import tensorflow as tf
    x = rand(2, 7, 9, 3)
    ref = tf.image.resize(x, (28, 36), method="bicubic").numpy()
    np.testing.assert_allclose(np.asarray(ResizeBy(4)(x)), ref, atol=1e-6)
    traced = tf.function(ResizeBy(4).__call__,
                         input_signature=[tf.TensorSpec((None, None, None, 3))])
    np.testing.assert_allclose(traced(x).numpy(), ref, atol=1e-6)


def test_halves_conv_falls_back_for_padding_and_strides():
    x = rand(2, 11, 13, 4)
    for kwargs in ({"padding": "same"}, {"strides": (2, 1)}, {"dilation_rate": 2}):
        plain = keras.layers.Conv2D(3, 3, **kwargs)
        plain.build(x.shape)
        halves = HalvesConv2D(3, 3, **kwargs)
        halves.build(x.shape)
        halves.set_weights(plain.get_weights())
        np.testing.assert_allclose(np.asarray(halves(x)), plain(x).numpy(), atol=1e-5)


def test_linear_pixels_clips_only_at_inference():
    x = np.array([[-3.0, -1.0, 0.0, 1.0, 3.0]], "float32")
    layer = LinearPixels()
    np.testing.assert_allclose(np.asarray(layer(x, training=True)), (x + 1) / 2)
    np.testing.assert_allclose(np.asarray(layer(x)), np.clip((x + 1) / 2, 0, 1))
    # The point of the layer: far below black, the training gradient is still 1/2.
    import tensorflow as tf
    v = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(v, training=True))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), np.full_like(x, 0.5))


@pytest.mark.parametrize("hw", [(8, 12), (9, 13), (10, 15)])
def test_pad_to_multiple_reflects_bottom_right(hw):
    x = rand(1, *hw, 2)
    y = np.asarray(PadToMultiple(4)(x))
    ph, pw = (-hw[0]) % 4, (-hw[1]) % 4
    ref = np.pad(x, [(0, 0), (0, ph), (0, pw), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(y, ref)


# --- serialization ------------------------------------------------------------------

def _roundtrip(model, inputs, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode default
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(model(inputs)),
                               rtol=1e-6, atol=1e-6)
    return loaded


@pytest.mark.parametrize("key", sorted(SINGLE_INPUT) + ["gram_chw", "gram_none"])
def test_layer_roundtrips_through_keras_file(key, tmp_path):
    if key.startswith("gram_") and key != "gram_hw":
        norm = key.split("_")[1]
        inputs = keras.Input(shape=(None, None, 5))
        layer = GramMatrix(norm)
        model = keras.Model(inputs, layer(inputs))
        channels = 5
    else:
        model, layer, channels = build_single(key, (None, None))
    randomize_weights(model, seed=11)
    x = rand(2, 14, 17, channels)
    loaded = _roundtrip(model, x, tmp_path)
    loaded_layer = loaded.get_layer(layer.name)
    assert type(loaded_layer) is type(layer)
    assert loaded_layer.get_config() == layer.get_config()
    assert len(loaded_layer.weights) == len(layer.weights)
    for a, b in zip(layer.weights, loaded_layer.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_crop_like_roundtrips_through_keras_file(tmp_path):
    x_in = keras.Input(shape=(None, None, 4))
    ref_in = keras.Input(shape=(None, None, 3))
    layer = CropLike()
    model = keras.Model([x_in, ref_in], layer([x_in, ref_in]))
    inputs = [rand(1, 20, 21, 4), rand(1, 17, 19, 3)]
    loaded = _roundtrip(model, inputs, tmp_path)
    assert loaded.get_layer(layer.name).get_config() == layer.get_config()


@pytest.mark.parametrize("layer", [
    ReflectionPadding2D((2, 5)), InstanceNormalization(epsilon=1e-3, center=False),
    ResidualBlock(16, kernel_size=5, padding="reflect", normalization="instance"),
    UpsampleConv2D(7, kernel_size=5, upsample=3, activation="tanh"), GramMatrix("chw"),
    ScaledTanh(), LinearPixels(), PadToMultiple(8), CropLike()], ids=lambda l: type(l).__name__)
def test_get_config_from_config_equality(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    # serialize/deserialize through the registry too (what .keras files use)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == config


# --- even kernel sizes ----------------------------------------------------------------

@pytest.mark.parametrize("make, channels, expected", [
    (lambda: UpsampleConv2D(2, kernel_size=4, upsample=2), 3, (1, 10, 12, 2)),
    (lambda: ResidualBlock(3, kernel_size=4, padding="reflect", normalization="instance"), 3,
     (1, 5, 6, 3)),
], ids=["upsample_conv_k4", "residual_reflect_k4"])
def test_even_kernel_size_rejected_or_size_contract_kept(make, channels, expected):
    """Both layers promise a size (``upsample`` x the input; the input's size for
    ``padding="reflect"``). A kernel size the symmetric ``kernel_size // 2`` reflection
    cannot honour must be refused up front, or the promise kept: never a silently
    different shape or a TensorFlow error deep inside ``call``."""
    try:
        layer = make()
    except ValueError:
        return  # rejected up front: acceptable
    x = rand(1, 5, 6, channels)
    assert tuple(layer.compute_output_shape(x.shape)) == expected
    assert tuple(np.asarray(layer(x)).shape) == expected


def test_valid_residual_block_with_1x1_kernels_keeps_its_shortcut():
    """kernel_size=1 shaves nothing; the shortcut must not be cropped to nothing
    (``inputs[:, 0:-0]`` was empty)."""
    block = ResidualBlock(4, kernel_size=1, padding="valid", normalization="none")
    x = np.random.default_rng(0).normal(size=(1, 5, 6, 4)).astype("float32")
    out = np.asarray(block(x))
    assert out.shape == x.shape
    branch = np.asarray(block.norm2(block.conv2(ops_relu(block.norm1(block.conv1(x))))))
    np.testing.assert_allclose(out, branch + x, atol=1e-5)


def ops_relu(x):
    return np.maximum(np.asarray(x), 0)
