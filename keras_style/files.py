"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Every failure of a write (disk full, read-only file system, a reader that closed the pipe)
becomes a :class:`~keras_style.errors.WriteError`: one sentence naming the file, still an
``OSError`` with the original ``errno``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from keras_style.errors import WriteError

STDOUT = "-"
"""The output name that means standard output."""


def describe(path) -> str:
    """How a path is named in messages (``-`` is standard output)."""
    return "standard output" if str(path) == STDOUT else str(path)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.rstrip(".")


def write_error(path, exc: OSError) -> WriteError:
    """A :class:`WriteError` for a failed write of ``path`` (keeps ``exc.errno``)."""
    if isinstance(exc, WriteError):
        return exc
    hint = " (free some space and run again)" if getattr(exc, "errno", None) == 28 else ""
    err = WriteError(f"could not write {describe(path)}: {_reason(exc)}{hint}.")
    err.errno = getattr(exc, "errno", None)
    return err


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The result keeps the permissions of the file it replaces, or gets ``0o644`` when new
    (not ``mkstemp``'s ``0o600``).  On any error (or Ctrl-C) the temporary file is removed
    and ``path`` is left as it was; an ``OSError`` is raised as a
    :class:`~keras_style.errors.WriteError` naming ``path``.  ``suffix`` lets writers that
    insist on an extension (``.weights.h5``) see one.  A symbolic link is written through:
    the file it points to is replaced and the link stays a link (as ``open(path, "w")``
    would do), so ``-o latest.png`` pointing at a user's file does not turn into a copy.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except WriteError:
        raise
    except OSError as exc:
        raise write_error(path, exc) from None
    finally:
        if os.path.lexists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_stream(path, data: bytes) -> None:
    """Write ``data`` to a stream output: standard output (``-``), a pipe or a device.

    Streams cannot be replaced atomically; the bytes are written straight into them.  A
    reader that goes away (``| head``) or a full device (``/dev/full``) is a
    :class:`~keras_style.errors.WriteError`.
    """
    try:
        if str(path) == STDOUT:
            sys.stdout.flush()
            out = sys.stdout.buffer
            out.write(data)
            out.flush()
        else:
            with open(path, "wb") as fh:
                fh.write(data)
    except BrokenPipeError as exc:
        if str(path) == STDOUT:
            # keep Python from complaining again when it flushes stdout at exit
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass
        raise write_error(path, exc) from None
    except OSError as exc:
        raise write_error(path, exc) from None
