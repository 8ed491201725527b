"""Where the command-line tools write, planned and checked before any work is done.

``stylize``, ``upscale``, ``export`` and ``fetch_vgg`` (and, through
:func:`plan_training_outputs`, ``train``) decide every path they will write with this module,
before a network is loaded or a step is run.  The rules:

- one input and ``-o FILE`` writes ``FILE``; several inputs (or ``-o FOLDER``) write one file
  per input into ``FOLDER``, named by the tool; ``-o FOLDER/`` (trailing slash) creates the
  folder when it is missing; ``-o -`` writes one image to standard output (not a terminal);
- two inputs that would land on the same output are refused, naming both;
- an output is never one of the inputs (the same path, a symbolic or a hard link);
- an existing file is replaced only by a file of the same kind (an image by an image, a
  TensorFlow Lite model by another, a network's JSON by a network's JSON, ...) or when it is
  empty; anything else needs ``--overwrite``.  A folder that is not a SavedModel is never
  replaced, not even with ``--overwrite``;
- every output folder must exist (or is created, where that is the right answer: the folder
  of a training run's ``--out``, its checkpoint and log folders, ``-o FOLDER/``) and must take
  a new file: a probe file is created and removed, which also catches read-only mounts,
  where permission bits say nothing (and root ignores them).

The writes themselves stay atomic (:func:`keras_style.files.atomic_path`): a failed write
leaves the old file as it was and no temporary file behind.

Every refusal is an :class:`~keras_style.errors.OutputError`: one sentence that names the
path and the flag.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from keras_style.errors import OutputError
from keras_style.files import STDOUT

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
"""Suffixes of the image files the tools write (keras_style.image writes these formats)."""

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NETWORK_FORMAT = "keras_style/network"  # keras_style.networks.FORMAT (not imported: light)


# --- what a file is ------------------------------------------------------------------

def _head(path: Path, n: int = 8) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def _is_image(path: Path) -> bool:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path):
                return True
    except Image.DecompressionBombError:
        return True  # a (very large) image all the same
    except Exception:  # noqa: BLE001 - Pillow raises many types for a non-image
        return False


def _is_tflite(path: Path) -> bool:
    return _head(path)[4:8] == b"TFL3"


def _is_hdf5(path: Path) -> bool:
    return _head(path) == HDF5_SIGNATURE


def _is_network_json(path: Path) -> bool:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == NETWORK_FORMAT


KINDS = {
    "image": ("an image", _is_image),
    "tflite": ("a TensorFlow Lite model", _is_tflite),
    "weights": ("a Keras weights file", _is_hdf5),
    "network": ("a keras_style network description", _is_network_json),
}
"""Kinds of file outputs: a description and a test that an existing file is of that kind."""


def is_savedmodel(folder) -> bool:
    folder = Path(folder)
    return (folder / "saved_model.pb").is_file() or (folder / "saved_model.pbtxt").is_file()


def is_stream(path) -> bool:
    """True for outputs that are written straight into, not replaced: ``-`` (standard
    output), anything under ``/dev`` or ``/proc`` (``/dev/stdout``, ``/dev/null``,
    ``/dev/fd/N``: renaming a file onto those would replace the device entry itself) and
    existing pipes, sockets and devices elsewhere."""
    text = str(path)
    if text == STDOUT:
        return True
    if os.path.abspath(text).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(text).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _writes_to_terminal(path) -> bool:
    text = str(path)
    if text in (STDOUT, "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        try:
            return sys.stdout.isatty()
        except (AttributeError, ValueError):
            return False
    return text.startswith(("/dev/tty", "/dev/pts/"))


# --- folders ----------------------------------------------------------------------

def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")


def _probe(folder: Path, target: str):
    """Create and remove a file in ``folder``; refuse with a sentence if that fails."""
    try:
        fd, name = tempfile.mkstemp(prefix=".keras_style_probe.", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: folder {folder} is not writable "
                          f"({_reason(exc)}).") from None
    os.close(fd)
    try:
        os.unlink(name)
    except OSError:
        pass


_created: list[Path] = []  # folders made for outputs by this process's run, outermost first


def forget_created_folders():
    """Start a new run's record of the folders it creates (:func:`remove_created_folders`)."""
    _created.clear()


def remove_created_folders():
    """Remove the output folders this run created that are still empty, innermost first: a
    run that fails after its outputs were planned (a damaged network, bad data, Ctrl-C)
    leaves no folder behind.  A folder that holds anything stays."""
    while _created:
        try:
            _created.pop().rmdir()
        except OSError:
            pass


