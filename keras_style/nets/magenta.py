"""Pretrained networks from Google's Magenta project, rebuilt in Keras.

Two networks of the conditional-instance-normalization family, converted from their
published weights by ``tools/checkpoint_conversion/convert_magenta.py``:

``arbitrary``
    Ghiasi et al. (2017), "Exploring the structure of a real-time, arbitrary neural
    artistic stylization network": a MobileNetV2 *style predictor* maps any painting to a
    100-number style vector; a small Johnson-style *transformer* turns a photo into that
    style, its instance-normalization scales and shifts computed from the vector.
``multistyle26``
    Dumoulin et al. (2017), "A learned representation for artistic style": one transformer
    with a table of 26 rows of scales and shifts, one row per style; a convex mix of rows
    mixes the styles.

Both transformers take a photo ``(B, H, W, 3)`` in ``[0, 1]`` of any size (sides that are
not multiples of 4 are reflection-padded and the result cropped back) and a style code
``(B, code_size)``; they return ``(B, H, W, 3)`` in ``[0, 1]``.  :func:`fixed_style`
turns either into a one-input network for one style code (tiling, export, fine-tuning).
"""

from __future__ import annotations

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import keras

from keras_style.layers import (ConditionalInstanceNormalization, CropLike, HalvesConv2D,
                                PadToMultiple, ReflectionPadding2D, StyleCode, StyleProjection)

#: the two transformers' shapes (the ``architecture`` entry of their JSON)
ARBITRARY = {"contract": [8, 16, 32], "contract_norm": "none", "residual_blocks": 5,
             "expand": [16, 8], "conv_bias": True, "code_size": 100, "projection_bias": True}
MULTISTYLE = {"contract": [32, 32, 32], "contract_norm": "conditional", "residual_blocks": 6,
              "expand": [8, 4], "conv_bias": False, "code_size": 26, "projection_bias": False}

#: MobileNetV2's inverted-residual stages: (expansion, channels, repeats, first stride)
MOBILENET_V2 = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))
STYLE_VECTOR_SIZE = 100


def _conditional_norm(x, code, channels, name, bias):
    scale = StyleProjection(channels, use_bias=bias, name=f"{name}_scale")(code)
    shift = StyleProjection(channels, use_bias=bias, name=f"{name}_shift")(code)
    return ConditionalInstanceNormalization(name=name)([x, scale, shift])


def _conv(x, filters, kernel, stride, bias, name):
    # HalvesConv2D: a Conv2D (same weights, same result) that sidesteps oneDNN's slow path
    # for a batch of one image, which is how these networks are applied
    x = ReflectionPadding2D(kernel // 2, name=f"{name}_pad")(x)
    return HalvesConv2D(filters, kernel, strides=stride, use_bias=bias, name=f"{name}_conv")(x)


def build_conditional_transformer(config: dict, name: str = "transformer") -> keras.Model:
    """The transformer of either network: ``[photo, style code] -> stylized photo``.

    Contraction (9×9 then two stride-2 3×3 convolutions, ReLU; conditionally normalized when
    ``contract_norm == "conditional"``), ``residual_blocks`` residual blocks (3×3 conv,
    conditional IN, ReLU, 3×3 conv, conditional IN, plus the input), two ×2 nearest
    upsamplings each followed by a 3×3 conv, conditional IN and ReLU, then a 9×9 conv to RGB,
    conditional IN and a sigmoid.  Every convolution is reflection-padded.
    """
    c = {**config}
    bias, proj_bias = bool(c["conv_bias"]), bool(c["projection_bias"])
    if c["contract_norm"] not in ("none", "conditional"):
        raise ValueError(f"contract_norm must be 'none' or 'conditional', got "
                         f"{c['contract_norm']!r}.")
    image = keras.Input((None, None, 3), name="image")
    code = keras.Input((int(c["code_size"]),), name="style_code")
    x = PadToMultiple(4, name="pad_to_multiple")(image)
    for i, (filters, kernel, stride) in enumerate(
            zip(c["contract"], (9, 3, 3), (1, 2, 2)), start=1):
        x = _conv(x, filters, kernel, stride, bias, f"contract{i}")
        if c["contract_norm"] == "conditional":
            x = _conditional_norm(x, code, filters, f"contract{i}_norm", proj_bias)
        x = keras.layers.ReLU(name=f"contract{i}_relu")(x)
    width = c["contract"][-1]
    for i in range(1, int(c["residual_blocks"]) + 1):
        y = _conv(x, width, 3, 1, bias, f"residual{i}_1")
        y = _conditional_norm(y, code, width, f"residual{i}_norm1", proj_bias)
        y = keras.layers.ReLU(name=f"residual{i}_relu")(y)
        y = _conv(y, width, 3, 1, bias, f"residual{i}_2")
        y = _conditional_norm(y, code, width, f"residual{i}_norm2", proj_bias)
        x = keras.layers.Add(name=f"residual{i}_add")([x, y])
    for i, filters in enumerate(c["expand"], start=1):
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"expand{i}_up")(x)
        x = _conv(x, filters, 3, 1, bias, f"expand{i}")
        x = _conditional_norm(x, code, filters, f"expand{i}_norm", proj_bias)
        x = keras.layers.ReLU(name=f"expand{i}_relu")(x)
    last = len(c["expand"]) + 1
    x = _conv(x, 3, 9, 1, bias, f"expand{last}")
    x = _conditional_norm(x, code, 3, f"expand{last}_norm", proj_bias)
    x = keras.layers.Activation("sigmoid", name="to_pixels", dtype="float32")(x)
    out = CropLike(name="crop_to_input")([x, image])
    return keras.Model([image, code], out, name=name)


