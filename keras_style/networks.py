"""Trained transformation networks: the ``NAME.weights.h5`` + ``NAME.json`` format,
loading by name or path with checks, and applying a network to images of any size.

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

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

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


# --- applying a network -----------------------------------------------------------

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


# --- export -----------------------------------------------------------------------

EXPORT_FORMATS = ("savedmodel", "tflite", "tflite-fp16")

# Lines TensorFlow's C++ runtime prints on every TFLite conversion, at error level, that are
# not errors: the converter's own graph carries attributes the op registry does not know
# ("NodeDef mentions attribute Truncate which is not in the op definition ... Unknown
# attributes will be ignored").
_CONVERTER_NOISE = ("NodeDef mentions attribute",)


@contextlib.contextmanager
def _stderr_without(noise):
    """Run the block with file descriptor 2 captured (TensorFlow's C++ logging writes there,
    below Python's ``sys.stderr``), then pass on every line that holds none of ``noise``:
    real errors stay visible."""
    import sys

    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 at all
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines():
                if line.strip() and not any(n in line for n in noise):
                    print(line, file=sys.stderr)


def _replace_folder(tmp: Path, path: Path):
    """Move the finished folder ``tmp`` onto ``path``; an old ``path`` is set aside first
    and removed only once the new one is in place (put back if the move fails)."""
    import shutil

    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        os.rmdir(old)
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export(model, path, fmt: str = "savedmodel", input_size: tuple[int, int] = (256, 256)) -> Path:
    """Export a network for serving.

    ``"savedmodel"``: a TensorFlow SavedModel (``model.export``) with a ``serve`` endpoint
    taking ``(B, H, W, 3)`` float32 images of any size.  ``"tflite"`` / ``"tflite-fp16"``:
    a TensorFlow Lite flatbuffer with float32 / float16 weights for a fixed
    ``input_size`` (height, width), batch 1.  The file or folder is written under a temporary
    name and renamed into place (a stream, ``-`` or a pipe, is written straight into); a
    failed write raises :class:`~keras_style.errors.WriteError` and leaves what was there.
    Check ``path`` first with :func:`keras_style.outputs.plan_export`.
    """
    import shutil

    import tensorflow as tf

    from keras_style.files import write_error, write_stream
    from keras_style.outputs import is_stream

    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}.")
    text = str(path)
    path = Path(text)
    parent = path.parent
    if fmt == "savedmodel":
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
        except OSError as exc:
            raise write_error(path, exc) from None
        try:
            model.export(str(tmp), format="tf_saved_model", verbose=False)
            _replace_folder(tmp, path)
        except (OSError, tf.errors.OpError) as exc:
            raise write_error(path, exc if isinstance(exc, OSError) else
                              OSError(None, exc.message)) from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return path
    import keras

    h, w = input_size
    with tempfile.TemporaryDirectory(prefix="keras_style_export_") as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", lambda x: model(x, training=False),
                             input_signature=[tf.TensorSpec((1, h, w, 3), tf.float32)])
        archive.write_out(tmp, verbose=False)
        with _stderr_without(_CONVERTER_NOISE):
            converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
            if fmt == "tflite-fp16":
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.target_spec.supported_types = [tf.float16]
            blob = converter.convert()
    if is_stream(text):
        write_stream(text, blob)
        return path
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    return path


def run_tflite(path, image: np.ndarray) -> np.ndarray:
    """Run an exported TFLite network on one ``(H, W, 3)`` image of its input size."""
    import tensorflow as tf

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    interpreter.set_tensor(inp["index"], np.asarray(image, np.float32)[None])
    interpreter.invoke()
    return interpreter.get_tensor(out["index"])[0]
