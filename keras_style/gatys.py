"""Gatys et al.: optimize an image's pixels against the perceptual loss.

The one call most people need::

    import keras_style
    image = keras_style.style_transfer("photo.jpg", "painting.jpg", steps=200)
    keras_style.save_image(image, "out.jpg")

Two optimizers: Adam in a ``tf.GradientTape`` loop compiled with ``tf.function`` (clipped
to ``[0, 1]`` after each step), and L-BFGS-B through ``scipy.optimize.minimize`` with the
loss and its gradient from one compiled function and the pixels bounded to ``[0, 1]``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import numpy as np
import tensorflow as tf

from keras_style import image as im
from keras_style.losses import LossConfig, PerceptualLoss, equal_weights

INITS = ("content", "noise", "style", "arbitrary")
OPTIMIZERS = ("lbfgs", "adam")


@dataclass(frozen=True)
class StepInfo:
    """What a callback receives after every optimization step."""

    step: int
    steps: int
    losses: dict
    image: np.ndarray
    seconds: float


def _luminance_inputs(content: np.ndarray, styles: list[np.ndarray]):
    """Gatys et al. 2016 §2.1: transfer on luminance; match the style's Y statistics."""
    yc = im.rgb_to_yiq(content)[..., 0]
    gray = []
    for s in styles:
        ys = im.rgb_to_yiq(s)[..., 0]
        ys = (ys - ys.mean()) * (yc.std() / max(ys.std(), 1e-6)) + yc.mean()
        gray.append(np.repeat(np.clip(ys, 0, 1)[..., None], 3, axis=-1))
    return np.repeat(yc[..., None], 3, axis=-1), gray


def _initial_image(init, content: np.ndarray, styles: list[np.ndarray], seed: int):
    if isinstance(init, np.ndarray):  # a starting image of one's own (e.g. a network's)
        start = np.asarray(init, np.float32)
        return start.copy() if start.shape == content.shape else im.resize(start,
                                                                           content.shape[:2])
    if init == "content":
        return content.copy()
    if init == "style":
        return im.resize(styles[0], content.shape[:2])
    if init == "noise":
        rng = np.random.default_rng(seed)
        return rng.uniform(0.0, 1.0, size=content.shape).astype(np.float32)
    raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}.")


# --- the published settings ---------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    """Published settings for Gatys-style optimization: the loss plus how to optimize."""

    name: str
    loss: LossConfig
    optimizer: str
    size: int
    init: str
    steps: int
    learning_rate: float = 0.02
    beta_1: float = 0.9
    epsilon: float = 1e-7
    description: str = ""


PRESETS = {
    "gatys2016": Preset(
        name="gatys2016",
        loss=LossConfig(
            content_layers={"block4_conv2": 1.0},
            style_layers=equal_weights(f"block{i}_conv1" for i in range(1, 6)),
            content_weight=1.0, style_weight=1e3, tv_weight=0.0,
            reduction="gatys", gram_normalization="hw", pooling="avg"),
        optimizer="lbfgs", size=512, init="noise", steps=500,
        description="Gatys, Ecker & Bethge (CVPR 2016): style conv1_1..conv5_1 equally "
                    "weighted, content conv4_2, average pooling, alpha/beta = 1e-3, L-BFGS, "
                    "512 px, white-noise start."),
    "tutorial": Preset(
        name="tutorial",
        loss=LossConfig(
            content_layers={"block5_conv2": 1.0},
            style_layers=equal_weights(f"block{i}_conv1" for i in range(1, 6)),
            content_weight=1e4, style_weight=1e-2, tv_weight=30.0,
            reduction="mean", gram_normalization="hw", pooling="max"),
        optimizer="adam", size=512, init="content", steps=1000,
        learning_rate=0.02, beta_1=0.99, epsilon=0.1,
        description="The TensorFlow tutorial: content block5_conv2, style block1..5_conv1, "
                    "style weight 1e-2, content weight 1e4, TV weight 30, Adam (lr 0.02, "
                    "beta_1 0.99, epsilon 0.1), starting from the content image."),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}.") from None


