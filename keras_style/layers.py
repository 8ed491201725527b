"""Keras layers for style transfer, for our networks and for yours.

Every layer here works with unknown height and width, is registered for serialization
(package ``keras_style``) and round-trips through a ``.keras`` file.  All are written with
``keras.ops`` except :class:`ResizeBy`, which needs ``tf.image.resize`` (Keras has no
bicubic resize of run-time sizes), so it runs on the TensorFlow backend only.  All take and return channels-last tensors ``(batch, height, width, channels)``.
"""

from __future__ import annotations

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import keras
from keras import ops

_register = keras.saving.register_keras_serializable(package="keras_style")


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}.")
    return value


def _add(size, delta):
    return None if size is None else size + delta


@_register
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring the image at its border (no edge repeat).

    Border pixels of a zero-padded convolution see black; mirrored borders avoid the
    dark frame this leaves on stylized images.  ``padding`` is an int or a pair
    ``(pad_height, pad_width)``, applied on both sides; each must be smaller than the
    input's size along that axis.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pair(padding, "padding")

    def call(self, inputs):
        ph, pw = self.padding
        return ops.pad(inputs, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        ph, pw = self.padding
        return (input_shape[0], _add(input_shape[1], 2 * ph), _add(input_shape[2], 2 * pw),
                input_shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@_register
class InstanceNormalization(keras.layers.Layer):
    """Normalizes each channel of each image over its spatial positions.

    ``y = gamma * (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon) + beta``, with per-channel
    ``gamma`` (if ``scale``) and ``beta`` (if ``center``).  Ulyanov et al. (2016) found it
    gives fast style transfer networks markedly better results than batch normalization;
    it behaves the same in training and inference.

    Because the statistics are per image, cutting an image into tiles would normalize
    each tile differently.  :func:`keras_style.tiling.apply` therefore records the
    whole image's statistics first (``record_statistics``) and then runs the tiles with
    them held fixed (``fixed_statistics``); both are run-time switches, not configuration.
    """

    def __init__(self, epsilon=1e-5, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.record_statistics = False
        self.recorded_statistics = None
        self.fixed_statistics = None

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("InstanceNormalization needs a known number of channels.")
        self.gamma = (self.add_weight(shape=(channels,), initializer="ones", name="gamma")
                      if self.scale else None)
        self.beta = (self.add_weight(shape=(channels,), initializer="zeros", name="beta")
                     if self.center else None)

    def statistics(self, x):
        """Per-image, per-channel ``(mean, var)`` of float32 ``x`` (or the fixed ones, when
        tiling), recording them when asked."""
        if self.fixed_statistics is not None:
            return self.fixed_statistics
        mean, var = ops.moments(x, axes=(1, 2), keepdims=True)
        if self.record_statistics:
            self.recorded_statistics = (mean, var)
        return mean, var

    def normalize(self, x):
        """``(x - mean) / sqrt(var + epsilon)`` in float32, with :meth:`statistics`."""
        x = ops.cast(x, "float32")
        mean, var = self.statistics(x)
        return (x - mean) * ops.rsqrt(var + self.epsilon)

    def call(self, inputs):
        y = self.normalize(inputs)
        if self.gamma is not None:
            y = y * ops.cast(self.gamma, "float32")
        if self.beta is not None:
            y = y + ops.cast(self.beta, "float32")
        return ops.cast(y, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}


@_register
class ConditionalInstanceNormalization(InstanceNormalization):
    """Instance normalization whose scale and shift come from a style, not from weights.

    Called on ``[x, scale, shift]``: ``x`` is ``(batch, height, width, channels)``,
    ``scale`` and ``shift`` are ``(batch, channels)`` (one row per image), and the result
    is ``scale * (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon) + shift``.  This is the
    layer that lets one network paint many styles: Dumoulin et al. (2017) keep a table of
    scales and shifts, one row per style (a mix of rows mixes the styles); Ghiasi et al.
    (2017) predict them from any painting.  Both are a :class:`StyleProjection` of a
    style code feeding this layer.  Whole-image statistics for tiling work as in
    :class:`InstanceNormalization`.  No weights of its own.
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        kwargs.pop("center", None)
        kwargs.pop("scale", None)
        super().__init__(epsilon=epsilon, center=False, scale=False, **kwargs)

    def build(self, input_shape):
        shape = input_shape[0]
        if shape[-1] is None:
            raise ValueError("ConditionalInstanceNormalization needs a known number of "
                             "channels.")
        for other in input_shape[1:]:
            if other[-1] is not None and other[-1] != shape[-1]:
                raise ValueError(f"scale and shift must have {shape[-1]} channels, got "
                                 f"{other[-1]}.")

    def call(self, inputs):
        x, scale, shift = inputs
        v = ops.cast(x, "float32")
        mean, var = self.statistics(v)
        # folded into one multiply-add per pixel: a = scale / sqrt(var + eps),
        # b = shift - mean * a (the unfolded form made four full-size passes)
        a = ops.cast(scale, "float32")[:, None, None, :] * ops.rsqrt(var + self.epsilon)
        b = ops.cast(shift, "float32")[:, None, None, :] - mean * a
        return ops.cast(v * a + b, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.pop("center", None)
        config.pop("scale", None)
        return config


@_register
class StyleProjection(keras.layers.Dense):
    """Maps a style code ``(batch, code_size)`` to per-channel values ``(batch, channels)``.

    A ``Dense`` layer under its own name, so a model's style paths are easy to find (and to
    train alone, as in Dumoulin et al.'s fine-tuning).  With ``use_bias=False`` and a
    one-hot or convex-weight code its kernel is a table of per-style values: the rows of a
    multi-style network; with a bias it is the 1×1 convolution of Ghiasi et al.'s network
    from the 100-number style vector.
    """


@_register
class StyleCode(keras.layers.Layer):
    """A learnable style code: returns its ``(size,)`` weight repeated for every image.

    Called on any batch-first tensor (usually the image), it gives ``(batch, size)``, so a
    conditional network with a fixed style becomes a one-input model: apply it, tile it,
    export it or fine-tune the code like any other network.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def build(self, input_shape):
        self.code = self.add_weight(shape=(self.size,), initializer="zeros", name="code")

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        return ops.broadcast_to(ops.cast(self.code, "float32")[None, :], (batch, self.size))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def make_normalization(kind: str, name: str | None = None):
    """``"batch"`` → BatchNormalization, ``"instance"`` → InstanceNormalization,
    ``"none"`` → Identity."""
    if kind == "none":
        return keras.layers.Identity(name=name)
    if kind == "batch":
        return keras.layers.BatchNormalization(name=name)
    if kind == "instance":
        return InstanceNormalization(name=name)
    raise ValueError(f"normalization must be 'batch', 'instance' or 'none', got {kind!r}.")


@_register
class ResidualBlock(keras.layers.Layer):
    """Two 3×3 convolutions with normalization, plus a shortcut (Johnson et al. 2016).

    ``padding="valid"`` is the paper's block: both convolutions are unpadded, so the
    block shaves ``2 * (kernel_size - 1)`` pixels off height and width, and the shortcut
    is centre-cropped to match.  ``padding="reflect"`` mirrors the input before each
    convolution, so the output keeps the input's size.  ``filters`` must equal the
    input's channel count (the shortcut is the identity).
    """

    def __init__(self, filters, kernel_size=3, padding="valid", normalization="batch",
                 **kwargs):
        super().__init__(**kwargs)
        if padding not in ("valid", "reflect"):
            raise ValueError(f"padding must be 'valid' or 'reflect', got {padding!r}.")
        if padding == "reflect" and int(kernel_size) % 2 == 0:
            raise ValueError("padding='reflect' keeps the size only for odd kernel sizes, "
                             f"got {kernel_size}.")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.padding = padding
        self.normalization = normalization
        self.conv1 = keras.layers.Conv2D(self.filters, self.kernel_size, name="conv1")
        self.norm1 = make_normalization(normalization, name="norm1")
        self.conv2 = keras.layers.Conv2D(self.filters, self.kernel_size, name="conv2")
        self.norm2 = make_normalization(normalization, name="norm2")
        self.pad = (ReflectionPadding2D(self.kernel_size // 2, name="pad")
                    if padding == "reflect" else None)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.filters:
            raise ValueError(f"ResidualBlock({self.filters}) got {input_shape[-1]} channels; "
                             "the identity shortcut needs them equal.")
        shape = input_shape
        if self.pad is not None:
            shape = self.pad.compute_output_shape(shape)
        self.conv1.build(shape)
        shape = self.conv1.compute_output_shape(shape)
        self.norm1.build(shape)
        if self.pad is not None:
            shape = self.pad.compute_output_shape(shape)
        self.conv2.build(shape)
        self.norm2.build(self.conv2.compute_output_shape(shape))

    def _maybe_pad(self, x):
        return self.pad(x) if self.pad is not None else x

    def call(self, inputs, training=None):
        x = self.conv1(self._maybe_pad(inputs))
        x = ops.relu(self.norm1(x, training=training))
        x = self.conv2(self._maybe_pad(x))
        x = self.norm2(x, training=training)
        shortcut = inputs
        c = self.kernel_size - 1  # each unpadded conv shaves (k - 1) // 2 per side
        if self.padding == "valid" and c > 0:
            shortcut = inputs[:, c:-c, c:-c, :]
        return x + shortcut

    def compute_output_shape(self, input_shape):
        if self.padding == "reflect":
            return input_shape
        shave = -2 * (self.kernel_size - 1)
        return (input_shape[0], _add(input_shape[1], shave), _add(input_shape[2], shave),
                self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "padding": self.padding,
                "normalization": self.normalization}


class UpsamplingStage(keras.layers.Layer):
    """The shared part of an upsampling stage: ``upsample`` times the input's height and
    width, ``filters`` channels out, and a reflection-padded ``kernel_size`` convolution
    (odd) producing ``conv_channels()`` channels.  Subclasses say where the enlargement
    happens in :meth:`call` (:class:`UpsampleConv2D`: before the convolution;
    :class:`~keras_style.nets.superres.ShuffleConv2D`: after it, by depth-to-space)."""

    def __init__(self, filters, kernel_size=3, upsample=2, **kwargs):
        super().__init__(**kwargs)
        if int(kernel_size) % 2 == 0:
            raise ValueError(f"{type(self).__name__} needs an odd kernel_size, got "
                             f"{kernel_size}.")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.upsample = int(upsample)
        self.pad = ReflectionPadding2D(self.kernel_size // 2, name="pad")
        self.conv = keras.layers.Conv2D(self.conv_channels(), self.kernel_size, name="conv")

    def conv_channels(self) -> int:
        return self.filters

    def _enlarged(self, size):
        return None if size is None else size * self.upsample

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._enlarged(input_shape[1]), self._enlarged(input_shape[2]),
                self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "upsample": self.upsample}


@_register
class UpsampleConv2D(UpsamplingStage):
    """Upsampling (nearest-neighbour or bilinear) followed by a reflection-padded convolution.

    A transposed convolution whose kernel size is not divisible by its stride paints a
    checkerboard: output pixels receive unequal numbers of kernel taps (Odena et al.,
    "Deconvolution and Checkerboard Artifacts", 2016).  Upsampling first and then
    convolving gives every output pixel the same number of taps, so that pattern never
    appears.  Nearest-neighbour upsampling still makes blocks of ``upsample × upsample``
    equal pixels, which a trained 3×3 convolution can turn into a faint pattern of the
    block period; ``interpolation="bilinear"`` (half-pixel centres, edges clamped) enlarges
    without blocks.  The output has ``upsample`` times the input's height and width.
    """

    def __init__(self, filters, kernel_size=3, upsample=2, activation=None,
                 interpolation="nearest", **kwargs):
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}.")
        super().__init__(filters, kernel_size, upsample, **kwargs)
        self.interpolation = interpolation
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        up = (input_shape[0], self._enlarged(input_shape[1]), self._enlarged(input_shape[2]),
              input_shape[3])
        self.conv.build(self.pad.compute_output_shape(up))

    def call(self, inputs):
        x = inputs
        if self.upsample > 1 and self.interpolation == "bilinear":
            x = ResizeBy(self.upsample, "bilinear").call(x)  # TF: shapes unknown until run
        elif self.upsample > 1:
            x = ops.repeat(ops.repeat(x, self.upsample, axis=1), self.upsample, axis=2)
        return self.activation(self.conv(self.pad(x)))

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "activation": keras.activations.serialize(self.activation)}


@_register
class GramMatrix(keras.layers.Layer):
    """Channel-by-channel correlations of a feature map: the style representation.

    For features ``F`` of shape ``(batch, H, W, C)`` returns ``(batch, C, C)`` with
    ``G[c, d] = sum_{i,j} F[i, j, c] * F[i, j, d] / norm``, computed in float32, where
    ``norm`` is ``H * W`` for ``normalization="hw"`` (the TensorFlow tutorial and
    Gatys et al.'s ``1/M`` factor), ``C * H * W`` for ``"chw"`` (Johnson et al.) and 1
    for ``"none"`` (the raw Gram matrix of Gatys et al. 2015).
    """

    def __init__(self, normalization="hw", **kwargs):
        super().__init__(**kwargs)
        if normalization not in ("hw", "chw", "none"):
            raise ValueError(f"normalization must be 'hw', 'chw' or 'none', got {normalization!r}.")
        self.normalization = normalization

    def call(self, inputs):
        return gram_matrix(inputs, self.normalization)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], input_shape[-1])

    def compute_output_spec(self, inputs):
        c = inputs.shape[-1]
        return keras.KerasTensor((inputs.shape[0], c, c), dtype="float32")

    def get_config(self):
        return {**super().get_config(), "normalization": self.normalization}


