"""Reading, writing and converting images.

One convention for the whole package: an image is a float32 NumPy array of shape
``(height, width, 3)``, RGB, with values in ``[0, 1]``.  Everything that reads a file
returns that; everything that writes a file accepts it.

Reading is forgiving about *format* (grayscale, RGBA, palette, 16-bit, CMYK are
converted; EXIF orientation is honoured) and strict about *content*: a missing file,
a directory, a non-image, a truncated image, an image above Pillow's decompression-bomb
limit (:data:`PIL.Image.MAX_IMAGE_PIXELS`, twice over) or an image smaller than ``MIN_SIZE``
raises :class:`ImageError` with one sentence that names the file.  Within
:func:`decoding_once` (the command-line tools use it) each file is decoded once, however
often it is read; pipes such as ``/dev/stdin`` can then be inputs too.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import re
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from keras_style.errors import DataError, ImageError, OutputError
from keras_style.files import atomic_path, write_stream

MIN_SIZE = 32
"""Smallest side, in pixels, an input image may have (VGG19 pools five times)."""

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
_WRITE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP",
                  ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB (alpha composited on white)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        # 16-bit files are on a 0..65535 scale whatever their content; mode "I" (32-bit)
        # carries no scale, so guess from the values.
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, img).convert("RGB")
    return img.convert("RGB")


DECODE_BUDGET = 2 ** 26
"""Pixels :func:`decoding_once` keeps decoded at most (8-bit RGB: about 200 MB)."""

_DECODED: contextvars.ContextVar = contextvars.ContextVar("keras_style_decoded", default=None)


class _DecodeCache:
    def __init__(self, budget: int):
        self.budget = int(budget)
        self.pixels = 0
        self.images: dict = {}

    def get(self, key):
        return self.images.get(key)

    def put(self, key, img: Image.Image, force: bool = False):
        pixels = img.size[0] * img.size[1]
        if force or self.pixels + pixels <= self.budget:
            self.images[key] = img
            self.pixels += pixels


@contextlib.contextmanager
def decoding_once(budget: int = DECODE_BUDGET):
    """Within the block, :func:`load_image` decodes each file once and later reads of the
    same (unchanged) file reuse the pixels: the tools check every input before any work
    and then use it without decoding it again.  At most ``budget`` pixels are kept (files
    beyond it are decoded again when used); pipes and other streams, which can be read
    only once, are always kept."""
    token = _DECODED.set(_DecodeCache(budget))
    try:
        yield
    finally:
        _DECODED.reset(token)


def _cache_key(path: Path):
    st = os.stat(path)
    if stat.S_ISREG(st.st_mode):
        return ("file", os.path.realpath(path), st.st_dev, st.st_ino, st.st_size,
                st.st_mtime_ns)
    return ("stream", os.path.abspath(path), st.st_dev, st.st_ino)


def _megapixels(n: int) -> str:
    return f"{n / 1e6:.0f}" if n >= 1e7 else f"{n / 1e6:.1f}"


def _bomb_message(path: Path, exc: Exception) -> str:
    numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
    if len(numbers) >= 2:
        size = (f"{path} claims {_megapixels(numbers[0])} megapixels, more than the "
                f"{_megapixels(numbers[1])} megapixels Pillow decodes")
    else:
        size = f"{path} is larger than Pillow decodes"
    return (f"{size} (its guard against decompression bombs, PIL.Image.MAX_IMAGE_PIXELS); "
            "shrink the image first.")


def _decode(path: Path) -> Image.Image:
    """The file as an 8-bit RGB PIL image (EXIF orientation applied), decoded once within
    :func:`decoding_once`; every failure is an :class:`ImageError` naming the file."""
    if not path.exists():
        raise ImageError(f"{path}: no such file.")
    if path.is_dir():
        raise ImageError(f"{path} is a directory, not an image file.")
    cache = _DECODED.get()
    try:
        key = _cache_key(path)
    except OSError:
        key = None
    if cache is not None and key is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    stream = key is not None and key[0] == "stream"
    try:
        source = io.BytesIO(path.read_bytes()) if stream else path
        with warnings.catch_warnings():
            # between one and two times MAX_IMAGE_PIXELS Pillow only warns; above, it raises
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                img.load()
                img = ImageOps.exif_transpose(img)
                img = _to_rgb(img)
    except Image.DecompressionBombError as exc:
        raise ImageError(_bomb_message(path, exc)) from None
    except UnidentifiedImageError:
        raise ImageError(f"{path} is not an image file that Pillow can read.") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied; cannot read it.") from None
    except MemoryError:
        raise ImageError(f"{path} is too large to decode in the memory available.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path} could not be read as an image (truncated or corrupt: {exc}).") from None
    if cache is not None and key is not None:
        cache.put(key, img, force=stream)
    return img


def load_image(path, max_size: int | None = None, min_size: int = MIN_SIZE) -> np.ndarray:
    """Read an image file as a float32 ``(H, W, 3)`` RGB array in ``[0, 1]``.

    ``max_size`` (optional) resizes the image so that its *long* side is ``max_size``
    pixels (up or down, Lanczos), keeping the aspect ratio.
    """
    path = Path(path)
    img = _decode(path)
    if min(img.size) < min_size:
        raise ImageError(f"{path} is {img.size[0]}x{img.size[1]} pixels; images need at least "
                         f"{min_size} pixels on each side.")
    if max_size is not None:
        img = resize_long_side(img, max_size)
    return np.asarray(img, dtype=np.float32) / 255.0


def image_size(path) -> tuple[int, int]:
    """``(width, height)`` of an image file as :func:`load_image` reads it (EXIF orientation
    applied); decodes it (once, within :func:`decoding_once`)."""
    return _decode(Path(path)).size


def require_decodable(paths, min_size: int = 16, what: str | None = None) -> Path:
    """The first of ``paths`` that decodes to an image of at least ``min_size`` px a side.

    When none does, a :class:`DataError` says so in one sentence, with the first file's
    problem as an example (``what`` names the folder).  Meant for a training-data folder:
    a run in which no photo decodes should stop before it starts, not deep in ``tf.data``.
    """
    paths = [Path(p) for p in paths]
    first = None
    for p in paths:
        try:
            img = _decode(p)
        except ImageError as exc:
            first = first or str(exc).rstrip(".")
            continue
        if min(img.size) >= min_size:
            return p
        first = first or f"{p} is {img.size[0]}x{img.size[1]} px, under {min_size} px a side"
    where = f" in {what}" if what else ""
    if not paths:
        raise DataError(f"no image files{where}.")
    raise DataError(f"none of the {len(paths)} image files{where} is usable "
                    f"(for example: {first}).")


def resize_long_side(img: Image.Image, size: int) -> Image.Image:
    """Resize a PIL image so that its long side is ``size`` pixels."""
    w, h = img.size
    scale = size / max(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    if new == img.size:
        return img
    return img.resize(new, Image.LANCZOS)


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a ``[0, 1]`` float image to ``(height, width)`` with Lanczos resampling."""
    return from_pil(to_pil(image).resize((size[1], size[0]), Image.LANCZOS))