class GatysOptimizer:
    """Pixel optimization for one loss configuration; reusable across images.

    Building the VGG19 loss network takes a few seconds: keep one instance to stylize
    many images with the same loss layers.
    """

    def __init__(self, config: LossConfig, network=None, weights="imagenet"):
        if network is not None:
            pools = {type(l).__name__ for l in network.layers if "Pooling" in type(l).__name__}
            expected = "AveragePooling2D" if config.pooling == "avg" else "MaxPooling2D"
            if pools and pools != {expected}:
                raise ValueError(f"the loss network uses {', '.join(sorted(pools))} but the loss "
                                 f"asks for pooling={config.pooling!r}; build it with "
                                 f"loss_network(..., pooling={config.pooling!r}).")
        self.loss = PerceptualLoss(config, network=network, weights=weights)
        self.config = config
        # One compiled loss-and-gradient for every image: the targets are arguments, so
        # a second image of the same size reuses the trace (reduce_retracing relaxes sizes).
        self._value_and_grad = tf.function(self._loss_and_gradient, reduce_retracing=True)

    def _loss_and_gradient(self, x, content_t, style_t):
        with tf.GradientTape() as tape:
            tape.watch(x)
            terms = self.loss(x, content_t, style_t)
        return terms, tape.gradient(terms["total"], x)

    def run(self, content, styles, *, steps: int, optimizer: str = "lbfgs", init: str = "content",
            blend=None, learning_rate: float = 0.02, beta_1: float = 0.9, epsilon: float = 1e-7,
            seed: int = 0, callback: Callable[[StepInfo], None] | None = None,
            progress: bool = True) -> np.ndarray:
        """Optimize and return the image (``(H, W, 3)`` float32 in ``[0, 1]``).

        ``content`` and ``styles`` are already-sized ``[0, 1]`` arrays.
        """
        if steps <= 0:
            raise ValueError("steps must be a positive number.")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}.")
        tf.random.set_seed(seed)
        content_t = self.loss.content_targets(content[None])
        style_t = self.loss.style_targets(list(styles), blend)
        start = _initial_image(init, content, list(styles), seed)
        bar = _progress(steps, progress, optimizer)
        t0 = time.perf_counter()

        def report(step, losses, x):
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
            if callback is not None:
                callback(StepInfo(step, steps, losses, x, time.perf_counter() - t0))

        try:
            if optimizer == "adam":
                return self._adam(start, content_t, style_t, steps, learning_rate, beta_1,
                                  epsilon, report)
            return self._lbfgs(start, content_t, style_t, steps, report)
        finally:
            if bar is not None:
                bar.close()

    def _adam(self, start, content_t, style_t, steps, lr, beta_1, epsilon, report):
        x = tf.Variable(start[None], dtype=tf.float32)
        opt = tf.keras.optimizers.Adam(learning_rate=lr, beta_1=beta_1, epsilon=epsilon)
        @tf.function
        def step():
            terms, grad = self._loss_and_gradient(tf.convert_to_tensor(x), content_t, style_t)
            opt.apply_gradients([(grad, x)])
            x.assign(tf.clip_by_value(x, 0.0, 1.0))
            return terms

        for i in range(1, steps + 1):
            terms = step()
            report(i, {k: float(v) for k, v in terms.items()}, x.numpy()[0])
        return x.numpy()[0]

    def _lbfgs(self, start, content_t, style_t, steps, report):
        from scipy.optimize import minimize

        shape = (1,) + start.shape
        last = {}

        def fun(flat):
            x = tf.constant(flat.reshape(shape), dtype=tf.float32)
            terms, grad = self._value_and_grad(x, content_t, style_t)
            last["terms"] = {k: float(v) for k, v in terms.items()}
            return float(terms["total"]), grad.numpy().astype(np.float64).ravel()

        count = [0]

        def on_iteration(xk):
            count[0] += 1
            report(count[0], dict(last["terms"]), xk.reshape(start.shape).astype(np.float32))

        result = minimize(fun, start.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
                          bounds=[(0.0, 1.0)] * start.size, callback=on_iteration,
                          options={"maxiter": steps, "maxfun": steps * 3, "maxcor": 20,
                                   "ftol": 0.0, "gtol": 0.0})
        return result.x.reshape(start.shape).astype(np.float32)


def _progress(steps, enabled, desc):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=steps, desc=desc, unit="step", leave=False)


