"""Tests for keras_style.losses against NumPy references, with a weightless VGG."""

import numpy as np
import pytest

from keras_style.layers import gram_matrix
from keras_style.losses import (PRESETS, LossConfig, PerceptualLoss, content_loss,
                                equal_weights, get_preset, laplacian_map, style_loss,
                                tiled_style_loss, total_variation_loss)
from keras_style.vgg import loss_network

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.uniform(0.0, 1.0, size=shape).astype("float32")


def scalar(t):
    value = np.asarray(t)
    assert value.shape == ()
    return float(value)


# --- the three losses against NumPy ------------------------------------------------

def test_content_loss_mean_matches_numpy():
    f, p = rand(2, 5, 6, 7), rand(2, 5, 6, 7)
    ref = np.mean((f.astype(np.float64) - p) ** 2)
    assert scalar(content_loss(f, p, "mean")) == pytest.approx(ref, rel=1e-5)


def test_content_loss_gatys_is_half_sum_squared_per_image():
    f, p = rand(3, 4, 5, 6), rand(3, 4, 5, 6)
    per_image = 0.5 * ((f.astype(np.float64) - p) ** 2).sum(axis=(1, 2, 3))
    assert scalar(content_loss(f, p, "gatys")) == pytest.approx(per_image.mean(), rel=1e-5)
    # single image: exactly the paper's 1/2 * sum (F - P)^2
    assert scalar(content_loss(f[:1], p[:1], "gatys")) == pytest.approx(per_image[0], rel=1e-5)


@pytest.mark.parametrize("normalization", ["hw", "chw", "none"])
def test_style_loss_mean_matches_numpy(normalization):
    f, a = rand(1, 6, 5, 4), rand(1, 6, 5, 4)
    g, t = gram_matrix(f, normalization), gram_matrix(a, normalization)
    norm = {"hw": 30.0, "chw": 120.0, "none": 1.0}[normalization]
    gf = np.einsum("bijc,bijd->bcd", f.astype(np.float64), f) / norm
    ga = np.einsum("bijc,bijd->bcd", a.astype(np.float64), a) / norm
    assert scalar(style_loss(g, t, "mean")) == pytest.approx(np.mean((gf - ga) ** 2), rel=1e-5)


def test_style_loss_gatys_equals_paper_formula():
    """E_l = sum((G - A)^2) / (4 N^2 M^2) with raw Gram matrices (Gatys et al. eq. 4),
    given Gram matrices normalized by M = H*W as the gatys2016 preset uses."""
    h, w, n = 7, 6, 5
    f, a = rand(1, h, w, n), rand(1, h, w, n)
    raw_g = np.einsum("bijc,bijd->bcd", f.astype(np.float64), f)[0]
    raw_a = np.einsum("bijc,bijd->bcd", a.astype(np.float64), a)[0]
    m = h * w
    paper = ((raw_g - raw_a) ** 2).sum() / (4.0 * n ** 2 * m ** 2)
    ours = scalar(style_loss(gram_matrix(f, "hw"), gram_matrix(a, "hw"), "gatys"))
    assert ours == pytest.approx(paper, rel=1e-5)
    # and it is a quarter of the "mean" reduction
    mean = scalar(style_loss(gram_matrix(f, "hw"), gram_matrix(a, "hw"), "mean"))
    assert ours == pytest.approx(mean / 4, rel=1e-6)


def test_total_variation_matches_numpy():
    x = rand(2, 9, 8, 3).astype(np.float64)
    per_image = (np.abs(np.diff(x, axis=1)).sum(axis=(1, 2, 3))
                 + np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3)))
    assert scalar(total_variation_loss(x.astype("float32"))) == pytest.approx(
        per_image.mean(), rel=1e-5)


