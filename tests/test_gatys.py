"""Gatys pixel optimization with the real VGG19: it works, for both optimizers."""

from pathlib import Path

import numpy as np
import pytest

from keras_style import image as im
from keras_style.gatys import GatysOptimizer, style_transfer
from keras_style.losses import get_preset
from keras_style.vgg import loss_network

ASSETS = Path(im.__file__).parent / "assets"

pytestmark = pytest.mark.vgg


@pytest.fixture(scope="module")
def photo():
    return im.load_image(ASSETS / "colosseum.jpg", max_size=96)


@pytest.fixture(scope="module")
def painting():
    return im.load_image(ASSETS / "starry_night.jpg", max_size=96)


@pytest.fixture(scope="module")
def tutorial_net():
    p = get_preset("tutorial").loss
    return loss_network(p.layers, pooling=p.pooling)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimization_lowers_the_loss_by_a_large_factor(photo, painting, tutorial_net, optimizer):
    losses = []
    out = style_transfer(photo, painting, size=96, steps=40, optimizer=optimizer,
                         network=tutorial_net, progress=False,
                         callback=lambda info: losses.append(info.losses["total"]))
    assert len(losses) == 40
    assert losses[-1] < losses[0] / 5, (losses[0], losses[-1])
    assert out.shape == photo.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    # it moved away from the photo: stylized, not a copy
    assert np.mean(np.abs(out - photo)) > 0.02


@pytest.mark.slow
def test_gatys2016_preset_from_noise(photo, painting):
    losses = []
    style_transfer(photo, painting, preset="gatys2016", size=64, steps=30, progress=False,
                   callback=lambda info: losses.append(info.losses["total"]))
    assert losses[-1] < losses[0] / 5


def test_same_seed_same_image(photo, painting, tutorial_net):
    kw = dict(size=48, steps=3, optimizer="adam", init="noise", network=tutorial_net,
              progress=False)
    a = style_transfer(photo, painting, seed=7, **kw)
    b = style_transfer(photo, painting, seed=7, **kw)
    c = style_transfer(photo, painting, seed=8, **kw)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_callback_sees_every_step_with_the_image(photo, painting, tutorial_net):
    seen = []
    style_transfer(photo, painting, size=48, steps=3, optimizer="lbfgs", network=tutorial_net,
                   progress=False, callback=seen.append)
    assert [s.step for s in seen] == [1, 2, 3]
    assert all(s.image.shape[2] == 3 and set(s.losses) == {"content", "style", "tv", "total"}
               for s in seen)


def test_blend_weights_select_a_style(photo, painting, tutorial_net):
    """Blend [1, 0] is the first style alone."""
    gray = np.full_like(painting, 0.5)
    kw = dict(size=48, steps=2, optimizer="adam", network=tutorial_net, progress=False)
    a = style_transfer(photo, [painting, gray], style_blend=[1, 0], **kw)
    b = style_transfer(photo, painting, **kw)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_luminance_mode_keeps_the_photo_colours(photo, painting, tutorial_net):
    out = style_transfer(photo, painting, size=48, steps=3, optimizer="adam",
                         preserve_color="luminance", network=tutorial_net, progress=False)
    small = im.as_image(photo, max_size=48)
    iq_out = im.rgb_to_yiq(out)[..., 1:]
    iq_in = im.rgb_to_yiq(small)[..., 1:]
    assert np.abs(iq_out - iq_in).mean() < 0.02


def test_bad_arguments_raise_value_errors(photo, painting, tutorial_net):
    opt = GatysOptimizer(get_preset("tutorial").loss, network=tutorial_net)
    with pytest.raises(ValueError, match="steps"):
        opt.run(photo, [painting], steps=0)
    with pytest.raises(ValueError, match="optimizer"):
        opt.run(photo, [painting], steps=1, optimizer="sgd")
    with pytest.raises(ValueError, match="init"):
        opt.run(photo, [painting], steps=1, init="zeros", progress=False)
    with pytest.raises(ValueError, match="preserve_color"):
        style_transfer(photo, painting, preserve_color="sepia", network=tutorial_net)


def test_a_network_with_the_wrong_pooling_is_refused(tutorial_net):
    with pytest.raises(ValueError, match="pooling"):
        GatysOptimizer(get_preset("gatys2016").loss, network=tutorial_net)


def test_style_tiles_reach_the_optimized_loss(photo, painting, tutorial_net):
    # the same start and steps; only the style term differs, and the callback reports it
    styles = {}
    for tiles in (1, 3):
        seen = []
        style_transfer(photo, painting, size=48, steps=2, optimizer="adam",
                       network=tutorial_net, progress=False, style_tiles=tiles,
                       callback=lambda info: seen.append(info.losses["style"]))
        styles[tiles] = seen[0]
    # a 3 x 3 grid of a photo is further from the painting's statistics than the whole photo
    assert styles[3] > styles[1] > 0


def test_an_image_of_ones_own_is_a_start(photo, painting, tutorial_net):
    """init may be an image (a network's result, say): step 0 is that image, resized."""
    seen = []
    start = np.full((30, 40, 3), 0.25, np.float32)
    style_transfer(photo, painting, size=48, steps=1, optimizer="adam", init=start,
                   network=tutorial_net, progress=False,
                   callback=lambda info: seen.append(info.image.copy()))
    assert seen[0].shape[:2] == im.as_image(photo, max_size=48).shape[:2]
    # one Adam step moves every pixel by at most the learning rate from 0.25
    assert np.abs(seen[0] - 0.25).max() < 0.05
