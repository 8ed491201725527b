"""The network families, one module each, and the registry that rebuilds a network from
its JSON description.

==============================  ==========================================================
``keras_style.nets.johnson``    style networks we train (Johnson et al. 2016 and variants)
``keras_style.nets.superres``   super-resolution networks (Johnson et al. 2016)
``keras_style.nets.magenta``    Magenta's pretrained arbitrary-style and 26-style networks
==============================  ==========================================================

A network's JSON names its ``family`` (older files only their ``task``) and holds the
builder's configuration under ``architecture``; :func:`build_network` maps the two to an
untrained Keras model whose weights file then loads.  Importing this package loads no
TensorFlow; each builder module does when it is used.
"""

from __future__ import annotations

import importlib

#: family -> (module, builder name, how the builder takes the ``architecture`` entry)
FAMILIES = {
    "johnson": ("keras_style.nets.johnson", "build_transformer", "positional"),
    "superres": ("keras_style.nets.superres", "build_super_resolution", "keywords"),
    "magenta_arbitrary": ("keras_style.nets.magenta", "build_arbitrary", "positional"),
    "magenta_multistyle": ("keras_style.nets.magenta", "build_multistyle", "positional"),
    "magenta_fixed": ("keras_style.nets.magenta", "build_fixed_style", "named"),
}
#: the super-resolution networks' upsampling stages (``build_super_resolution(upsampling=...)``,
#: ``train --sr-upsampling``); here so that the command line can offer them without TensorFlow
SR_UPSAMPLINGS = ("nearest", "bilinear", "shuffle", "transpose")
#: the family of JSON files written before families were recorded
TASK_FAMILIES = {"style": "johnson", "super-resolution": "superres"}


def family_of(metadata: dict) -> str:
    """The family of a network description (``family``, or the one its ``task`` implies)."""
    family = metadata.get("family") or TASK_FAMILIES.get(metadata.get("task", "style"))
    if family not in FAMILIES:
        raise ValueError(f"unknown network family {family!r} (known: {', '.join(FAMILIES)})")
    return family


def build_network(metadata: dict):
    """An untrained Keras model of the architecture a network's JSON describes."""
    module, builder, style = FAMILIES[family_of(metadata)]
    build = getattr(importlib.import_module(module), builder)
    arch = metadata["architecture"]
    if style == "keywords":
        return build(**arch, name=metadata.get("name"))
    if style == "named" or family_of(metadata) == "johnson":
        return build(arch, name=metadata.get("name"))
    return build(arch)