def test_total_variation_of_constant_is_zero_and_of_stripes_is_known():
    assert scalar(total_variation_loss(np.full((1, 8, 8, 3), 0.4, "float32"))) == 0.0
    stripes = np.zeros((1, 4, 6, 1), "float32")
    stripes[:, :, 1::2] = 1.0  # 5 unit jumps per row, 4 rows, none vertically
    assert scalar(total_variation_loss(stripes)) == pytest.approx(20.0)


@pytest.mark.parametrize("fn", [content_loss, style_loss])
def test_unknown_reduction_raises(fn):
    x = rand(1, 3, 3, 2)
    with pytest.raises(ValueError):
        fn(x, x, "sum")


# --- LossConfig ------------------------------------------------------------------------

def test_loss_config_validation_and_layers():
    with pytest.raises(ValueError):
        LossConfig(reduction="median")
    with pytest.raises(ValueError):
        LossConfig(style_weight=-1.0)
    with pytest.raises(ValueError):
        LossConfig(content_layers={}, style_layers={})
    cfg = LossConfig(content_layers={"block2_conv1": 1.0},
                     style_layers={"block1_conv1": 0.5, "block2_conv1": 0.5})
    assert cfg.layers == ["block2_conv1", "block1_conv1"]  # de-duplicated, ordered
    changed = cfg.replace(style_weight=5.0, tv_weight=None)
    assert changed.style_weight == 5.0 and changed.tv_weight == cfg.tv_weight
    assert equal_weights(["a", "b", "c", "d"]) == {k: 0.25 for k in "abcd"}


# --- tiled (local) style loss ---------------------------------------------------------

def test_one_tile_is_the_global_style_loss():
    feats, target = rand(2, 9, 11, 4), rand(1, 4, 4)
    tiled = scalar(tiled_style_loss(feats, target, 1, "chw"))
    assert tiled == scalar(style_loss(gram_matrix(feats, "chw"), target))


def test_tiles_see_the_blob_that_the_global_gram_matrix_misses():
    # the painting: channel 0 on a checkerboard, channel 1 on the other squares
    yy, xx = np.mgrid[:8, :8]
    checker = ((yy + xx) % 2).astype("float32")
    painting = np.stack([checker, 1 - checker], -1)[None]
    # the loophole: the same two "colours" in the same amounts, as one blob on the left
    blob = np.zeros_like(painting)
    blob[0, :, :4, 0], blob[0, :, 4:, 1] = 1.0, 1.0
    target = gram_matrix(painting)
    assert scalar(tiled_style_loss(blob, target, 1)) == pytest.approx(0.0, abs=1e-12)
    assert scalar(tiled_style_loss(blob, target, 2)) > 0.01
    assert scalar(tiled_style_loss(painting, target, 2)) == pytest.approx(0.0, abs=1e-12)


def test_tiles_cover_a_map_whose_size_they_do_not_divide():
    # 7 x 5 in 3 x 3 tiles of unequal sizes: a uniform map gives every tile the global Gram
    # matrix, and a map that is only non-zero in its last row and column is still seen
    uniform = np.full((1, 7, 5, 2), 0.5, "float32")
    target = rand(1, 2, 2)
    assert scalar(tiled_style_loss(uniform, target, 3)) == pytest.approx(
        scalar(style_loss(gram_matrix(uniform), target)), rel=1e-6)
    corner = np.zeros((1, 7, 5, 2), "float32")
    corner[0, -1, -1] = 1.0
    zero_target = np.zeros((1, 2, 2), "float32")
    assert scalar(tiled_style_loss(corner, zero_target, 3)) > 0
    # more tiles than rows (a deep layer of a small image): tiles share rows, none is empty
    thin = rand(1, 2, 5, 2)
    assert np.isfinite(scalar(tiled_style_loss(thin, target, 4)))
    assert scalar(tiled_style_loss(np.full((1, 1, 1, 2), 0.5, "float32"), target, 3)) == \
        pytest.approx(scalar(style_loss(gram_matrix(uniform), target)), rel=1e-6)


