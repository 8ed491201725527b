"""Style networks we train: the image transformation networks of Johnson et al. (2016),
built from our registered layers.

:func:`build_transformer` builds the talk's network (slide 6) and named variants:

=================  ===========================================================
``johnson``        exactly the slide: reflection padding 40, 9×9/32, 3×3/64 s2, 3×3/128 s2,
                   five unpadded residual blocks (shortcut centre-cropped), two
                   fractionally-strided (transposed) convolutions 64 and 32, 9×9/3, batch
                   normalization, scaled tanh.
``johnson_in``     the same with instance normalization (Ulyanov et al. 2016).
``johnson_up``     instance normalization and nearest-upsample + conv instead of transposed
                   convs (no checkerboard artifacts), and a linear output clipped at
                   inference instead of the tanh (a saturated tanh has no gradient, and
                   short trainings leave flat black blobs in dark regions).
``light``          ``johnson_up`` at half width (16-32-64 filters): about 4× fewer FLOPs.
``light_skip``     ``light`` plus the photo itself added to the output, with the last
                   convolution starting at zero: the untrained network returns the photo
                   unchanged, and training learns the change the painting asks for (the
                   trick that let our super-resolution networks learn on a CPU budget).
                   Experimental: in a 300-step test it kept the photo far better than
                   ``light`` but learnt the style more slowly (``weights/README.md``).
=================  ===========================================================

Every variant takes ``(None, None, None, 3)`` images in ``[0, 1]`` and returns images in
``[0, 1]`` of the input's height and width: inputs whose sides are not multiples of 4 are
reflection-padded and the output is cropped back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import keras

from keras_style.layers import (CropLike, HalvesConv2D, LinearPixels, PadToMultiple,
                                ReflectionPadding2D, ResidualBlock, ScaledTanh, UpsampleConv2D,
                                make_normalization)


@dataclass(frozen=True)
class Architecture:
    """The knobs that define a style network; stored in each weights' JSON."""

    normalization: str = "batch"   # "batch" | "instance"
    upsampling: str = "transpose"  # "transpose" | "nearest"
    width: int = 32                # filters of the first conv; then 2×, 4×
    residual_blocks: int = 5
    padding: int = 40              # reflection padding at the input
    output: str = "tanh"           # "tanh" (the paper) | "linear" (clipped at inference)
    skip: str = "none"             # "none" | "input": add the photo to the (linear) output

    def to_dict(self):
        return asdict(self)


ARCHITECTURES = {
    "johnson": Architecture(),
    "johnson_in": Architecture(normalization="instance"),
    "johnson_up": Architecture(normalization="instance", upsampling="nearest", output="linear"),
    "light": Architecture(normalization="instance", upsampling="nearest", width=16,
                          output="linear"),
    "light_skip": Architecture(normalization="instance", upsampling="nearest", width=16,
                               output="linear", skip="input"),
}


def get_architecture(arch) -> Architecture:
    if isinstance(arch, Architecture):
        return arch
    if isinstance(arch, dict):
        return Architecture(**arch)
    try:
        return ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; choose one of "
                         f"{', '.join(ARCHITECTURES)}.") from None


def min_input_size(arch) -> int:
    """Smallest side the network accepts (the 40-px reflection needs 41 px)."""
    return max(get_architecture(arch).padding + 1, 32)


def _conv_block(x, filters, kernel, stride, norm, name, relu=True):
    x = keras.layers.Conv2D(filters, kernel, strides=stride,
                            padding="same" if stride > 1 else "valid", name=f"{name}_conv")(
        ReflectionPadding2D(kernel // 2, name=f"{name}_pad")(x) if stride == 1 else x)
    x = make_normalization(norm, name=f"{name}_norm")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def build_transformer(arch="johnson", name: str | None = None) -> keras.Model:
    """Build an untrained image transformation network of the named architecture."""
    a = get_architecture(arch)
    if a.skip not in ("none", "input"):
        raise ValueError(f"skip must be 'none' or 'input', got {a.skip!r}.")
    if a.skip == "input" and a.output != "linear":
        raise ValueError("skip='input' needs output='linear' (the photo is added before the "
                         "final clip, which a tanh cannot express).")
    w = a.width
    inputs = keras.Input(shape=(None, None, 3), name="image")
    padded = x = PadToMultiple(4, name="pad_to_multiple")(inputs)
    x = ReflectionPadding2D(a.padding, name="reflection_pad")(x) if a.padding else x
    x = _conv_block(x, w, 9, 1, a.normalization, "down1")
    x = _conv_block(x, 2 * w, 3, 2, a.normalization, "down2")
    x = _conv_block(x, 4 * w, 3, 2, a.normalization, "down3")
    res_padding = "valid" if a.padding else "reflect"
    for i in range(1, a.residual_blocks + 1):
        x = ResidualBlock(4 * w, padding=res_padding, normalization=a.normalization,
                          name=f"residual{i}")(x)
    for i, filters in enumerate((2 * w, w), start=1):
        if a.upsampling == "transpose":
            x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                             name=f"up{i}_conv")(x)
        elif a.upsampling == "nearest":
            x = UpsampleConv2D(filters, 3, upsample=2, name=f"up{i}_conv")(x)
        else:
            raise ValueError(f"upsampling must be 'transpose' or 'nearest', got {a.upsampling!r}.")
        x = make_normalization(a.normalization, name=f"up{i}_norm")(x)
        x = keras.layers.ReLU(name=f"up{i}_relu")(x)
    x = ReflectionPadding2D(4, name="out_pad")(x)
    zero = a.skip == "input"  # the residual starts at zero: the untrained network is identity
    x = HalvesConv2D(3, 9, name="out_conv", kernel_initializer="zeros" if zero else
                     "glorot_uniform")(x)
    if a.skip == "input":
        # LinearPixels maps v to (v + 1) / 2, so add the photo as 2·photo - 1
        photo = keras.layers.Rescaling(2.0, offset=-1.0, name="skip_scale")(padded)
        x = keras.layers.Add(name="skip_add")([x, photo])
    if a.output == "tanh":
        x = ScaledTanh(name="to_pixels")(x)
    elif a.output == "linear":
        x = LinearPixels(name="to_pixels")(x)
    else:
        raise ValueError(f"output must be 'tanh' or 'linear', got {a.output!r}.")
    outputs = CropLike(name="crop_to_input")([x, inputs])
    if name is None:
        name = arch if isinstance(arch, str) else "transformer"
    return keras.Model(inputs, outputs, name=name)