def gram_matrix(features, normalization="hw"):
    """Functional form of :class:`GramMatrix` (same arguments, same normalization)."""
    x = ops.cast(features, "float32")
    gram = ops.einsum("bijc,bijd->bcd", x, x)
    if normalization == "none":
        return gram
    shape = ops.shape(x)
    norm = ops.cast(shape[1] * shape[2], "float32")
    if normalization == "chw":
        norm = norm * ops.cast(shape[3], "float32")
    return gram / norm


@_register
class ScaledTanh(keras.layers.Layer):
    """``(tanh(x) + 1) / 2``: maps any activation into the image range ``[0, 1]``.

    Johnson et al. end their network with a tanh scaled to the pixel range; with this
    package's ``[0, 1]`` convention that range is ``[0, 1]``.  Computed in float32.
    """

    def call(self, inputs):
        return (ops.tanh(ops.cast(inputs, "float32")) + 1.0) * 0.5

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="float32")


@_register
class HalvesConv2D(keras.layers.Conv2D):
    """A ``Conv2D`` that convolves the top and bottom halves of each image as one batch.

    Same weights, same result as ``keras.layers.Conv2D`` (the halves overlap by the
    kernel's reach, so no output row is lost); only the batch the backend sees is twice as
    large.  The reason is speed: with oneDNN (which this package switches on for
    TensorFlow's CPU kernels) a large-kernel convolution to a few channels on a batch of
    *one* image takes a slow path — a 9×9 convolution from 64 channels to 3 on one 256²
    image took 4.1 s, two images 0.26 s (one thread, AVX2).  That is the last layer of
    every network here, and a batch of one is how networks are applied.  The slow path is
    not limited to that layer: in the Magenta networks a 3×3 16→8 convolution at 1024² took
    210 ms as one image and 135 ms as two halves, a stride-2 3×3 32→32 188 and 97 ms.  Square
    strides (1, 2, …) with ``"valid"`` padding and no dilation are split; anything else runs
    as a plain Conv2D.
    """

    def convolution_op(self, inputs, kernel):
        s = tuple(self.strides)
        if (self.padding != "valid" or s[0] != s[1] or tuple(self.dilation_rate) != (1, 1)
                or self.data_format != "channels_last"):
            return super().convolution_op(inputs, kernel)
        k, s = self.kernel_size[0], s[0]
        shape = ops.shape(inputs)
        batch, h = shape[0], shape[1]
        out_h = (h - k) // s + 1
        top_h = (out_h + 1) // 2          # output rows taken from the top half
        rows = (top_h - 1) * s + k        # input rows each half needs
        start = (out_h - top_h) * s       # first input row of the bottom half
        both = ops.concatenate([inputs[:, :rows], inputs[:, start:start + rows]], axis=0)
        y = super().convolution_op(both, kernel)
        # the bottom half's outputs cover rows out_h - top_h ... out_h - 1
        return ops.concatenate([y[:batch], y[batch:, 2 * top_h - out_h:]], axis=1)