def _existing_ancestor(folder: Path) -> Path:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_folder(folder, *, create: bool = False, target: str | None = None,
                 flag: str | None = None, make: bool = True) -> Path:
    """Check that ``folder`` is (or, with ``create``, can become) a folder that takes new
    files; create it when ``create`` and missing (unless ``make`` is false: then only check
    that it could be, to check several folders before creating any).  ``target`` names what
    will be written there (for the message); ``flag`` the option it came from."""
    folder = Path(folder) if str(folder) else Path(".")
    target = target or str(folder)
    where = f"{flag} {folder}" if flag else str(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write {target}: {where} is a file, not a folder.")
    if not folder.exists():
        if not create:
            raise OutputError(f"cannot write {target}: folder {folder} does not exist.")
        base = _existing_ancestor(folder)
        if not base.is_dir():
            raise OutputError(f"cannot write {target}: {base} is a file, not a folder.")
        _probe(base, target)
        if not make:
            return folder
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _created.extend(reversed(missing))
        except OSError as exc:
            raise OutputError(f"cannot create folder {folder} for {target}: "
                              f"{_reason(exc)}.") from None
    _probe(folder, target)
    return folder


# --- files ------------------------------------------------------------------------

def _same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def _inputs_inside(folder: Path, inputs) -> list[Path]:
    try:
        root = folder.resolve()
    except (OSError, RuntimeError):
        return []
    inside = []
    for src in inputs:
        try:
            if root in Path(src).resolve().parents:
                inside.append(Path(src))
        except (OSError, RuntimeError):
            pass
    return inside


def _refuse_file(out: Path, kind: str, inputs, overwrite: bool, flag: str):
    """The checks of one file output that need no folder (see :func:`check_file`)."""
    what, is_kind = KINDS[kind]
    if kind == "image" and out.suffix.lower() not in IMAGE_SUFFIXES:
        raise OutputError(f"{out}: unknown image suffix {out.suffix!r}; use one of "
                          f"{', '.join(sorted(IMAGE_SUFFIXES))}.")
    if out.is_dir():
        raise OutputError(f"{out} is a directory; give a file name for the output.")
    for src in inputs:
        if _same_file(Path(src), out):
            raise OutputError(f"{out} is also an input; refusing to overwrite it.")
    if out.is_file() and out.stat().st_size > 0 and not is_kind(out) and not overwrite:
        raise OutputError(f"{out} exists and is not {what}; refusing to replace it "
                          "(pass --overwrite to replace it).")


def check_file(out, kind: str = "image", *, inputs=(), overwrite: bool = False,
               flag: str = "-o", create_parent: bool = False) -> Path:
    """Check one file output before any work; return it as a Path.

    Refuses: an output that is one of ``inputs``; a folder; a missing (unless
    ``create_parent``) or unwritable parent folder; for images, an unknown suffix; an
    existing non-empty file that is not of ``kind`` (see :data:`KINDS`) unless
    ``overwrite``.  Streams (see :func:`is_stream`) are accepted as they are, except a
    terminal.
    """
    text = str(out)
    if is_stream(text):
        if _writes_to_terminal(text):
            raise OutputError(f"{flag} {text}: refusing to write {KINDS[kind][0]} to a "
                              "terminal; redirect it (> file) or give a file name.")
        return Path(text)
    out = Path(text)
    _refuse_file(out, kind, inputs, overwrite, flag)
    parent = out.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"cannot write {out}: {parent} is a file, not a folder.")
    if not parent.is_dir() and not create_parent:
        raise OutputError(f"cannot write {out}: folder {parent} does not exist.")
    check_folder(parent, create=create_parent, target=str(out))
    return out


def _ends_with_separator(text: str) -> bool:
    return text.endswith(("/", os.sep))


