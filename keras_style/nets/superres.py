"""Super-resolution networks (Johnson et al. 2016, supplementary material), built from our
registered layers: :func:`build_super_resolution` and the shipped configuration
:func:`sr_architecture`; :class:`ShuffleConv2D`, the sub-pixel convolution upsampling stage.
"""

from __future__ import annotations

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import keras
import numpy as np
from keras import ops

from keras_style.layers import (HalvesConv2D, LinearPixels, ReflectionPadding2D, ResidualBlock,
                                ResizeBy, ScaledTanh, UpsampleConv2D, UpsamplingStage,
                                make_normalization)
from keras_style.nets import SR_UPSAMPLINGS

SR_FACTORS = (2, 4, 8)


@keras.saving.register_keras_serializable(package="keras_style")
class ShuffleConv2D(UpsamplingStage):
    """Sub-pixel convolution (Shi et al. 2016) with ICNR initialization (Aitken et al. 2017).

    A reflection-padded convolution at the *input* resolution to ``filters * upsample²``
    channels, then depth-to-space: each group of ``upsample²`` channels becomes one
    ``upsample × upsample`` block of output pixels, so every output phase has its own
    weights, computed at a quarter of the cost of convolving the enlarged image (for
    ``upsample=2``).  Randomly initialized, the phases differ and paint a grid of the
    output period; ICNR initializes the ``upsample²`` copies of each output channel to the
    same kernel, so the untrained layer is exactly nearest-neighbour upsampling of one
    convolution, with no pattern within a block, and training moves the phases apart only
    as far as the loss asks.  ``kernel_initializer`` draws that one kernel.  The output has
    ``upsample`` times the input's height and width and ``filters`` channels.
    """

    def __init__(self, filters, kernel_size=3, upsample=2, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(filters, kernel_size, upsample, **kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def conv_channels(self) -> int:
        return self.filters * self.upsample ** 2

    def build(self, input_shape):
        self.conv.build(self.pad.compute_output_shape(input_shape))
        # ICNR: one kernel per output channel, tiled over the upsample² phases in the
        # channel order of depth_to_space (channel (i * r + j) * filters + c is the output
        # pixel (i, j) of the block, channel c).  Loading weights later overwrites it.
        k, r = self.kernel_size, self.upsample
        base = self.kernel_initializer((k, k, int(input_shape[-1]), self.filters))
        self.conv.kernel.assign(ops.tile(base, (1, 1, 1, r * r)))

    def call(self, inputs):
        x = self.conv(self.pad(inputs))
        return ops.depth_to_space(x, self.upsample) if self.upsample > 1 else x

    def get_config(self):
        return {**super().get_config(),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def build_super_resolution(factor: int = 4, width: int = 64, residual_blocks: int = 4,
                           normalization: str = "batch", upsampling: str = "nearest",
                           skip: str = "none", output: str = "tanh",
                           name: str | None = None) -> keras.Model:
    """The super-resolution network of Johnson et al. (2016), supplementary material.

    A 9×9 convolution, ``residual_blocks`` same-size residual blocks at the low resolution,
    ``log2(factor)`` ×2 upsampling stages, then a 9×9 convolution to RGB.  The stages are
    nearest-upsample + conv by default (:class:`~keras_style.layers.UpsampleConv2D`),
    bilinear-upsample + conv (resize-convolution) with ``upsampling="bilinear"``, the
    paper's fractionally-strided convolutions with ``upsampling="transpose"``, or sub-pixel
    convolutions with ICNR initialization with ``upsampling="shuffle"``
    (:class:`ShuffleConv2D`).  Input: the low-resolution image in ``[0, 1]`` of any size;
    output: ``factor`` times larger, in ``[0, 1]``.

    The keyword defaults are the paper's network (batch normalization, scaled tanh).
    :func:`sr_architecture` — what ``python -m keras_style.train --task super-resolution``
    trains — changes three things so a network learns in hundreds of steps rather than the
    paper's 200,000: ``skip="bicubic"`` adds the bicubic enlargement of the input to the
    last convolution (initialized to zero, so an untrained network *is* bicubic and
    training only learns the missing detail); ``output="linear"`` (clipped at inference:
    see :class:`~keras_style.layers.LinearPixels`); and ``normalization="none"``, as in
    later super-resolution networks (EDSR, Lim et al. 2017): batch statistics of a few
    patches shift the colours of a barely trained network.
    """
    if factor not in SR_FACTORS:
        raise ValueError(f"factor must be one of {SR_FACTORS}, got {factor!r}.")
    if skip not in ("none", "bicubic"):
        raise ValueError(f"skip must be 'none' or 'bicubic', got {skip!r}.")
    inputs = keras.Input(shape=(None, None, 3), name="low_res")
    x = ReflectionPadding2D(4, name="in_pad")(inputs)
    x = keras.layers.Conv2D(width, 9, name="in_conv")(x)
    x = make_normalization(normalization, name="in_norm")(x)
    x = keras.layers.ReLU(name="in_relu")(x)
    for i in range(1, residual_blocks + 1):
        x = ResidualBlock(width, padding="reflect", normalization=normalization,
                          name=f"residual{i}")(x)
    for i in range(1, factor.bit_length()):
        if upsampling == "transpose":
            x = keras.layers.Conv2DTranspose(width, 3, strides=2, padding="same",
                                             name=f"up{i}_conv")(x)
        elif upsampling in ("nearest", "bilinear"):
            x = UpsampleConv2D(width, 3, upsample=2, interpolation=upsampling,
                               name=f"up{i}_conv")(x)
        elif upsampling == "shuffle":
            x = ShuffleConv2D(width, 3, upsample=2, name=f"up{i}_conv")(x)
        else:
            raise ValueError(f"upsampling must be one of {', '.join(SR_UPSAMPLINGS)}, got "
                             f"{upsampling!r}.")
        x = make_normalization(normalization, name=f"up{i}_norm")(x)
        x = keras.layers.ReLU(name=f"up{i}_relu")(x)
    x = ReflectionPadding2D(4, name="out_pad")(x)
    if skip == "bicubic":
        x = HalvesConv2D(3, 9, kernel_initializer="zeros", name="out_conv")(x)
        base = ResizeBy(factor, "bicubic", name="bicubic")(inputs)
        x = keras.layers.Add(name="add_bicubic")([base, x])
        scale, offset = 1.0, 0.0
    else:
        x = HalvesConv2D(3, 9, name="out_conv")(x)
        scale, offset = 0.5, 0.5
    if output == "tanh":
        if skip != "none":
            raise ValueError("output='tanh' needs skip='none'.")
        outputs = ScaledTanh(name="to_pixels")(x)
    elif output == "linear":
        outputs = LinearPixels(scale, offset, name="to_pixels")(x)
    else:
        raise ValueError(f"output must be 'tanh' or 'linear', got {output!r}.")
    return keras.Model(inputs, outputs, name=name or f"sr_x{factor}")


def sr_architecture(factor: int, **overrides) -> dict:
    """The JSON ``architecture`` entry of a super-resolution network."""
    arch = {"factor": int(factor), "width": 64, "residual_blocks": 4,
            "normalization": "none", "upsampling": "nearest", "skip": "bicubic",
            "output": "linear"}
    arch.update(overrides)
    return arch


GROWABLE_UPSAMPLINGS = ("nearest", "bilinear")


def growth_problem(source: dict, target: dict) -> str | None:
    """Why a network of architecture ``source`` cannot start one of ``target`` by
    :func:`grow_super_resolution` (a sentence), or ``None`` when it can."""
    fixed = ("width", "normalization", "upsampling", "skip", "output")
    differ = [k for k in fixed if source.get(k) != target.get(k)]
    if differ:
        return "its " + ", ".join(f"{k} is {source.get(k)!r}, not {target.get(k)!r}"
                                  for k in differ)
    if source.get("factor") != target.get("factor") and (
            target.get("upsampling") not in GROWABLE_UPSAMPLINGS or target.get("skip") != "bicubic"):
        return (f"only a network with {' or '.join(GROWABLE_UPSAMPLINGS)} stages and a bicubic "
                "skip can start one of another factor")
    if int(target["factor"]) < int(source["factor"]):
        return f"it is x{source['factor']}, larger than x{target['factor']}"
    if int(target["residual_blocks"]) < int(source["residual_blocks"]):
        return (f"it has {source['residual_blocks']} residual blocks, more than "
                f"{target['residual_blocks']}")
    return None


def grow_super_resolution(source: keras.Model, source_arch: dict, target_arch: dict):
    """A network of ``target_arch`` that starts from the trained ``source``: ``(model,
    report)``.

    Every layer the two share (same name, same weight shapes) is copied.  Residual blocks
    the source lacks are added after its own with their second convolution at zero, so they
    pass their input through unchanged; upsampling stages it lacks (a larger factor) start
    as pure upsampling of the features (identity kernel).  With the factor unchanged the
    grown network computes what ``source`` does.  With a larger factor the last convolution
    starts at zero, so the network starts as bicubic enlargement, as an untrained one does,
    but on the source's trained features, which it learns to read out at the new scale.
    ``report`` lists what was copied and what was added (for the JSON).
    """
    problem = growth_problem(source_arch, target_arch)
    if problem:
        raise ValueError(f"cannot grow this network: {problem}.")
    model = build_super_resolution(**target_arch)
    copied, added = [], []
    new_factor = int(target_arch["factor"]) != int(source_arch["factor"])
    for layer in model.layers:
        if not layer.weights:
            continue
        try:
            old = source.get_layer(layer.name)
        except ValueError:
            old = None
        if layer.name == "out_conv" and new_factor:
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            added.append(f"{layer.name} (zero: starts as bicubic)")
        elif old is not None and [w.shape for w in old.get_weights()] == [
                w.shape for w in layer.get_weights()]:
            layer.set_weights(old.get_weights())
            copied.append(layer.name)
        elif isinstance(layer, ResidualBlock):
            layer.conv2.set_weights([np.zeros_like(w) for w in layer.conv2.get_weights()])
            added.append(f"{layer.name} (identity)")
        elif isinstance(layer, UpsampleConv2D):
            kernel, bias = layer.conv.get_weights()
            k = kernel.shape[0] // 2
            identity = np.zeros_like(kernel)
            identity[k, k] = np.eye(kernel.shape[2], kernel.shape[3], dtype=kernel.dtype)
            layer.conv.set_weights([identity, np.zeros_like(bias)])
            added.append(f"{layer.name} (identity: upsamples the features)")
        else:
            raise ValueError(f"cannot grow this network: no rule for its layer {layer.name}.")
    return model, {"copied": copied, "added": added}