def as_image(image, max_size: int | None = None) -> np.ndarray:
    """Accept a path, a PIL image or an array and return the package's image convention.

    Arrays of integer type are taken as ``[0, 255]``; float arrays as ``[0, 1]``.  A
    leading batch axis of size 1 is dropped.
    """
    if isinstance(image, (str, os.PathLike)):
        return load_image(image, max_size=max_size)
    if isinstance(image, Image.Image):
        arr = np.asarray(_to_rgb(ImageOps.exif_transpose(image)), dtype=np.float32) / 255.0
    else:
        arr = np.asarray(image)
        if arr.ndim == 4 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
            raise ImageError(f"expected an image array of shape (H, W, 3), got {arr.shape}.")
        if arr.shape[-1] == 1:
            arr = np.repeat(arr, 3, axis=-1)
        if arr.shape[-1] == 4:
            arr = arr[..., :3]
        if np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.float32) / 255.0
        arr = np.clip(arr.astype(np.float32), 0.0, 1.0)
    if max_size is not None:
        arr = from_pil(resize_long_side(to_pil(arr), max_size))
    return arr


def to_pil(image: np.ndarray) -> Image.Image:
    """Convert a ``[0, 1]`` float image to an 8-bit PIL RGB image."""
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr[0]
    return Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGB")


def from_pil(img: Image.Image) -> np.ndarray:
    return np.asarray(_to_rgb(img), dtype=np.float32) / 255.0


