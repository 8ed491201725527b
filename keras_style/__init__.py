"""keras_style: neural style transfer for Keras 3 (Gatys et al. 2015, Johnson et al. 2016).

Images are float32 arrays ``(H, W, 3)``, RGB, in ``[0, 1]`` throughout the package.

>>> import keras_style
>>> out = keras_style.style_transfer("photo.jpg", "painting.jpg", size=256, steps=100)
>>> keras_style.save_image(out, "stylized.jpg")
>>> out = keras_style.arbitrary_stylize("photo.jpg", "painting.jpg")   # any painting, fast
>>> net = keras_style.load_model("starry_night")        # a shipped fast-style network

The top-level names are imported on first use, so ``import keras_style`` (and every
``--help``) stays fast; TensorFlow is imported, quietly, when first needed.
"""

import importlib
import os

__version__ = "0.1.0"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_EXPORTS = {
    "style_transfer": "keras_style.gatys",
    "StepInfo": "keras_style.gatys",
    "GatysOptimizer": "keras_style.gatys",
    "load_image": "keras_style.image",
    "save_image": "keras_style.image",
    "PRESETS": "keras_style.gatys",
    "LossConfig": "keras_style.losses",
    "PerceptualLoss": "keras_style.losses",
    "load_model": "keras_style.networks",
    "available_networks": "keras_style.networks",
    "apply_network": "keras_style.tiling",
    "build_transformer": "keras_style.nets.johnson",
    "loss_network": "keras_style.vgg",
    "upscale_image": "keras_style.upscale",
    "arbitrary_stylize": "keras_style.pretrained",
    "multistyle_stylize": "keras_style.pretrained",
    "multistyle_sheet": "keras_style.pretrained",
    "style_vector": "keras_style.pretrained",
}
__all__ = sorted(_EXPORTS)


_SUBMODULES = {"cli", "data", "demo", "errors", "export", "exporting", "fetch_vgg", "files",
               "finetune", "gatys", "image", "layers", "losses", "nets", "networks", "notebook",
               "outputs", "pretrained", "stylize", "tiling", "train", "training", "upscale",
               "vgg", "vgg_weights"}


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        if name not in _SUBMODULES:
            raise AttributeError(f"module 'keras_style' has no attribute {name!r}")
        # keras_style.image etc. without an explicit import; each module quiets
        # TensorFlow itself if it needs it (the CLI modules must stay light for --help)
        return importlib.import_module(f"keras_style.{name}")
    from keras_style.cli import quiet_tensorflow

    quiet_tensorflow()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
