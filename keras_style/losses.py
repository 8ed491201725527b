"""Perceptual losses: content, style (Gram matrices), total variation, and their sum.

All losses are computed in float32 on images in ``[0, 1]`` and VGG19 activations.

Two reductions are offered, because the papers differ and the weights only mean
something together with their reduction:

``"mean"`` (TensorFlow tutorial, Johnson et al.)
    content: ``mean((F - P)^2)`` over the layer's ``H*W*C`` values;
    style: ``mean((G - A)^2)`` over the ``C*C`` Gram entries, with ``G`` normalized
    as the config says (``"hw"``: divided by ``H*W``; ``"chw"``: by ``C*H*W``).
``"gatys"`` (Gatys et al. 2015/2016, equations 1 and 4)
    content: ``1/2 * sum((F - P)^2)``;
    style: ``sum((G - A)^2) / (4 N^2 M^2)`` with the raw Gram matrix, ``N`` = channels,
    ``M`` = ``H*W`` — equal to ``mean((G/M - A/M)^2) / 4``.

With ``style_tiles = n > 1`` the style term is *local*: each image's feature map is cut
into an ``n x n`` grid of tiles (edges at ``floor(k * H / n)``) and every tile's Gram matrix
is compared with the target; the term is the mean over the tiles.  A global Gram matrix can
be matched by one saturated patch of the painting's dominant colour anywhere in the image;
tiled Gram matrices ask every region to carry the painting's statistics.  ``n = 1`` is the
usual global term, exactly.

Total variation is the sum of absolute differences between neighbouring pixels of
each image, averaged over the batch (``tf.image.total_variation``'s definition), so its
size grows with the image's area; per-term values are averaged over the batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
from keras import ops

from keras_style.layers import gram_matrix

REDUCTIONS = ("mean", "gatys")


def content_loss(features, target, reduction: str = "mean"):
    """Feature-reconstruction loss between activations ``features`` and ``target``."""
    diff = ops.square(ops.cast(features, "float32") - ops.cast(target, "float32"))
    if reduction == "mean":
        return ops.mean(diff)
    if reduction == "gatys":
        return 0.5 * ops.mean(ops.sum(diff, axis=(1, 2, 3)))
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")


def style_loss(gram, target_gram, reduction: str = "mean"):
    """Squared distance between Gram matrices (see the module docstring for scaling)."""
    diff = ops.square(ops.cast(gram, "float32") - ops.cast(target_gram, "float32"))
    if reduction == "mean":
        return ops.mean(diff)
    if reduction == "gatys":
        return 0.25 * ops.mean(diff)
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")


def tiled_style_loss(features, target_gram, tiles: int, normalization: str = "hw",
                     reduction: str = "mean"):
    """Mean of :func:`style_loss` over an ``tiles x tiles`` grid of the feature map (tile
    edges at ``floor(k * H / tiles)``, so sizes need not divide; on a map with fewer rows or
    columns than tiles, neighbouring tiles share them, each keeping at least one); each
    tile's Gram matrix is normalized by its own size.  ``tiles = 1`` is the global style
    loss."""
    if tiles == 1:
        return style_loss(gram_matrix(features, normalization), target_gram, reduction)
    shape = ops.shape(features)

    def span(k, size):
        start = (k * size) // tiles
        return start, ops.maximum((k + 1) * size // tiles, start + 1)

    total = ops.convert_to_tensor(0.0)
    for i in range(tiles):
        h0, h1 = span(i, shape[1])
        for j in range(tiles):
            w0, w1 = span(j, shape[2])
            tile = features[:, h0:h1, w0:w1, :]
            total = total + style_loss(gram_matrix(tile, normalization), target_gram, reduction)
    return total / float(tiles * tiles)


def laplacian_map(images, pool: int = 4):
    """The structure a Laplacian loss keeps (Li et al., "Laplacian-Steered Neural Style
    Transfer", 2017): ``images`` (``(B, H, W, 3)`` in ``[0, 1]``) averaged over ``pool × pool``
    blocks, then filtered per channel with the 3×3 Laplacian ``[[0, 1, 0], [1, -4, 1],
    [0, 1, 0]]`` (valid positions only).  Strokes and fine texture average out in the
    pooling; the edges of the photo's layout remain."""
    x = ops.cast(images, "float32")
    if pool > 1:
        x = ops.average_pool(x, pool, strides=pool, padding="valid")
    centre = x[:, 1:-1, 1:-1, :]
    return (x[:, :-2, 1:-1, :] + x[:, 2:, 1:-1, :] + x[:, 1:-1, :-2, :] + x[:, 1:-1, 2:, :]
            - 4.0 * centre)


def total_variation_loss(images):
    """Sum of ``|x[i+1, j] - x[i, j]| + |x[i, j+1] - x[i, j]|`` per image, batch mean."""
    x = ops.cast(images, "float32")
    dh = ops.abs(x[:, 1:, :, :] - x[:, :-1, :, :])
    dw = ops.abs(x[:, :, 1:, :] - x[:, :, :-1, :])
    return ops.mean(ops.sum(dh, axis=(1, 2, 3)) + ops.sum(dw, axis=(1, 2, 3)))


@dataclass(frozen=True)
class LossConfig:
    """What the perceptual loss measures and how the terms are weighted.

    ``content_layers`` and ``style_layers`` map VGG19 layer names to per-layer weights;
    the total is ``content_weight * sum_l w_l * content_l + style_weight * sum_l w_l *
    style_l + tv_weight * tv``, plus two optional terms that compare pixels rather than VGG
    features: ``laplacian_weight`` times the mean squared difference of the photo's and the
    result's :func:`laplacian_map` (``laplacian_pool``-px blocks), and ``pixel_weight`` times
    their per-pixel mean squared difference.
    """

    content_layers: dict = field(default_factory=lambda: {"block5_conv2": 1.0})
    style_layers: dict = field(default_factory=lambda: {
        f"block{i}_conv1": 0.2 for i in range(1, 6)})
    content_weight: float = 1e4
    style_weight: float = 1e-2
    tv_weight: float = 30.0
    reduction: str = "mean"
    gram_normalization: str = "hw"
    pooling: str = "max"
    style_tiles: int = 1
    laplacian_weight: float = 0.0
    laplacian_pool: int = 4
    pixel_weight: float = 0.0

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {self.reduction!r}.")
        if not isinstance(self.laplacian_pool, int) or self.laplacian_pool < 1:
            raise ValueError(f"laplacian_pool must be a positive integer, got "
                             f"{self.laplacian_pool!r}.")
        for name in ("content_weight", "style_weight", "tv_weight", "laplacian_weight",
                     "pixel_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative.")
        if not isinstance(self.style_tiles, int) or self.style_tiles < 1:
            raise ValueError(f"style_tiles must be a positive integer, got {self.style_tiles!r}.")
        if not self.style_layers and not self.content_layers:
            raise ValueError("the loss needs at least one content or style layer.")

    def replace(self, **changes) -> "LossConfig":
        """A copy with some fields changed; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def layers(self) -> list[str]:
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))

    def to_dict(self) -> dict:
        """JSON-ready: what a network's JSON stores as ``loss_config``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LossConfig":
        """The inverse of :meth:`to_dict`; unknown keys are refused."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown loss settings: {', '.join(sorted(unknown))}.")
        return cls(**data)


def equal_weights(names) -> dict:
    names = list(names)
    return {name: 1.0 / len(names) for name in names}


class PerceptualLoss:
    """The perceptual loss of a :class:`LossConfig`, evaluated through a frozen VGG19.

    Typical use::

        loss = PerceptualLoss(config)
        style = loss.style_targets([painting])            # once per style
        content = loss.content_targets(photo_batch)         # once per photo / batch
        terms = loss(generated, content, style)             # {"total", "content", "style", "tv"}

    ``network`` may be a prebuilt model from :func:`keras_style.vgg.loss_network` that
    returns at least the config's layers (tests pass a weightless one).
    """

    def __init__(self, config: LossConfig | None = None, network=None, weights="imagenet",
                 dtype=None):
        from keras_style.vgg import loss_network

        self.config = config or LossConfig()
        if network is None:
            network = loss_network(self.config.layers, pooling=self.config.pooling,
                                   weights=weights, dtype=dtype)
        self.network = network
        # A second model over the same layers that stops at the deepest content layer:
        # content targets of a photo batch never need the deeper style layers.
        self._content_network = None
        if self.config.content_layers:
            import keras
            self._content_network = keras.Model(
                network.input, {k: network.output[k] for k in self.config.content_layers})

    def features(self, images):
        return self.network(images, training=False)

    def style_targets(self, style_images, blend=None):
        """Gram targets for one or several style images (blended by ``blend`` weights).

        Each style image is a ``(H, W, 3)`` or ``(1, H, W, 3)`` array in ``[0, 1]``; sizes
        may differ.  The blended target is ``sum_k blend_k * G_k`` (weights normalized to
        sum to one).
        """
        if not isinstance(style_images, (list, tuple)):
            style_images = [style_images]
        blend = [1.0] * len(style_images) if blend is None else list(blend)
        if len(blend) != len(style_images):
            raise ValueError(f"{len(style_images)} style images but {len(blend)} blend weights.")
        if min(blend) < 0 or sum(blend) <= 0:
            raise ValueError("style blend weights must be non-negative and not all zero.")
        total = float(sum(blend))
        targets = {}
        for image, weight in zip(style_images, blend):
            image = ops.convert_to_tensor(image, "float32")
            if len(image.shape) == 3:
                image = image[None]
            feats = self.features(image)
            for name in self.config.style_layers:
                g = gram_matrix(feats[name], self.config.gram_normalization) * (weight / total)
                targets[name] = g if name not in targets else targets[name] + g
        return targets

    def content_targets(self, images):
        """What the result is compared with: the photos' content-layer activations, and
        (when their weights are not zero) the photos' :func:`laplacian_map` under
        ``"laplacian"`` and the photos themselves under ``"pixels"``."""
        cfg = self.config
        images = ops.convert_to_tensor(images, "float32")
        if len(images.shape) == 3:
            images = images[None]
        targets = {}
        if self._content_network is not None:
            targets.update(self._content_network(images, training=False))
        if cfg.laplacian_weight:
            targets["laplacian"] = laplacian_map(images, cfg.laplacian_pool)
        if cfg.pixel_weight:
            targets["pixels"] = images
        return targets

    def __call__(self, generated, content_targets, style_targets, features=None):
        """Loss terms for ``generated`` (``(B, H, W, 3)`` in ``[0, 1]``).

        Returns a dict of scalar float32 tensors: ``total`` and the *weighted* terms
        ``content``, ``style`` and ``tv`` (and ``laplacian``, ``pixel`` when their weights
        are not zero) that add up to it.
        """
        cfg = self.config
        feats = self.features(generated) if features is None else features
        content = ops.convert_to_tensor(0.0)
        for name, w in cfg.content_layers.items():
            content = content + w * content_loss(feats[name], content_targets[name], cfg.reduction)
        style = ops.convert_to_tensor(0.0)
        for name, w in cfg.style_layers.items():
            style = style + w * tiled_style_loss(feats[name], style_targets[name],
                                                 cfg.style_tiles, cfg.gram_normalization,
                                                 cfg.reduction)
        terms = {"content": cfg.content_weight * content, "style": cfg.style_weight * style}
        terms["tv"] = (cfg.tv_weight * total_variation_loss(generated) if cfg.tv_weight
                       else ops.convert_to_tensor(0.0))
        if cfg.laplacian_weight:
            diff = laplacian_map(generated, cfg.laplacian_pool) - content_targets["laplacian"]
            terms["laplacian"] = cfg.laplacian_weight * ops.mean(ops.square(diff))
        if cfg.pixel_weight:
            diff = ops.cast(generated, "float32") - content_targets["pixels"]
            terms["pixel"] = cfg.pixel_weight * ops.mean(ops.square(diff))
        terms["total"] = sum((v for k, v in terms.items() if k != "total"),
                             ops.convert_to_tensor(0.0))
        return terms


def __getattr__(name):
    # the Gatys presets moved to keras_style.gatys, beside the optimizer that runs them
    if name in ("Preset", "PRESETS", "get_preset"):
        from keras_style import gatys
        return getattr(gatys, name)
    raise AttributeError(f"module 'keras_style.losses' has no attribute {name!r}")
