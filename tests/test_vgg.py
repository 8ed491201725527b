"""Tests for keras_style.vgg (the loss network) and keras_style.vgg_weights."""

import os

import keras
import numpy as np
import pytest

from keras_style import vgg_weights
from keras_style.vgg import (IMAGENET_BGR_MEAN, LAYER_NAMES, VGGPreprocess, canonical_layer_name,
                             loss_network)
from keras_style.vgg_weights import WeightsError, ensure_vgg19_weights, verify


def count(model, cls):
    return sum(isinstance(layer, cls) for layer in model.layers)


# --- layer names --------------------------------------------------------------------

@pytest.mark.parametrize("alias, canonical", [
    ("conv4_2", "block4_conv2"), ("relu4_2", "block4_conv2"), ("conv1_1", "block1_conv1"),
    ("relu5_4", "block5_conv4"), ("pool3", "block3_pool"), ("pool5", "block5_pool"),
    ("block1_conv1", "block1_conv1"), ("block5_pool", "block5_pool")])
def test_canonical_layer_name_aliases(alias, canonical):
    assert canonical_layer_name(alias) == canonical


@pytest.mark.parametrize("bad", ["conv1_3", "conv6_1", "pool6", "relu2_3", "block6_conv1",
                                 "fc1", "", "Conv4_2", "conv4_2 "])
def test_canonical_layer_name_unknown_raises(bad):
    with pytest.raises(ValueError):
        canonical_layer_name(bad)


def test_layer_names_are_vgg19():
    assert len(LAYER_NAMES) == 16 + 5
    assert LAYER_NAMES[0] == "block1_conv1" and LAYER_NAMES[-1] == "block5_pool"


# --- structure (random weights) ------------------------------------------------------

@pytest.mark.parametrize("layers, convs, pools", [
    (["block1_conv1"], 1, 0), (["block2_conv1"], 3, 1), (["conv1_1", "pool3"], 8, 3),
    (["relu4_2", "block1_conv2"], 10, 3), (["block5_conv4"], 16, 4)])
def test_loss_network_truncates_at_deepest_layer(layers, convs, pools):
    model = loss_network(layers, weights=None)
    assert count(model, keras.layers.Conv2D) == convs
    assert count(model, keras.layers.MaxPooling2D) == pools
    assert set(model.output) == set(layers)  # keyed by the names as given


def test_loss_network_outputs_dict_of_float32_with_expected_shapes():
    model = loss_network(["conv1_1", "block2_conv2", "pool2"], weights=None)
    out = model(np.random.default_rng(0).uniform(size=(2, 40, 36, 3)).astype("float32"))
    assert out["conv1_1"].shape == (2, 40, 36, 64)
    assert out["block2_conv2"].shape == (2, 20, 18, 128)
    assert out["pool2"].shape == (2, 10, 9, 128)
    assert all(keras.backend.standardize_dtype(v.dtype) == "float32" for v in out.values())


def test_loss_network_average_pooling_variant():
    avg = loss_network(["block3_conv1"], pooling="avg", weights=None)
    mx = loss_network(["block3_conv1"], pooling="max", weights=None)
    assert count(avg, keras.layers.AveragePooling2D) == 2
    assert count(avg, keras.layers.MaxPooling2D) == 0
    assert count(mx, keras.layers.MaxPooling2D) == 2
    assert [w.shape for w in avg.weights] == [w.shape for w in mx.weights]
    # with the same weights, the pooling is the only difference
    avg.set_weights(mx.get_weights())
    x = np.random.default_rng(1).uniform(size=(1, 32, 32, 3)).astype("float32")
    a, m = np.asarray(avg(x)["block3_conv1"]), np.asarray(mx(x)["block3_conv1"])
    assert a.shape == m.shape
    assert not np.allclose(a, m)


def test_loss_network_is_frozen():
    model = loss_network(["block2_conv2"], weights=None)
    assert not model.trainable
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 8  # 4 convs x (kernel, bias)


@pytest.mark.parametrize("kwargs", [dict(layers=[]), dict(layers=["conv9_9"]),
                                    dict(layers=["conv1_1"], pooling="median")])
def test_loss_network_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        loss_network(weights=None, **kwargs)


def test_preprocess_is_caffe_arithmetic_and_leaves_numpy_input_alone():
    x = np.random.default_rng(2).uniform(size=(1, 4, 5, 3)).astype("float32")
    before = x.copy()
    y = np.asarray(VGGPreprocess()(x))
    ref = x[..., ::-1] * 255.0 - np.array(IMAGENET_BGR_MEAN, "float32")
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(x, before)


# --- weights verification (no network, small files) ---------------------------------

def test_verify_rejects_random_and_truncated_files(tmp_path):
    random_file = tmp_path / "random.h5"
    random_file.write_bytes(np.random.default_rng(0).bytes(4096))
    assert not verify(random_file)
    truncated = tmp_path / "truncated.h5"
    real = vgg_weights.keras_cache_dir() / vgg_weights.FILENAME
    if real.is_file():
        with open(real, "rb") as src:
            truncated.write_bytes(src.read(1 << 20))
    else:
        truncated.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(1000))
    assert not verify(truncated)
    assert not verify(tmp_path / "missing.h5")
    assert not verify(tmp_path)  # a directory


