"""Applying a network to images of any size: one pass, or tiles ("overlap-save") whose
instance normalizations use the whole image's statistics, so the seams do not show.
:func:`apply` (exported as ``keras_style.apply_network``) is what every tool calls."""

from __future__ import annotations

import numpy as np


def min_side(metadata: dict) -> int:
    """Smallest image side a network described by ``metadata`` accepts."""
    from keras_style.nets import family_of

    if family_of(metadata) != "johnson":
        return 8
    from keras_style.nets.johnson import min_input_size
    return min_input_size(metadata["architecture"])


def _instance_norms(model) -> list:
    from keras_style.layers import InstanceNormalization

    flatten = getattr(model, "_flatten_layers", None)
    if flatten is None:
        return []
    return [l for l in flatten(include_self=False, recursive=True)
            if isinstance(l, InstanceNormalization)]


def _cached_function(model, attribute: str, make):
    """``make()``, built once per model and kept on the model itself (it goes when the model
    goes; ``object.__setattr__`` keeps Keras from tracking it)."""
    fn = getattr(model, attribute, None)
    if fn is None:
        fn = make()
        object.__setattr__(model, attribute, fn)
    return fn


def _statistics_functions(model, norms):
    """Two tf.functions, each traced once per model for any image size: ``record(x)`` gives
    every InstanceNormalization's ``(mean, var)`` on ``x``; ``fixed(x, stats)`` runs the model
    with those statistics fed in as inputs (not baked in as constants, so one trace serves
    every image)."""
    import tensorflow as tf

    image_spec = tf.TensorSpec((None, None, None, 3), tf.float32)

    def make_record():
        def record(x):
            for layer in norms:
                layer.record_statistics = True
            try:
                model(x, training=False)
                return [layer.recorded_statistics for layer in norms]
            finally:
                for layer in norms:
                    layer.record_statistics = False
                    layer.recorded_statistics = None
        return tf.function(record, input_signature=[image_spec])

    def make_fixed():
        stats_spec = [(tf.TensorSpec((1, 1, 1, None), tf.float32),) * 2 for _ in norms]

        def fixed(x, stats):
            for layer, (mean, var) in zip(norms, stats):
                layer.fixed_statistics = (mean, var)
            try:
                return model(x, training=False)
            finally:
                for layer in norms:
                    layer.fixed_statistics = None
        return tf.function(fixed, input_signature=[image_spec, stats_spec])

    return (_cached_function(model, "_keras_style_record", make_record),
            _cached_function(model, "_keras_style_fixed", make_fixed))


def _tiled_predictor(model, image: np.ndarray, stats_size: int):
    """``predict(tile)`` for the tiles of ``image``: when ``model`` has InstanceNormalization
    layers, each of them uses the statistics of the whole image (from one pass over the image
    downscaled so that its long side is at most ``stats_size``; exact when the image is no
    larger) instead of the tile's own."""
    norms = _instance_norms(model)
    if not norms:
        return _predictor(model)
    from keras_style import image as im

    h, w = image.shape[:2]
    small = image
    if max(h, w) > stats_size:
        s = stats_size / max(h, w)
        small = im.resize(image, (max(1, round(h * s)), max(1, round(w * s))))
    record, fixed = _statistics_functions(model, norms)
    # compiled: eagerly, this pass alone peaked at 3.1 GB for ``light`` at 1536²;
    # as a graph at 1.8 GB (one thread, the same machine)
    stats = [tuple(pair) for pair in record(small[None])]
    return lambda tile: fixed(tile, stats)


def apply(model, image: np.ndarray, tile: int | None = 1024, margin: int = 96,
          scale: int = 1, stats_size: int = 1536) -> np.ndarray:
    """Run ``model`` on one ``(H, W, 3)`` image; return ``(H*scale, W*scale, 3)``.

    Images larger than ``tile`` on a side are processed tile by tile ("overlap-save"): each
    tile is cut with ``margin`` pixels of real context on every side, and only its centre
    is kept.  Tile origins fall on multiples of 4, so the network's stride-2 grids line up
    with the whole image's; with a margin wider than the network's receptive field the
    result equals the whole-image result, so there are no seams, and memory stays bounded
    by the tile size (``tile=None`` disables tiling).  Instance normalization layers use
    the statistics of the whole image (from one pass at up to ``stats_size`` px) in every
    tile.
    """
    image = np.asarray(image, np.float32)
    h, w = image.shape[:2]
    if tile is None or (h <= tile and w <= tile):
        return np.asarray(_predictor(model)(image[None]))[0]
    out = np.empty((h * scale, w * scale, 3), np.float32)
    predict = _tiled_predictor(model, image, stats_size)
    for (y0, y1, x0, x1), (top, bottom, left, right) in tiles(h, w, tile, margin):
        result = np.asarray(predict(image[None, y0:y1, x0:x1]))[0]
        oy, ox = (top - y0) * scale, (left - x0) * scale
        out[top * scale:bottom * scale, left * scale:right * scale] = \
            result[oy:oy + (bottom - top) * scale, ox:ox + (right - left) * scale]
    return out


def _predictor(model):
    """``model(x, training=False)`` as a tf.function traced once for any image size."""
    import tensorflow as tf

    return _cached_function(model, "_keras_style_predict", lambda: tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)]))


def tiles(h: int, w: int, tile: int, margin: int):
    """Yield ``(input_region, kept_region)`` pairs, each ``(y0, y1, x0, x1)``, for tiling.

    Kept regions partition the image; each input region contains its kept region plus up
    to ``margin`` pixels of context per side, is at most ``tile`` pixels on a side, starts
    on a multiple of 4 and, at the image's edges, reaches back so it stays full-sized.
    """
    margin = 4 * (margin // 4)
    core = 4 * ((tile - 2 * margin) // 4)
    if core < 4:
        raise ValueError(f"tile ({tile}) must exceed twice the margin ({margin}).")
    for top in range(0, h, core):
        for left in range(0, w, core):
            bottom, right = min(h, top + core), min(w, left + core)
            y1, x1 = min(h, bottom + margin), min(w, right + margin)
            # round up to a multiple of 4: still <= top/left (themselves multiples of 4)
            y0 = -4 * (-max(0, min(top - margin, y1 - tile)) // 4)
            x0 = -4 * (-max(0, min(left - margin, x1 - tile)) // 4)
            yield (y0, y1, x0, x1), (top, bottom, left, right)


apply_network = apply  # the name keras_style exports


