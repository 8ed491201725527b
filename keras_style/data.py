"""Training images from a folder, as a deterministic, resumable ``tf.data`` pipeline.

The stream of training crops is a pure function of ``(seed, sample index)``: epoch ``e``
visits the files in a permutation drawn from ``seed`` and ``e``; sample ``i`` gets its crop
scale, position and flip from ``seed`` and ``i``.  A run resumed at step ``s`` therefore
continues with exactly the crops it would have seen (``start = s * batch_size``).

Files that cannot be decoded are skipped (the next file takes their place) and counted in
:attr:`ImageFolder.skipped`; they never stop a long run.
"""

from __future__ import annotations

from pathlib import Path

import keras_style._quiet  # noqa: F401  (quiet TensorFlow import first)
import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from keras_style import image as im
from keras_style.errors import DataError

TRAIN_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def find_images(folder, exclude=()) -> list[Path]:
    """All image files under ``folder`` (recursive, sorted), minus ``exclude`` names."""
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"data folder {folder} does not exist.")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; --data needs a folder of images.")
    excluded = {Path(e).name for e in exclude}
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.suffix.lower() in TRAIN_SUFFIXES and p.name not in excluded)
    if not files:
        raise DataError(f"no images ({', '.join(TRAIN_SUFFIXES)}) found under {folder}.")
    return files


def read_list(path) -> list[str]:
    """Names from a text file, one per line (``#`` comments and blank lines ignored)."""
    lines = Path(path).read_text().splitlines()
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


class ImageFolder:
    """Random square crops at random scales with horizontal flips, resized to ``size``.

    Args:
        folder: a folder searched recursively for jpg, png, webp and bmp files.
        size: side of the square training crops, in pixels.
        min_scale: smallest crop side as a fraction of the image's short side.
        exclude: file names never to use (held-out photos).
        cache: keep decoded images in memory (default: when there are ≤ 2,000 files).
    """

    def __init__(self, folder, size: int = 256, seed: int = 0, min_scale: float = 0.5,
                 exclude=(), cache: bool | None = None):
        self.files = find_images(folder, exclude)
        self.size = int(size)
        self.seed = int(seed)
        self.min_scale = float(min_scale)
        self.cache = len(self.files) <= 2000 if cache is None else cache
        self._decoded: dict[int, np.ndarray | None] = {}
        self.skipped: set[Path] = set()

    def __len__(self):
        return len(self.files)

    def _load(self, index: int) -> np.ndarray | None:
        if index in self._decoded:
            return self._decoded[index]
        path = self.files[index]
        try:
            with Image.open(path) as img:
                img.load()
                # as image.load_image does: phone photos store their rotation in EXIF
                arr = np.asarray(im._to_rgb(ImageOps.exif_transpose(img)), dtype=np.uint8)
        except Exception:  # any decoder failure: count it and move on
            arr = None
        if arr is not None and min(arr.shape[:2]) < 16:
            arr = None
        if arr is None:
            self.skipped.add(path)
        if self.cache or arr is None:
            self._decoded[index] = arr
        return arr

    def _order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.files))

    def sample(self, index: int) -> np.ndarray:
        """The ``index``-th training crop, ``(size, size, 3)`` float32 in ``[0, 1]``."""
        n = len(self.files)
        epoch, pos = divmod(index, n)
        order = self._order(epoch)
        rng = np.random.default_rng([self.seed, 1_000_003, index])
        for attempt in range(n):
            arr = self._load(int(order[(pos + attempt) % n]))
            if arr is not None:
                break
        else:
            raise DataError("none of the images in the data folder could be decoded.")
        h, w = arr.shape[:2]
        side = int(round(min(h, w) * rng.uniform(self.min_scale, 1.0)))
        side = max(1, min(side, h, w))
        top = int(rng.integers(0, h - side + 1))
        left = int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(arr[top:top + side, left:left + side])
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        crop = crop.resize((self.size, self.size), Image.BILINEAR, reducing_gap=2.0)
        return np.asarray(crop, dtype=np.float32) / 255.0

    def dataset(self, batch_size: int, start: int = 0) -> tf.data.Dataset:
        """An endless batched dataset starting at sample ``start``."""

        def generate():
            i = start
            while True:
                yield self.sample(i)
                i += 1

        spec = tf.TensorSpec((self.size, self.size, 3), tf.float32)
        ds = tf.data.Dataset.from_generator(generate, output_signature=spec)
        return ds.batch(batch_size, drop_remainder=True).prefetch(2)


def gaussian_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


def degrade(images, factor: int, sigma: float = 1.0):
    """High-resolution batch → low-resolution batch, as Johnson et al. prepare SR data.

    Gaussian blur with standard deviation ``sigma`` (separable, reflection at the borders),
    then bicubic downsampling by ``factor`` (height and width are floored to multiples of
    ``factor`` first).  Deterministic: no noise is added.  ``(B, H, W, 3)`` in ``[0, 1]`` →
    ``(B, H // factor, W // factor, 3)`` in ``[0, 1]``.
    """
    x = tf.convert_to_tensor(images, tf.float32)
    if x.shape.rank == 3:
        return degrade(x[None], factor, sigma)[0]
    shape = tf.shape(x)
    h, w = shape[1] // factor * factor, shape[2] // factor * factor
    x = x[:, :h, :w, :]
    if sigma > 0:
        k = gaussian_kernel(sigma)
        r = len(k) // 2
        x = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]], mode="REFLECT")
        kh = tf.tile(tf.constant(k)[:, None, None, None], [1, 1, 3, 1])
        kw = tf.tile(tf.constant(k)[None, :, None, None], [1, 1, 3, 1])
        x = tf.nn.depthwise_conv2d(x, kh, [1, 1, 1, 1], "VALID")
        x = tf.nn.depthwise_conv2d(x, kw, [1, 1, 1, 1], "VALID")
    low = tf.image.resize(x, (h // factor, w // factor), method="bicubic", antialias=False)
    return tf.clip_by_value(low, 0.0, 1.0)