def test_verify_checks_md5_not_only_size(tmp_path):
    same_size = tmp_path / vgg_weights.FILENAME
    with open(same_size, "wb") as fh:
        fh.truncate(vgg_weights.SIZE)  # sparse file of zeros, right size, wrong content
    assert same_size.stat().st_size == vgg_weights.SIZE
    assert not verify(same_size)


def test_keras_cache_dir_reads_env_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert vgg_weights.keras_cache_dir() == tmp_path / "kh" / "models"


def test_ensure_weights_offline_empty_cache_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(WeightsError):
        ensure_vgg19_weights(quiet=True, allow_download=False)
    assert not (tmp_path / "models" / vgg_weights.FILENAME).exists()


def test_ensure_weights_offline_damaged_file_raises(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    damaged = tmp_path / "models" / vgg_weights.FILENAME
    damaged.parent.mkdir()
    damaged.write_bytes(b"not really an HDF5 file" * 100)
    with pytest.raises(WeightsError, match="damaged"):
        ensure_vgg19_weights(allow_download=False)
    # the damaged file is left for the user to see; nothing half-written beside it
    assert sorted(p.name for p in damaged.parent.iterdir()) == [vgg_weights.FILENAME]


# --- real ImageNet weights ----------------------------------------------------------

@pytest.fixture(scope="module")
def weights_path():
    return ensure_vgg19_weights(quiet=True)


@pytest.mark.vgg
def test_verify_accepts_real_weights_and_ensure_uses_cache(weights_path, tmp_path, monkeypatch):
    assert verify(weights_path)
    # a verified file already in KERAS_HOME is used as is, offline
    models = tmp_path / "models"
    models.mkdir()
    os.symlink(weights_path, models / vgg_weights.FILENAME)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert ensure_vgg19_weights(quiet=True, allow_download=False) == models / vgg_weights.FILENAME


LAYERS_TO_COMPARE = ["block1_conv1", "block2_pool", "block3_conv2", "block4_conv2",
                     "block5_conv1"]


@pytest.mark.vgg
def test_loss_network_matches_keras_vgg19(weights_path):
    """Same activations as keras.applications.VGG19 fed preprocess_input(x * 255)."""
    x = np.random.default_rng(3).uniform(size=(1, 48, 48, 3)).astype("float32")
    x_before = x.copy()
    ours_model = loss_network(LAYERS_TO_COMPARE)  # weights="imagenet"
    ours = {k: np.asarray(v) for k, v in ours_model(x).items()}
    # the loss network must not modify its NumPy input in place (preprocess_input would)
    np.testing.assert_array_equal(x, x_before)
    ours_predict = ours_model.predict(x, verbose=0)
    np.testing.assert_array_equal(x, x_before)

    # Keras's own "imagenet" file (the same verified bytes, read from the local cache)
    reference = keras.applications.VGG19(include_top=False, weights=str(weights_path),
                                         input_shape=(48, 48, 3))
    probe = keras.Model(reference.input,
                        [reference.get_layer(n).output for n in LAYERS_TO_COMPARE])
    ref_in = keras.applications.vgg19.preprocess_input(x.copy() * 255.0)
    refs = probe(ref_in)
    for name, ref in zip(LAYERS_TO_COMPARE, refs):
        ref = np.asarray(ref)
        assert ours[name].shape == ref.shape
        scale = float(np.abs(ref).max())
        assert scale > 0
        np.testing.assert_allclose(ours[name], ref, rtol=1e-4, atol=1e-4 * scale, err_msg=name)
        np.testing.assert_allclose(ours_predict[name], ref, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.vgg
def test_avg_and_max_variants_share_imagenet_weights(weights_path):
    mx = loss_network(["block2_conv2"], pooling="max")
    avg = loss_network(["block2_conv2"], pooling="avg")
    assert count(avg, keras.layers.AveragePooling2D) == 1
    mw, aw = mx.get_weights(), avg.get_weights()
    assert len(mw) == len(aw) == 8
    for a, b in zip(mw, aw):
        np.testing.assert_array_equal(a, b)
    # and they are the real weights, not a fresh random initialization
    fresh = loss_network(["block2_conv2"], weights=None).get_weights()
    assert not np.allclose(mw[0], fresh[0])


@pytest.mark.vgg
def test_loss_network_from_weights_path_and_bad_path(weights_path, tmp_path):
    by_path = loss_network(["block1_conv2"], weights=str(weights_path))
    by_name = loss_network(["block1_conv2"])
    for a, b in zip(by_path.get_weights(), by_name.get_weights()):
        np.testing.assert_array_equal(a, b)
    bogus = tmp_path / "bogus.h5"
    bogus.write_bytes(b"garbage" * 64)
    with pytest.raises(WeightsError):
        loss_network(["block1_conv1"], weights=str(bogus))