@_register
class ResizeBy(keras.layers.Layer):
    """Enlarges images by an integer ``factor`` (``tf.image.resize``, default bicubic).

    Unlike ``keras.layers.UpSampling2D`` it works when height and width are unknown
    until run time (a ``tf.function`` traced for any image size).  No weights.
    """

    def __init__(self, factor=2, interpolation="bicubic", **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)
        self.interpolation = interpolation

    def call(self, inputs):
        import tensorflow as tf

        shape = tf.shape(inputs)
        return tf.image.resize(inputs, [shape[1] * self.factor, shape[2] * self.factor],
                               method=self.interpolation)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, None if h is None else h * self.factor,
                None if w is None else w * self.factor, c)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "interpolation": self.interpolation}


@_register
class LinearPixels(keras.layers.Layer):
    """``scale * x + offset`` (default ``(x + 1) / 2``), clipped to ``[0, 1]`` only at inference.

    The alternative to :class:`ScaledTanh` as a network's last layer.  A tanh that
    saturates has no gradient left: a region the network once pushed to black stays
    black for the rest of training (the "black blobs" of networks trained briefly with a
    strong style weight).  This layer keeps the gradient at 1 while training — the loss
    network sees the raw values and its loss pulls them back into range — and clips when
    the network is used, so callers always get valid pixels.  Computed in float32.
    """

    def __init__(self, scale=0.5, offset=0.5, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.offset = float(offset)

    def call(self, inputs, training=None):
        y = ops.cast(inputs, "float32") * self.scale + self.offset
        return y if training else ops.clip(y, 0.0, 1.0)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, training=None):
        return keras.KerasTensor(inputs.shape, dtype="float32")


@_register
class PadToMultiple(keras.layers.Layer):
    """Reflection-pads height and width at the bottom/right up to a multiple of ``multiple``.

    Networks that downsample by 4 and upsample by 4 only reproduce the input size when
    it is a multiple of 4; pair with :class:`CropLike` to cut the result back.
    """

    def __init__(self, multiple=4, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        shape = ops.shape(inputs)
        m = self.multiple
        ph = (m - shape[1] % m) % m
        pw = (m - shape[2] % m) % m
        return ops.pad(inputs, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        def up(s):
            return None if s is None else -(-s // self.multiple) * self.multiple
        return (input_shape[0], up(input_shape[1]), up(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@_register
class CropLike(keras.layers.Layer):
    """Crops its first input to the height and width of its second (top-left anchored)."""

    def call(self, inputs):
        x, ref = inputs
        shape = ops.shape(ref)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shapes):
        x, ref = input_shapes
        return (x[0], ref[1], ref[2], x[3])