def plan_files(inputs, output, name_for, *, kind: str = "image", protect=(),
               overwrite: bool = False, flag: str = "-o", verb: str = "write") -> list[Path]:
    """Map ``inputs`` to output files and check them all; return one path per input.

    ``output``: ``None`` (each input's ``name_for(input)`` in the current folder), a file
    (one input), a folder (one file per input, named ``name_for(input)``; a missing folder
    is created when written with a trailing ``/``) or ``-`` (standard output, one input).
    ``protect``: further files that must never be written (styles, network files).
    ``verb`` words the advice for colliding inputs (``"upscale"``).
    """
    inputs = [Path(p) for p in inputs]
    as_folder = False
    if output is None:
        outs = [Path(name_for(p)) for p in inputs]
    else:
        text = str(output)
        folder = Path(text)
        as_folder = len(inputs) > 1 or folder.is_dir() or _ends_with_separator(text)
        if text == STDOUT or (is_stream(text) and not folder.is_dir()):
            if len(inputs) > 1:
                raise OutputError(f"{flag} {text} takes one result; with {len(inputs)} inputs "
                                  f"give {flag} a folder.")
            as_folder = False
        if as_folder:
            if folder.exists() and not folder.is_dir():
                many = (f"; with {len(inputs)} inputs, {flag} must be a folder"
                        if len(inputs) > 1 else "")
                raise OutputError(f"{flag} {text} is a file, not a folder{many}.")
            if not folder.exists() and not _ends_with_separator(text):
                raise OutputError(f"{flag} {text}: with several inputs, {flag} must be an "
                                  f"existing folder (write {text}/ to create it).")
            outs = [folder / Path(name_for(p)).name for p in inputs]
        else:
            outs = [Path(text)]
    # two inputs, one output
    seen: dict = {}
    for src, out in zip(inputs, outs):
        if str(out) == STDOUT:
            continue
        key = os.path.normcase(os.path.abspath(out))
        if key in seen and not _same_file(seen[key], src):
            raise OutputError(f"{seen[key]} and {src} would both be written to {out}; "
                              f"{verb} them into separate folders or rename one.")
        seen[key] = src
    everything = [*inputs, *map(Path, protect)]
    if not as_folder:
        return [check_file(o, kind, inputs=everything, overwrite=overwrite, flag=flag)
                for o in outs]
    # one folder for all: every file is checked before the folder is created (or probed)
    for o in outs:
        _refuse_file(o, kind, everything, overwrite, flag)
    check_folder(Path(str(output)), create=True, target=str(outs[0]), flag=flag)
    return outs


# --- export -------------------------------------------------------------------------

_OTHER_KIND_SUFFIXES = {".json": "a network description", ".h5": "Keras weights",
                        ".keras": "a Keras model", ".pb": "a TensorFlow graph",
                        **{s: "an image" for s in IMAGE_SUFFIXES}}


def plan_export(output, fmt: str, inputs=(), overwrite: bool = False) -> Path:
    """Check an export's ``-o`` before the network is loaded; return it as a Path.

    ``savedmodel`` writes a folder: an existing one is replaced only if it is a SavedModel
    (or empty) and holds none of the ``inputs``; a file there needs ``--overwrite``.
    ``tflite`` / ``tflite-fp16`` write a file: an existing one is replaced only if it is a
    TensorFlow Lite model (or empty) unless ``--overwrite``, and never if it is an input.
    """
    text = str(output)
    out = Path(text)
    inputs = [Path(p) for p in inputs]
    if fmt == "savedmodel":
        if is_stream(text):
            raise OutputError(f"-o {text}: a SavedModel is a folder; it cannot be written to "
                              "a stream (use --format tflite for one file).")
        if out.suffix.lower() == ".tflite":
            raise OutputError(f"-o {out} names a .tflite file but --format is savedmodel (a "
                              "folder); add --format tflite or give a folder name.")
        for src in inputs:
            if _same_file(src, out):
                raise OutputError(f"{out} is also an input; refusing to overwrite it.")
        if out.is_dir():
            if _inputs_inside(out, inputs):
                raise OutputError(f"{out} holds the network being exported; refusing to "
                                  "replace it.")
            if any(out.iterdir()) and not is_savedmodel(out):
                raise OutputError(f"{out} exists and is not a SavedModel; refusing to replace "
                                  "it (choose another -o).")
        elif out.exists() and out.stat().st_size > 0 and not overwrite:
            raise OutputError(f"{out} exists and is a file, not a SavedModel; refusing to "
                              "replace it (pass --overwrite to replace it).")
        check_folder(out.parent, target=str(out))
        return out
    for src in inputs:
        if _same_file(src, out):
            raise OutputError(f"{out} is also an input; refusing to overwrite it.")
    if not is_stream(text):
        other = _OTHER_KIND_SUFFIXES.get(out.suffix.lower())
        if other:
            raise OutputError(f"-o {out}: a {out.suffix} file holds {other}, not a TensorFlow "
                              "Lite model; name the output NAME.tflite.")
        if out.is_dir():
            raise OutputError(f"{out} is a folder; TFLite export writes a file.")
    return check_file(out, "tflite", inputs=inputs, overwrite=overwrite)


