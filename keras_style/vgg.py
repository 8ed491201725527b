"""The frozen loss network: VGG19 as a feature extractor.

:func:`loss_network` returns a Keras functional model that takes RGB images in
``[0, 1]`` (any height and width of at least 32 px), does VGG's own preprocessing inside
(scale to ``[0, 255]``, RGB→BGR, subtract the ImageNet mean) and returns a dict of the
activations of the layers you name.  It is built only up to the deepest named layer, so
asking for ``block2_conv2`` costs two blocks, not nineteen layers.  It is never
trainable.

Layer names are Keras's (``block4_conv2``); the papers' names are accepted too
(``conv4_2``, ``relu4_2``: Keras's VGG convolutions include the ReLU).
"""

from __future__ import annotations

import re

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import keras
from keras import ops

from keras_style.errors import WeightsError
from keras_style.vgg_weights import ensure_vgg19_weights

# The VGG19 convolutional stack: (block, number of convolutions, filters).
_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))
LAYER_NAMES = tuple(
    name
    for block, convs, _ in _BLOCKS
    for name in [f"block{block}_conv{i}" for i in range(1, convs + 1)] + [f"block{block}_pool"]
)
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="keras_style")
class VGGPreprocess(keras.layers.Layer):
    """``[0, 1]`` RGB → VGG's input: ``[0, 255]`` BGR minus the ImageNet channel means.

    Same arithmetic as ``keras.applications.vgg19.preprocess_input`` (``caffe`` mode),
    but as a graph op on a tensor, so it never modifies a caller's NumPy array.
    """

    def call(self, inputs):
        x = ops.cast(inputs, "float32") * 255.0
        x = ops.flip(x, axis=-1)
        return ops.cast(x - ops.convert_to_tensor(IMAGENET_BGR_MEAN, "float32"), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def canonical_layer_name(name: str) -> str:
    """``conv4_2`` / ``relu4_2`` / ``pool3`` → ``block4_conv2`` / ``block3_pool``."""
    if name in LAYER_NAMES:
        return name
    m = re.fullmatch(r"(?:conv|relu)(\d)_(\d)", name)
    if m:
        candidate = f"block{m.group(1)}_conv{m.group(2)}"
    else:
        m = re.fullmatch(r"pool(\d)", name)
        candidate = f"block{m.group(1)}_pool" if m else name
    if candidate not in LAYER_NAMES:
        raise ValueError(f"unknown VGG19 layer {name!r}; use names like block4_conv2 or conv4_2.")
    return candidate


_weights_cache: dict[str, list] = {}


def _imagenet_weights(weights: str) -> dict[str, list]:
    """Per-layer weights of keras.applications.VGG19 loaded from ``weights``."""
    if weights not in _weights_cache:
        path = str(ensure_vgg19_weights()) if weights == "imagenet" else weights
        try:
            reference = keras.applications.VGG19(include_top=False, weights=path,
                                                 input_shape=(None, None, 3))
        except Exception as exc:  # keras raises several types for a foreign h5 file
            raise WeightsError(f"{path} is not a VGG19 (no top) weights file: {exc}") from None
        _weights_cache[weights] = {layer.name: layer.get_weights() for layer in reference.layers
                                   if layer.get_weights()}
    return _weights_cache[weights]


def loss_network(layers, pooling: str = "max", weights: str | None = "imagenet",
                 dtype=None, name: str = "vgg19_loss_network") -> keras.Model:
    """Build the frozen VGG19 feature extractor.

    Args:
        layers: names of the layers whose activations the model returns (a dict keyed by
            the names as given).
        pooling: ``"max"`` (VGG as trained) or ``"avg"`` (Gatys et al.: average pooling
            gives smoother gradients; the weights are unchanged).
        weights: ``"imagenet"`` (provisioned automatically), ``None`` (random, for fast
            tests) or the path of a VGG19 notop weights file.
        dtype: optional Keras dtype policy, e.g. ``"mixed_bfloat16"``; outputs are float32.
    """
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}.")
    requested = list(dict.fromkeys(layers))
    if not requested:
        raise ValueError("ask the loss network for at least one layer.")
    canonical = {name: canonical_layer_name(name) for name in requested}
    deepest = max(LAYER_NAMES.index(c) for c in canonical.values())

    inputs = keras.Input(shape=(None, None, 3), name="image")
    x = VGGPreprocess(name="preprocess", dtype=dtype)(inputs)
    tensors = {}
    for layer_name in LAYER_NAMES[: deepest + 1]:
        block = int(layer_name[5])
        if layer_name.endswith("pool"):
            pool = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
            x = pool(2, strides=2, name=layer_name, dtype=dtype)(x)
        else:
            filters = _BLOCKS[block - 1][2]
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu",
                                    name=layer_name, dtype=dtype)(x)
        tensors[layer_name] = x
    outputs = {name: keras.layers.Activation("linear", dtype="float32", name=f"{name}_out")(
        tensors[c]) for name, c in canonical.items()}
    model = keras.Model(inputs, outputs, name=name)
    if weights is not None:
        stored = _imagenet_weights(weights)
        for layer in model.layers:
            if layer.name in stored:
                layer.set_weights(stored[layer.name])
    model.trainable = False
    return model
