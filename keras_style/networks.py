"""The network file format, ``NAME.weights.h5`` + ``NAME.json``, and loading networks by
name or path with checks (applying them: :mod:`keras_style.tiling`; exporting them:
:mod:`keras_style.exporting`).

A network is stored as two files side by side:

``PREFIX.json``
    ``{"format": "keras_style/network", "version": 1, "task": "style",
    "architecture": {...}, ...}`` — the architecture (see
    :class:`keras_style.nets.johnson.Architecture`; other families in
    :mod:`keras_style.nets`) and how it was trained or where it came from.
``PREFIX.weights.h5``
    the Keras weights of the model :func:`keras_style.nets.build_network` builds.

``load_model("starry_night")`` finds a network shipped in the package's ``weights``
folder; ``load_model("runs/mine")`` (or ``runs/mine.json`` / ``runs/mine.weights.h5``) one
of yours.  It returns a plain Keras model: images ``(B, H, W, 3)`` in ``[0, 1]`` in, same out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_style.errors import WeightsError
from keras_style.files import atomic_path

FORMAT = "keras_style/network"


def shipped_weights_dir() -> Path:
    """The folder of the pretrained networks that ship with the package."""
    from importlib import resources

    return Path(str(resources.files("keras_style.weights")))


def available_networks(task: str | None = None) -> list[str]:
    """Names of the shipped networks (``NAME.json`` with a ``NAME.weights.h5`` beside);
    with ``task`` (``"style"`` or ``"super-resolution"``), only the networks for that task."""
    folder = shipped_weights_dir()
    names = sorted(p.name[: -len(".json")] for p in folder.glob("*.json")
                   if (folder / (p.name[: -len(".json")] + ".weights.h5")).exists())
    if task is None:
        return names
    return [n for n in names if read_metadata(folder / f"{n}.json").get("task", "style") == task]


def resolve(name_or_path) -> tuple[Path, Path]:
    """``(json_path, weights_path)`` for a shipped name or a path prefix."""
    text = str(name_or_path)
    for suffix in (".weights.h5", ".json"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    prefix = Path(text)
    candidates = [prefix]
    if os.sep not in text and "/" not in text:
        candidates.append(shipped_weights_dir() / text)
    for p in candidates:
        meta, weights = Path(f"{p}.json"), Path(f"{p}.weights.h5")
        if meta.exists() or weights.exists():
            if not meta.exists():
                raise WeightsError(f"{meta} is missing; a network needs its JSON beside "
                                   f"{weights.name}.")
            if not weights.exists():
                raise WeightsError(f"{weights} is missing; the network {meta.name} has no weights.")
            return meta, weights
    shipped = ", ".join(available_networks()) or "none"
    raise WeightsError(f"no network named {name_or_path!r} (shipped networks: {shipped}; "
                       "or give the path prefix of NAME.json + NAME.weights.h5).")


def training_totals(meta: dict) -> tuple[int, float]:
    """``(steps, wall seconds)`` a network was trained for in all: its JSON's
    ``total_steps`` / ``total_wall_seconds`` when it continued another network (``train
    --init``, which adds the start network's), else the ``steps`` / ``wall_seconds`` of its
    one run (0 when the JSON does not say)."""
    steps = meta.get("total_steps", meta.get("steps")) or 0
    seconds = meta.get("total_wall_seconds", meta.get("wall_seconds")) or 0.0
    return int(steps), float(seconds)


def training_stages(meta: dict) -> list[dict]:
    """The runs a network was trained in, first to last, from its JSON's ``init`` chain
    (``train --init`` records the start network in ``init``, with what that one started
    from in its own ``init``): ``{"network", "steps", "wall_seconds", "command"}`` each, the
    last being this network's own run (``network`` its ``name``; ``command`` ``None``
    where the chain does not keep it).  A stage's wall time comes from its record, or from
    the ``total_wall_seconds`` around it.  A pretrained start (Magenta's networks: no
    ``steps``) is not a stage of ours.  A network trained in one run has one stage."""
    chain, record = [], meta
    while isinstance(record, dict) and record.get("steps") is not None:
        chain.append(record)
        record = record.get("init")
    stages = []
    remaining = training_totals(meta)[1]
    for k, record in enumerate(chain):  # newest first
        inner = chain[k + 1] if k + 1 < len(chain) else None
        own = record.get("wall_seconds")
        if own is None:  # the part of this record's total that its start network had not
            own = remaining - (training_totals(inner)[1] if inner else 0.0)
        own = float(own)
        stages.append({"network": record.get("network", meta.get("name")),
                       "steps": int(record["steps"]), "wall_seconds": round(own, 1),
                       "command": record.get("command")})
        remaining -= own
    return stages[::-1]


def read_metadata(meta: Path) -> dict:
    try:
        data = json.loads(Path(meta).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{meta} is not a readable network description ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "architecture" not in data:
        raise WeightsError(f"{meta} is not a keras_style network description.")
    return data


def build_from_metadata(data: dict):
    from keras_style.nets import build_network
    return build_network(data)


def load_model(name_or_path, with_metadata: bool = False):
    """Load a trained network (shipped name or path prefix) as a plain Keras model.

    The weights file is checked against the architecture in the JSON: a file of another
    architecture or a damaged file raises :class:`WeightsError` naming the file.
    """
    meta, weights = resolve(name_or_path)
    data = read_metadata(meta)
    try:
        model = build_from_metadata(data)
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"{meta} describes an architecture this version cannot build "
                           f"({exc}).") from None
    load_checked_weights(model, weights)
    return (model, data) if with_metadata else model


def load_checked_weights(model, weights: Path):
    """``model.load_weights`` that turns every failure into one sentence naming the file."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Keras only *warns* on some mismatches
            model.load_weights(str(weights))
    except Exception as exc:  # h5py/keras raise many types for foreign or broken files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{weights} does not fit the {model.name} architecture or is "
                           f"damaged ({reason[:200]}).") from None


def save_network(model, prefix, metadata: dict) -> tuple[Path, Path]:
    """Write ``PREFIX.weights.h5`` and ``PREFIX.json`` atomically (temp files, rename)."""
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    weights, meta = Path(f"{prefix}.weights.h5"), Path(f"{prefix}.json")
    with atomic_path(weights, suffix=".weights.h5") as tmp:
        os.unlink(tmp)  # Keras refuses to overwrite silently; let it create the file
        model.save_weights(tmp)
    with atomic_path(meta) as tmp:
        tmp.write_text(json.dumps({"format": FORMAT, "version": 1, **metadata}, indent=2,
                                  default=str) + "\n")
    return weights, meta


# Applying and exporting live in their own modules; their names stay importable from here.
from keras_style.tiling import apply, apply_network, min_side, tiles  # noqa: E402,F401
from keras_style.exporting import EXPORT_FORMATS, export, run_tflite  # noqa: E402,F401
