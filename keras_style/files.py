"""Atomic file writes: a reader (or a crash) never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The result keeps the permissions of the file it replaces, or gets ``0o644`` when new
    (not ``mkstemp``'s ``0o600``).  On any error the temporary file is removed and ``path``
    is left as it was.  ``suffix`` lets writers that insist on an extension
    (``.weights.h5``) see one.
    """
    path = Path(path)
    parent = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
