"""Writing a network for serving: a TensorFlow SavedModel (any image size) or a TensorFlow
Lite flatbuffer (float32 or float16 weights, one input size), and running a TFLite file.
``python -m keras_style.export`` is the command line."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from keras_style._tfenv import stderr_without
from keras_style.files import atomic_path


EXPORT_FORMATS = ("savedmodel", "tflite", "tflite-fp16")

# Lines TensorFlow's C++ runtime prints on every TFLite conversion, at error level, that are
# not errors: the converter's own graph carries attributes the op registry does not know
# ("NodeDef mentions attribute Truncate which is not in the op definition ... Unknown
# attributes will be ignored").
_CONVERTER_NOISE = ("NodeDef mentions attribute",)


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
        with stderr_without(_CONVERTER_NOISE):
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