def style_transfer(content, style, *, preset: str = "tutorial", size: int | None = None,
                   steps: int | None = None, optimizer: str | None = None, init: str | None = None,
                   style_blend=None, style_scale: float = 1.0, content_weight: float | None = None,
                   style_weight: float | None = None, tv_weight: float | None = None,
                   style_tiles: int | None = None,
                   learning_rate: float | None = None, preserve_color: str | None = None,
                   seed: int = 0, callback: Callable[[StepInfo], None] | None = None,
                   progress: bool = True, network=None, weights="imagenet") -> np.ndarray:
    """Stylize one image by Gatys-style pixel optimization; return it as ``[0, 1]`` floats.

    Args:
        content: the photo: a path, a PIL image or an array.
        style: one style image, or a list of them (blended by ``style_blend``).
        preset: ``"tutorial"`` (default) or ``"gatys2016"``; every other argument left
            at ``None`` takes the preset's value.
        size: long side of the output in pixels (the content image is resized).
        style_scale: each style image's long side is ``style_scale * size``.
        style_tiles: ``n > 1`` matches the Gram matrices of an ``n x n`` grid of tiles
            with the painting's, so every region carries the style (see
            :mod:`keras_style.losses`); default 1, the papers' global Gram matrices.
        init: ``"content"``, ``"noise"``, ``"style"``, ``"arbitrary"`` (start from the
            arbitrary network's result: a finished-looking picture from step 0) or an
            image array; default the preset's.
        preserve_color: ``None``, ``"luminance"`` (transfer on luminance only, keep the
            photo's colours) or ``"histogram"`` (recolour the style images with the
            photo's colour statistics first).
        callback: called with a :class:`StepInfo` after every step.
        network: optional prebuilt loss network (must output the preset's layers).
    """
    p = get_preset(preset)
    config = p.loss.replace(content_weight=content_weight, style_weight=style_weight,
                            tv_weight=tv_weight, style_tiles=style_tiles)
    size = p.size if size is None else int(size)
    steps = p.steps if steps is None else int(steps)
    if size < im.MIN_SIZE:
        raise ValueError(f"size must be at least {im.MIN_SIZE} pixels.")
    if preserve_color not in (None, *im.PRESERVE_COLOR_MODES):
        raise ValueError(f"preserve_color must be one of {', '.join(im.PRESERVE_COLOR_MODES)}.")
    if style_scale <= 0:
        raise ValueError("style_scale must be positive.")
    content_img = im.as_image(content, max_size=size)
    styles = style if isinstance(style, (list, tuple)) else [style]
    style_size = max(im.MIN_SIZE, int(round(size * style_scale)))
    style_imgs = [im.as_image(s, max_size=style_size) for s in styles]

    if preserve_color == "histogram":
        style_imgs = [im.match_color(s, content_img) for s in style_imgs]
    work_content = content_img
    if preserve_color == "luminance":
        work_content, style_imgs = _luminance_inputs(content_img, style_imgs)

    init = p.init if init is None else init
    if isinstance(init, str) and init == "arbitrary":
        # warm start: the arbitrary network's one-pass result for the same inputs, its style
        # predicted from the paintings at no less than the predictor's own 256 px (a small
        # run's style size would blur the style vector)
        from keras_style.pretrained import STYLE_SIZE, arbitrary_stylize
        start_styles = [im.as_image(s, max_size=max(style_size, STYLE_SIZE)) for s in styles]
        if preserve_color == "histogram":
            start_styles = [im.match_color(s, content_img) for s in start_styles]
        if preserve_color == "luminance":
            start_styles = _luminance_inputs(content_img, start_styles)[1]
        init = arbitrary_stylize(work_content, start_styles, weights=style_blend, size=None)
    optimizer_ = GatysOptimizer(config, network=network, weights=weights)
    result = optimizer_.run(work_content, style_imgs, steps=steps,
                            optimizer=optimizer or p.optimizer, init=init,
                            blend=style_blend,
                            learning_rate=p.learning_rate if learning_rate is None else learning_rate,
                            beta_1=p.beta_1, epsilon=p.epsilon, seed=seed, callback=callback,
                            progress=progress)
    if preserve_color == "luminance":
        result = im.luminance_transfer(result, content_img)
    return result