# --- training -------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingOutputs:
    """Everything a training run writes, checked (see :func:`plan_training_outputs`)."""

    prefix: Path
    weights: Path
    json: Path
    checkpoint_dir: Path
    log_dir: Path | None


def plan_training_outputs(out, checkpoint_dir=None, log_dir=None, *, inputs=(),
                          overwrite: bool = False) -> TrainingOutputs:
    """Check (and create) every location a training run writes, before it trains.

    ``out`` is the ``--out`` prefix: ``runs/my_style`` writes ``runs/my_style.weights.h5`` and
    ``runs/my_style.json`` (a given ``.json`` / ``.weights.h5`` suffix is dropped, as
    ``load_model`` does); its folder is created when missing.  A prefix that is a folder
    (``runs/`` or an existing ``runs``) is refused: it would write ``runs/.weights.h5``.
    ``checkpoint_dir`` defaults to ``PREFIX_ckpt``; it and ``log_dir`` are created when
    missing.  Existing network files are replaced only by the same kind (unless
    ``overwrite``); nothing in ``inputs`` (the painting, the data) is ever written.
    """
    text = str(out)
    if not text.strip():
        raise OutputError("--out is empty; give a path prefix such as runs/my_style.")
    for suffix in (".weights.h5", ".json"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    prefix = Path(text)
    if _ends_with_separator(text) or prefix.is_dir() or prefix.name in ("", ".", ".."):
        example = prefix / "my_style"
        raise OutputError(f"--out {out} is a folder; give a path prefix such as {example} "
                          f"(writes {example}.weights.h5 and {example}.json).")
    weights, meta = Path(f"{prefix}.weights.h5"), Path(f"{prefix}.json")
    ckpt = Path(checkpoint_dir) if checkpoint_dir else Path(f"{prefix}_ckpt")
    logs = Path(log_dir) if log_dir else None
    folders = [(prefix.parent, f"{prefix}.*", "--out"), (ckpt, "checkpoints", "--checkpoint-dir")]
    if logs is not None:
        folders.append((logs, "TensorBoard logs", "--log-dir"))
    for folder, target, flag in folders:  # every check first: a refusal creates nothing
        for src in inputs:
            if _same_file(Path(src), folder) and flag != "--out":
                raise OutputError(f"{flag} {folder} is an input; choose another folder.")
        check_folder(folder, create=True, target=target, flag=flag, make=False)
    for path, kind in ((weights, "weights"), (meta, "network")):
        _refuse_file(path, kind, inputs, overwrite, "--out")
    for folder, target, flag in folders:
        check_folder(folder, create=True, target=target, flag=flag)
    return TrainingOutputs(prefix=prefix, weights=weights, json=meta, checkpoint_dir=ckpt,
                           log_dir=logs)


def restore_checkpoint(checkpoint, manager, flag: str = "--resume") -> str:
    """Restore the newest checkpoint of a ``tf.train.CheckpointManager`` into ``checkpoint``;
    return its prefix.

    A damaged checkpoint (truncated or corrupt ``.index`` / ``.data`` file) raises an
    :class:`OutputError` that names the damaged files and the previous checkpoint, which
    ``CheckpointManager(max_to_keep=2)`` keeps, and says how to continue from it: move the
    damaged checkpoint's files away and resume again (the newest intact checkpoint is then
    the one restored, whatever the ``checkpoint`` index file says).
    """
    import glob

    candidates = [c for c in reversed(list(manager.checkpoints))
                  if os.path.exists(f"{c}.index")]
    latest = manager.latest_checkpoint
    if latest and latest not in candidates and os.path.exists(f"{latest}.index"):
        candidates.insert(0, latest)
    if not candidates:
        raise OutputError(f"{flag}: no checkpoint in {manager.directory}.")
    newest = candidates[0]
    try:
        checkpoint.restore(newest).expect_partial()
    except Exception as exc:  # noqa: BLE001 - TF raises many types for a damaged file
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        files = sorted(glob.glob(f"{glob.escape(newest)}.*"))
        names = ", ".join(Path(f).name for f in files) or Path(newest).name
        if len(candidates) > 1:
            offer = (f"the previous checkpoint {Path(candidates[1]).name} is kept: move "
                     f"{names} out of {Path(newest).parent} and run again with {flag} to "
                     "continue from it")
        else:
            offer = "there is no older checkpoint; start a new run"
        raise OutputError(f"checkpoint {newest} is damaged ({reason}); {offer}.") from None
    return newest