def check_output_path(out, inputs=(), overwrite: bool = False) -> Path:
    """Validate an image output path before any work is done; return it as a Path.

    Refuses an output equal to one of the inputs, a directory, a missing or unwritable
    parent folder, an unknown image suffix and an existing file that is not an image
    (unless ``overwrite``); see :func:`keras_style.outputs.check_file`.
    """
    from keras_style.outputs import check_file

    try:
        return check_file(out, "image", inputs=inputs, overwrite=overwrite)
    except OutputError as exc:
        raise ImageError(str(exc)) from None


def save_image(image: np.ndarray, path, quality: int = 95) -> Path:
    """Write a ``[0, 1]`` float image atomically (temporary file, then rename).

    ``-`` writes to standard output, and pipes or devices (``/dev/stdout``) are written
    straight into; their format is the suffix's, PNG without one.
    """
    from keras_style.outputs import is_stream

    text = str(path)
    path = Path(text)
    stream = is_stream(text)
    fmt = _WRITE_FORMATS.get(path.suffix.lower(), "PNG" if stream else None)
    if fmt is None:
        raise ImageError(f"{path}: unknown image suffix {path.suffix!r}.")
    img = to_pil(image)
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if stream:
        buffer = io.BytesIO()
        img.save(buffer, format=fmt, **kwargs)
        write_stream(text, buffer.getvalue())
        return path
    with atomic_path(path) as tmp:
        img.save(tmp, format=fmt, **kwargs)
    return path


def list_images(paths) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of image files.

    A file named twice (``photos/ photos/a.jpg``) is listed once."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.is_file()
                                and q.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(p)
    unique, seen = [], set()
    for p in found:
        try:
            key = os.path.realpath(p) if p.is_file() else str(p)
        except OSError:
            key = str(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


# --- colour -----------------------------------------------------------------------

# ITU-R BT.601 RGB <-> YIQ, as used by Gatys et al. (2016), "Preserving Color in Neural
# Artistic Style Transfer": transfer the style on luminance only.
_RGB2YIQ = np.array([[0.299, 0.587, 0.114],
                     [0.595716, -0.274453, -0.321263],
                     [0.211456, -0.522591, 0.311135]], dtype=np.float64)
_YIQ2RGB = np.linalg.inv(_RGB2YIQ)


def rgb_to_yiq(image: np.ndarray) -> np.ndarray:
    return (np.asarray(image, np.float64) @ _RGB2YIQ.T).astype(np.float32)


def yiq_to_rgb(image: np.ndarray) -> np.ndarray:
    return (np.asarray(image, np.float64) @ _YIQ2RGB.T).astype(np.float32)


def luminance_transfer(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep the luminance (Y) of ``stylized`` and the colour (I, Q) of ``content``."""
    if content.shape != stylized.shape:
        content = resize(content, stylized.shape[:2])
    yiq = rgb_to_yiq(content)
    yiq[..., 0] = rgb_to_yiq(stylized)[..., 0]
    return np.clip(yiq_to_rgb(yiq), 0.0, 1.0)


def match_color(source: np.ndarray, target: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Recolour ``source`` so that its pixel mean and covariance match ``target``'s.

    The linear colour transfer of Gatys et al. (2016) §2.2 (Cholesky variant): with
    source statistics ``(mu_s, S_s)`` and target ``(mu_t, S_t)`` each pixel ``x`` maps
    to ``L_t L_s^{-1} (x - mu_s) + mu_t``.  Used with ``source`` = the style image and
    ``target`` = the photo, the painting takes on the photo's palette before transfer.
    """
    src = np.asarray(source, np.float64).reshape(-1, 3)
    tgt = np.asarray(target, np.float64).reshape(-1, 3)
    mu_s, mu_t = src.mean(0), tgt.mean(0)
    cov_s = np.cov(src, rowvar=False) + eps * np.eye(3)
    cov_t = np.cov(tgt, rowvar=False) + eps * np.eye(3)
    chol_s = np.linalg.cholesky(cov_s)
    chol_t = np.linalg.cholesky(cov_t)
    transform = chol_t @ np.linalg.inv(chol_s)
    out = (src - mu_s) @ transform.T + mu_t
    return np.clip(out.reshape(np.shape(source)), 0.0, 1.0).astype(np.float32)


PRESERVE_COLOR_MODES = ("luminance", "histogram")
