"""Starting a style network from a pretrained one instead of from random weights.

``--init arbitrary``: Magenta's arbitrary-style transformer with the painting's predicted
style vector held in a :class:`~keras_style.layers.StyleCode` weight, so step 0 already
stylizes, and training with our perceptual losses takes it from there for that one
painting.  ``--init multistyle26:N`` (or a blend, ``multistyle26:3:0.5,12:0.5``): the 26-style
transformer with that style.  ``--init PATH`` (or a shipped name): any compatible trained
network (a Johnson-style network, or one fine-tuned this way), continued.

``trainable="norms"`` trains only what sets the style: the scales and shifts of the
normalization layers (for the Magenta transformers, the style code and the projections
that compute scales and shifts from it; for Johnson networks, their normalization
layers' gamma and beta), as Dumoulin et al. (2017) add a style to a multi-style network.
"""

from __future__ import annotations

from keras_style.errors import UsageError

MAGENTA_INITS = ("arbitrary", "multistyle26")


def train_only_norms(model) -> int:
    """Freeze every layer of ``model`` but the normalization/style ones; return how many
    weights stay trainable (a :class:`UsageError` if none would)."""
    import keras

    from keras_style.layers import (ConditionalInstanceNormalization, InstanceNormalization,
                                    StyleCode, StyleProjection)

    norms = (StyleCode, StyleProjection, InstanceNormalization, keras.layers.BatchNormalization)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.Model) or isinstance(layer, ConditionalInstanceNormalization):
            continue
        if layer.weights and not isinstance(layer, norms):
            layer.trainable = False
    count = sum(int(keras.ops.size(v)) for v in model.trainable_variables)
    if count == 0:
        raise UsageError("--trainable norms: this network has no normalization parameters "
                         "to train.")
    return count


def _shipped_record(name: str) -> dict:
    from keras_style.networks import read_metadata, resolve

    meta_path, _ = resolve(name)
    meta = read_metadata(meta_path)
    return {"network": name, "paper": meta.get("paper"), "provenance": meta.get("provenance")}


def _magenta_start(name: str, arg: str, style_image):
    """``(model, code, record)`` for ``arbitrary`` or ``multistyle26[:SPEC]``."""
    from keras_style import pretrained as pt
    from keras_style.nets.magenta import ARBITRARY, MULTISTYLE, build_fixed_style

    if name == "arbitrary":
        if arg:
            raise UsageError("--init arbitrary takes no style index; the painting is --style.")
        config, (_, source) = ARBITRARY, pt.arbitrary_parts()
        code = pt.style_vector(style_image)
        how = "style vector predicted from the --style painting"
    else:
        if not arg:
            raise UsageError("--init multistyle26 needs a style: multistyle26:7 or "
                             "multistyle26:3:0.5,12:0.5.")
        config, source = MULTISTYLE, pt.multistyle_transformer()
        code = pt.parse_styles(arg)
        how = f"26-style network, style {arg}"
    model = build_fixed_style(config, name="finetuned")
    model.get_layer("transformer").set_weights(source.get_weights())  # a copy: the shipped
    # network stays as it is for everyone else in this process
    record = {**_shipped_record(name), "style_code": how}
    return model, config, code, record


def load_trained(spec: str):
    """``(model, metadata, record)`` of a trained network to continue (a name or a path
    prefix): ``record`` is the JSON's ``init`` entry of the run that continues it, with the
    steps and wall time the start network had seen in all.  A file that does not load is one
    sentence (:class:`UsageError`)."""
    from keras_style.errors import WeightsError
    from keras_style.networks import load_model, training_totals

    try:
        trained, meta = load_model(spec, with_metadata=True)
    except WeightsError as exc:
        raise UsageError(f"--init {spec}: {exc}") from None
    steps, seconds = training_totals(meta)
    record = {"network": spec, "steps": meta.get("steps"), "init": meta.get("init"),
              "total_steps": steps, "total_wall_seconds": seconds,
              "wall_seconds": meta.get("wall_seconds"), "command": meta.get("command")}
    return trained, meta, record


def _trained_start(spec: str):
    """``(model, family, architecture, architecture name, record)`` continuing a trained
    style network."""
    from keras_style.nets import family_of

    trained, meta, record = load_trained(spec)
    family = family_of(meta)
    if meta.get("task", "style") != "style" or family not in ("johnson", "magenta_fixed"):
        raise UsageError(f"--init {spec}: a {meta.get('task')} network of family {family} "
                         "cannot start a one-style network; use arbitrary, multistyle26:N or "
                         "a trained style network.")
    record["style_image"] = meta.get("style_image")
    return trained, family, meta["architecture"], meta.get("architecture_name"), record


def initial_network(spec: str, style_image, trainable: str = "all"):
    """The network ``--init spec`` starts from, and the JSON entries that describe it."""
    name, _, arg = spec.partition(":")
    if name in MAGENTA_INITS:
        model, config, code, record = _magenta_start(name, arg, style_image)
        model.get_layer("style_code").code.assign(code)
        family, architecture, arch_name = "magenta_fixed", config, f"{name}_finetuned"
    else:
        model, family, architecture, arch_name, record = _trained_start(spec)
    if trainable == "norms":
        train_only_norms(model)
    return model, {"family": family, "architecture": architecture,
                   "architecture_name": arch_name, "init": {**record, "trainable": trainable}}