def test_perceptual_loss_with_style_tiles_matches_numpy():
    cfg = SMALL.replace(style_tiles=2)
    loss = PerceptualLoss(cfg, network=loss_network(cfg.layers, weights=None))
    style, generated = rand(1, 32, 40, 3), rand(1, 36, 36, 3)
    feats_g = {k: np.asarray(v, np.float64) for k, v in loss.network(generated).items()}
    feats_s = {k: np.asarray(v, np.float64) for k, v in loss.network(style).items()}
    s_ref = 0.0
    for name, w in cfg.style_layers.items():
        fs = feats_s[name]
        gs = np.einsum("bijc,bijd->bcd", fs, fs) / (fs.shape[1] * fs.shape[2])
        fg = feats_g[name]
        h, wd = fg.shape[1:3]
        for i in range(2):
            for j in range(2):
                t = fg[:, i * h // 2:(i + 1) * h // 2, j * wd // 2:(j + 1) * wd // 2]
                gt = np.einsum("bijc,bijd->bcd", t, t) / (t.shape[1] * t.shape[2])
                s_ref += w * np.mean((gt - gs) ** 2) / 4
    terms = loss(generated, loss.content_targets(generated), loss.style_targets(style))
    assert scalar(terms["style"]) == pytest.approx(cfg.style_weight * s_ref, rel=1e-4)
    with pytest.raises(ValueError, match="style_tiles"):
        LossConfig(style_tiles=0)


# --- PerceptualLoss with a weightless network ---------------------------------------

SMALL = LossConfig(content_layers={"block2_conv2": 1.0},
                   style_layers={"block1_conv1": 0.5, "block2_conv1": 0.5},
                   content_weight=2.0, style_weight=3.0, tv_weight=0.5)


@pytest.fixture(scope="module")
def small_loss():
    network = loss_network(SMALL.layers, weights=None)
    return PerceptualLoss(SMALL, network=network)


def test_perceptual_loss_terms_finite_and_add_up(small_loss):
    content, style, generated = rand(1, 40, 40, 3), rand(1, 48, 36, 3), rand(2, 40, 40, 3)
    content_targets = small_loss.content_targets(np.repeat(content, 2, axis=0))
    style_targets = small_loss.style_targets(style)
    terms = small_loss(generated, content_targets, style_targets)
    assert set(terms) == {"total", "content", "style", "tv"}
    values = {k: scalar(v) for k, v in terms.items()}
    assert all(np.isfinite(v) for v in values.values())
    assert values["content"] > 0 and values["style"] > 0 and values["tv"] > 0
    assert values["total"] == pytest.approx(values["content"] + values["style"] + values["tv"],
                                            rel=1e-6)
    # tv is the weighted NumPy total variation
    tv_ref = SMALL.tv_weight * scalar(total_variation_loss(generated))
    assert values["tv"] == pytest.approx(tv_ref, rel=1e-6)


def test_perceptual_loss_terms_match_manual_computation(small_loss):
    content, style, generated = rand(1, 32, 32, 3), rand(1, 32, 40, 3), rand(1, 32, 32, 3)
    net = small_loss.network
    feats_g = {k: np.asarray(v) for k, v in net(generated).items()}
    feats_c = {k: np.asarray(v) for k, v in net(content).items()}
    feats_s = {k: np.asarray(v) for k, v in net(style).items()}
    terms = small_loss(generated, small_loss.content_targets(content),
                       small_loss.style_targets(style))
    c_ref = SMALL.content_weight * np.mean(
        (feats_g["block2_conv2"].astype(np.float64) - feats_c["block2_conv2"]) ** 2)
    s_ref = 0.0
    for name, w in SMALL.style_layers.items():
        fg, fs = feats_g[name].astype(np.float64), feats_s[name].astype(np.float64)
        gg = np.einsum("bijc,bijd->bcd", fg, fg) / (fg.shape[1] * fg.shape[2])
        gs = np.einsum("bijc,bijd->bcd", fs, fs) / (fs.shape[1] * fs.shape[2])
        s_ref += w * np.mean((gg - gs) ** 2)
    s_ref *= SMALL.style_weight
    assert scalar(terms["content"]) == pytest.approx(c_ref, rel=1e-4)
    assert scalar(terms["style"]) == pytest.approx(s_ref, rel=1e-4)


def test_perceptual_loss_is_zero_for_matching_images(small_loss):
    image = rand(1, 40, 40, 3)
    terms = small_loss(image, small_loss.content_targets(image), small_loss.style_targets(image))
    assert scalar(terms["content"]) == 0.0
    assert scalar(terms["style"]) == pytest.approx(0.0, abs=1e-6 * SMALL.style_weight)
    # tv is a property of the image alone, not a mismatch
    assert scalar(terms["tv"]) > 0


def test_content_targets_accept_single_image(small_loss):
    image = rand(36, 36, 3)
    targets = small_loss.content_targets(image)
    assert list(targets) == ["block2_conv2"]
    assert tuple(targets["block2_conv2"].shape) == (1, 18, 18, 128)


def test_style_blend_one_zero_equals_single_style(small_loss):
    a, b = rand(40, 40, 3), rand(1, 32, 48, 3)  # sizes (and ranks) may differ
    single = small_loss.style_targets(a)
    blended = small_loss.style_targets([a, b], blend=[1, 0])
    assert set(blended) == set(SMALL.style_layers)
    for name in single:
        np.testing.assert_allclose(np.asarray(blended[name]), np.asarray(single[name]),
                                   rtol=1e-6, atol=1e-6)


def test_style_blend_is_normalized_weighted_sum(small_loss):
    a, b = rand(40, 40, 3), rand(40, 40, 3)
    ta, tb = small_loss.style_targets(a), small_loss.style_targets(b)
    blended = small_loss.style_targets([a, b], blend=[3, 1])
    for name in ta:
        ref = 0.75 * np.asarray(ta[name]) + 0.25 * np.asarray(tb[name])
        np.testing.assert_allclose(np.asarray(blended[name]), ref, rtol=1e-5)
        # the two styles differ, so the blend is informative
        assert not np.allclose(np.asarray(ta[name]), np.asarray(tb[name]))


@pytest.mark.parametrize("blend", [[1.0], [-1.0, 2.0], [0.0, 0.0]])
def test_style_blend_rejects_bad_weights(small_loss, blend):
    with pytest.raises(ValueError):
        small_loss.style_targets([rand(32, 32, 3), rand(32, 32, 3)], blend=blend)


def test_perceptual_loss_without_tv_weight(small_loss):
    cfg = SMALL.replace(tv_weight=0.0)
    loss = PerceptualLoss(cfg, network=small_loss.network)
    image = rand(1, 32, 32, 3)
    terms = loss(image, loss.content_targets(image), loss.style_targets(rand(32, 32, 3)))
    assert scalar(terms["tv"]) == 0.0
    assert scalar(terms["total"]) == pytest.approx(scalar(terms["style"]), rel=1e-6)


def test_laplacian_map_matches_numpy_and_ignores_what_pooling_averages():
    x = rand(2, 20, 24, 3)
    got = np.asarray(laplacian_map(x, pool=4))
    pooled = x.reshape(2, 5, 4, 6, 4, 3).mean(axis=(2, 4))
    ref = (pooled[:, :-2, 1:-1] + pooled[:, 2:, 1:-1] + pooled[:, 1:-1, :-2]
           + pooled[:, 1:-1, 2:] - 4 * pooled[:, 1:-1, 1:-1])
    assert got.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # a linear ramp has no Laplacian; a pattern finer than the pool leaves none either
    ramp = np.broadcast_to(np.linspace(0, 1, 24, dtype="float32")[None, None, :, None],
                           (1, 20, 24, 3))
    assert np.abs(np.asarray(laplacian_map(ramp, pool=1))).max() < 1e-5
    checker = (np.indices((20, 24)).sum(axis=0) % 2).astype("float32")[None, :, :, None]
    assert np.abs(np.asarray(laplacian_map(np.repeat(checker, 3, -1), pool=4))).max() < 1e-6
    # but moving an edge does change it
    step = np.zeros((1, 20, 24, 3), "float32")
    step[:, :, 12:] = 1
    moved = np.roll(step, 4, axis=2)
    assert np.abs(np.asarray(laplacian_map(step)) - np.asarray(laplacian_map(moved))).max() > 0.1


def test_laplacian_and_pixel_terms_are_weighted_mses_added_to_the_total(small_loss):
    cfg = SMALL.replace(laplacian_weight=7.0, pixel_weight=3.0)
    loss = PerceptualLoss(cfg, network=small_loss.network)
    photo, generated, style = rand(2, 32, 40, 3), rand(2, 32, 40, 3), rand(32, 32, 3)
    targets = loss.content_targets(photo)
    assert set(targets) == {"block2_conv2", "laplacian", "pixels"}
    terms = {k: scalar(v) for k, v in loss(generated, targets, loss.style_targets(style)).items()}
    lap = np.asarray(laplacian_map(generated)) - np.asarray(laplacian_map(photo))
    assert terms["laplacian"] == pytest.approx(7.0 * np.mean(lap ** 2), rel=1e-5)
    assert terms["pixel"] == pytest.approx(3.0 * np.mean((generated - photo) ** 2), rel=1e-5)
    assert terms["total"] == pytest.approx(sum(v for k, v in terms.items() if k != "total"),
                                           rel=1e-6)
    # off by default: the terms are absent, not zero, and so are their targets
    assert "laplacian" not in small_loss(generated, small_loss.content_targets(photo),
                                         small_loss.style_targets(style))
    assert LossConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="laplacian_weight"):
        LossConfig(laplacian_weight=-1.0)
    with pytest.raises(ValueError, match="laplacian_pool"):
        LossConfig(laplacian_pool=0)