def build_style_predictor(name: str = "style_predictor") -> keras.Model:
    """Ghiasi et al.'s style predictor: MobileNetV2 (width 1.0, batch normalization folded
    into the convolutions' biases, as in the published graph), global average pooling and a
    linear map to the 100-number style vector.  Input: a painting ``(B, H, W, 3)`` in
    ``[0, 1]`` (trained at 256×256); output ``(B, 100)``.

    ``keras.applications.MobileNetV2`` is not used: its batch-normalization layers would
    have to imitate the folded biases, and its names would not say which block is which.
    """
    relu6 = dict(max_value=6.0)
    painting = keras.Input((None, None, 3), name="painting")
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", name="stem_conv")(painting)
    x = keras.layers.ReLU(**relu6, name="stem_relu")(x)
    channels, block = 32, 0
    for expansion, out_channels, repeats, first_stride in MOBILENET_V2:
        for r in range(repeats):
            stride = first_stride if r == 0 else 1
            y = x
            if expansion != 1:
                y = keras.layers.Conv2D(channels * expansion, 1,
                                        name=f"block{block}_expand")(y)
                y = keras.layers.ReLU(**relu6, name=f"block{block}_expand_relu")(y)
            y = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same",
                                             name=f"block{block}_depthwise")(y)
            y = keras.layers.ReLU(**relu6, name=f"block{block}_depthwise_relu")(y)
            y = keras.layers.Conv2D(out_channels, 1, name=f"block{block}_project")(y)
            if stride == 1 and channels == out_channels:
                y = keras.layers.Add(name=f"block{block}_add")([x, y])
            x, channels, block = y, out_channels, block + 1
    x = keras.layers.Conv2D(1280, 1, name="head_conv")(x)
    x = keras.layers.ReLU(**relu6, name="head_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    vector = keras.layers.Dense(STYLE_VECTOR_SIZE, name="style_vector")(x)
    return keras.Model(painting, vector, name=name)


def build_arbitrary(config: dict | None = None) -> keras.Model:
    """Predictor and transformer in one model (the unit saved in ``arbitrary.weights.h5``):
    ``[painting, photo] -> stylized photo``.  Use its parts, ``get_layer("style_predictor")``
    and ``get_layer("transformer")``, separately: the style vector of a painting is worth
    computing once."""
    predictor = build_style_predictor()
    transformer = build_conditional_transformer(config or ARBITRARY)
    painting = keras.Input((None, None, 3), name="painting")
    photo = keras.Input((None, None, 3), name="photo")
    out = transformer([photo, predictor(painting)])
    return keras.Model([painting, photo], out, name="arbitrary")


def build_multistyle(config: dict | None = None) -> keras.Model:
    """The 26-style transformer: ``[photo, style weights (B, 26)] -> stylized photo``."""
    return build_conditional_transformer(config or MULTISTYLE, name="multistyle26")


def fixed_style(transformer: keras.Model, code=None, name: str | None = None) -> keras.Model:
    """A one-input network ``photo -> stylized photo``: ``transformer`` with its style code
    held in a :class:`~keras_style.layers.StyleCode` weight (layer ``"style_code"``).

    Assigning a new code (``model.get_layer("style_code").code.assign(v)``) changes the
    style without rebuilding or retracing anything; training the model trains the code
    along with whatever else is trainable.
    """
    size = transformer.inputs[1].shape[-1]
    photo = keras.Input((None, None, 3), name="image")
    holder = StyleCode(size, name="style_code")
    out = transformer([photo, holder(photo)])
    model = keras.Model(photo, out, name=name or f"{transformer.name}_fixed")
    if code is not None:
        holder.code.assign(keras.ops.convert_to_tensor(code, "float32"))
    return model


def build_fixed_style(config: dict, name: str | None = None) -> keras.Model:
    """An untrained :func:`fixed_style` network of a transformer ``config`` (the family of
    networks fine-tuned from a Magenta network: one input, the style code a weight)."""
    transformer = build_conditional_transformer(config)
    return fixed_style(transformer, name=name)