# --- presets ------------------------------------------------------------------------

STYLE_CONV1 = [f"block{i}_conv1" for i in range(1, 6)]


def test_preset_gatys2016_published_settings():
    p = get_preset("gatys2016")
    assert p is PRESETS["gatys2016"] and p.name == "gatys2016"
    loss = p.loss
    assert loss.content_layers == {"block4_conv2": 1.0}              # conv4_2
    assert list(loss.style_layers) == STYLE_CONV1                    # conv1_1 .. conv5_1
    assert all(w == pytest.approx(0.2) for w in loss.style_layers.values())  # w_l = 1/5
    assert loss.content_weight / loss.style_weight == pytest.approx(1e-3)    # alpha/beta
    assert loss.tv_weight == 0.0
    assert loss.reduction == "gatys"
    assert loss.gram_normalization == "hw"
    assert loss.pooling == "avg"
    assert p.optimizer == "lbfgs"
    assert p.size == 512
    assert p.init == "noise"


def test_preset_tutorial_published_settings():
    p = get_preset("tutorial")
    loss = p.loss
    assert loss.content_layers == {"block5_conv2": 1.0}
    assert list(loss.style_layers) == STYLE_CONV1
    assert all(w == pytest.approx(0.2) for w in loss.style_layers.values())
    assert loss.content_weight == 1e4
    assert loss.style_weight == 1e-2
    assert loss.tv_weight == 30.0
    assert loss.reduction == "mean"
    assert loss.gram_normalization == "hw"
    assert loss.pooling == "max"
    assert p.optimizer == "adam"
    assert p.learning_rate == 0.02
    assert p.beta_1 == 0.99
    assert p.epsilon == 0.1
    assert p.init == "content"
    assert p.size == 512
    assert p.steps == 1000  # 10 epochs x 100 steps


def test_get_preset_unknown_raises():
    with pytest.raises(ValueError, match="nope"):
        get_preset("nope")
