"""Super-resolution report: bicubic, the pixel-loss and the perceptual-loss network.

    python benchmarks/super_resolution.py                         # ×4 and ×8, every held-out
                                                                  # photo, 512 px long side
    python benchmarks/super_resolution.py --limit 2 --size 96 --skip-missing --no-crops

Johnson et al. (2016) find the super-resolution network trained on the feature-reconstruction
loss sharper but lower in PSNR than pixel-loss methods.  This script measures what our
networks give.  For every factor of ``--factors`` and every held-out photo
(``weights/holdout.txt``: photos of ``../shared/data/photos`` the shipped networks never
trained on):

* **Ground truth**: the photo resized to ``--size`` px on its long side (Lanczos, as
  :func:`keras_style.image.load_image` does; ``--size 0`` keeps it as it is), then cut to the
  largest multiples of the factor on both sides (keeping the top-left corner, as
  :func:`keras_style.data.degrade` does).
* **Low-resolution input**: :func:`keras_style.data.degrade`, the degradation the networks
  were trained on: Gaussian blur of standard deviation ``--blur-sigma`` (default: training's
  default), then bicubic downsampling with ``tf.image.resize``.  It is not quantized to 8 bits
  (training does not quantize it either).
* **bicubic**: ``tf.image.resize(..., method="bicubic")``, the same implementation the
  degradation uses (Keys cubic convolution with a = -0.5, half-pixel centres; no
  anti-aliasing, which only matters when shrinking), clipped to ``[0, 1]``.
* **pixel loss** / **perceptual loss**: the networks ``--pixel`` and ``--perceptual``
  (shipped names or path prefixes of ``NAME.json`` + ``NAME.weights.h5``; ``{factor}`` is
  replaced by the factor; defaults ``sr_x{factor}_pixel`` and ``sr_x{factor}``), loaded with
  :func:`keras_style.networks.load_model` and applied as
  :func:`keras_style.upscale.upscale_image` applies them: :func:`keras_style.networks.apply`
  with the factor from the network's JSON, tiles of ``--tile`` low-resolution px and
  ``upscale_image``'s 16-px margin (``upscale_image`` itself is not called because, given a
  loaded model, it finds the factor with an extra eager call on a 16×16 probe every time,
  which would be timed too).  A
  network that does not exist stops the script with one sentence naming it (exit code 2),
  or, with ``--skip-missing``, leaves its row out.

Every output is quantized to 8 bits (as it would be saved) before it is scored against the
(8-bit) ground truth:

* **PSNR** and **SSIM** on the luma channel Y of ITU-R BT.601 as the SR literature computes
  it (MATLAB's ``rgb2ycbcr``: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` for RGB in
  ``[0, 1]``, so Y lies in ``[16, 235]``; kept in float64, not rounded), with a border of
  ``factor`` pixels shaved off every side.  PSNR ``= 10 log10(255² / MSE)``.  SSIM is Wang
  et al. (2004): 11×11 Gaussian window with σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, "valid"
  filtering (no padding), no downsampling, the mean of the SSIM map; computed here in float64
  NumPy (it agrees with ``tf.image.ssim`` on the same input; ``tests/test_sr_benchmark.py``).
* **feature loss**: the feature-reconstruction loss of Johnson et al., the mean over all
  ``H·W·C`` values of the squared difference of VGG19 ``--feature-layer`` activations
  (default ``block2_conv2``, i.e. relu2_2) between the output and the ground truth, from
  :func:`keras_style.vgg.loss_network` (``[0, 1]`` RGB in, max pooling, ImageNet weights).  It
  is the content term the perceptual network was trained on (``reduction="mean"``, content
  weight 1), computed on the whole image (not shaved).
* **grid**: how much a regular pattern of the upsampling period stands out of the output's
  spectrum, relative to the ground truth's (:func:`grid_measure`; 1.0: no more than in the
  photo).  An enlargement by ``factor`` built from ×2 stages is periodic with period
  ``factor`` (each stage's output pixels come in phases), so a grid puts power on the lines
  ``k / factor`` cycles per pixel (``k = 1 … factor - 1``) of the 2-D spectrum of Y; the
  measure is the mean power on those lines divided by the mean power on the lines 2 and 3
  frequency bins beside them (the stand-out; Y mean-removed and Hann-windowed), for the
  output, over the same for the ground truth.  Bicubic interpolation (whose kernel sums
  to one at every phase) has a zero of its frequency response exactly there, so bicubic and
  an untrained network (which is bicubic) score about 1 (held-out photos at 512 px: 0.8–1.3
  per photo, mean 1.02 at ×4).
  The JSON keeps the stand-out of each period apart (``grid_by_k``: ``k`` and
  ``factor - k`` together; at ×4, ``k = 1`` is a period-4 pattern, which only the first ×2
  stage can make, ``k = 2`` a period-2 one, which either stage can).
* **seconds / image**: a warm call (``time.perf_counter``) of the bicubic resize (with the
  clip and the copy to NumPy), or of ``networks.apply``; each method's first call, with the
  network's ``tf.function`` trace, is reported apart.

``--networks LABEL=SPEC …`` adds rows for more networks (same form as ``--perceptual``, e.g.
two variants of one training); ``--pixel none`` / ``--perceptual none`` leave those rows out.

Prints one Markdown table per factor (means over the photos) and one sentence computed from
the numbers comparing the perceptual network with the pixel one.  ``--json PATH`` writes every
per-photo number.  ``--crops PATH`` (default ``docs/super_resolution.jpg``) writes a side-by-side
image of one or more photos (``--crop-photo A [B ...]``, e.g. fur, foliage and lettering): for
each photo one row per factor with the same region of the low-resolution input
(nearest-neighbour enlarged), bicubic, the pixel net, the perceptual net and the ground truth,
titled with each method's PSNR on that whole photo (Y, shaved).  The region is
``--crop-size`` ground-truth px square (the same for every photo), drawn ``--crop-zoom`` times
larger (nearest neighbour), at ``--crop-origin X Y`` (one photo only) or, by default, where the
ground truth has the most detail (the largest mean gradient magnitude of Y among windows on a
grid of the largest factor, away from the shaved border).  Files are written atomically and never over an input.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from keras_style.cli import (Parser, UsageError, formatter, non_negative_float,
                             non_negative_int, positive_int, run)
from keras_style.networks import training_stages, training_totals
from keras_style.training import TrainConfig  # these two are light: no TensorFlow at import

from _common import (REPO, SR_FACTORS, add_held_out_arguments, cpu_description, default_font,
                     draw_centred, fmt, holdout_photos, load_photo, load_photos, log, machine_line,
                     markdown_table, mean, photo_index, setup_tensorflow, tensorflow_info,
                     write_json)

PROG = "python benchmarks/super_resolution.py"
DEFAULT_CROPS = REPO / "docs" / "super_resolution.jpg"
METHODS = ("bicubic", "pixel", "perceptual")
LABELS = {"bicubic": "bicubic", "pixel": "pixel loss", "perceptual": "perceptual loss"}

# SSIM of Wang et al. (2004), the parameters of their reference implementation
SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03
PEAK = 255.0  # PSNR / SSIM dynamic range of the 8-bit scale Y is expressed on

GAP = 6
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)
MISSING = (215, 215, 215)


# --- metrics (pure NumPy, float64) -------------------------------------------------------

def quantize(image) -> np.ndarray:
    """A ``[0, 1]`` float image as it is saved to an 8-bit file, back in ``[0, 1]``
    (the rounding of :func:`keras_style.image.to_pil`)."""
    arr = np.asarray(image, np.float64)
    return np.clip(np.floor(arr * 255.0 + 0.5), 0, 255) / 255.0


def rgb_to_y(image) -> np.ndarray:
    """ITU-R BT.601 luma as MATLAB's ``rgb2ycbcr``: ``[0, 1]`` RGB → Y in ``[16, 235]``."""
    rgb = np.asarray(image, np.float64)
    return 16.0 + rgb @ np.array([65.481, 128.553, 24.966])


def shave(image: np.ndarray, border: int) -> np.ndarray:
    return image[border:image.shape[0] - border, border:image.shape[1] - border] if border \
        else image


def psnr(a, b, peak: float = PEAK) -> float:
    """``10 log10(peak² / MSE)`` in dB, float64; ``inf`` for identical images."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def _filter_valid(image: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 2-D filtering with ``outer(g, g)``, "valid" (output shrinks by len(g) - 1)."""
    n = len(g)
    h, w = image.shape
    rows = sum(g[i] * image[i:h - n + 1 + i, :] for i in range(n))
    return sum(g[j] * rows[:, j:w - n + 1 + j] for j in range(n))


def ssim(a, b, peak: float = PEAK, window: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
         k1: float = SSIM_K1, k2: float = SSIM_K2) -> float:
    """Mean SSIM of two single-channel images (Wang et al. 2004), float64, no padding."""
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ssim needs two 2-D images of one shape, got {x.shape} and {y.shape}.")
    if min(x.shape) < window:
        raise ValueError(f"ssim needs images of at least {window} px per side, got {x.shape}.")
    g = gaussian_window(window, sigma)
    c1, c2 = (k1 * peak) ** 2, (k2 * peak) ** 2
    mx, my = _filter_valid(x, g), _filter_valid(y, g)
    sxx = _filter_valid(x * x, g) - mx * mx
    syy = _filter_valid(y * y, g) - my * my
    sxy = _filter_valid(x * y, g) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())


def grid_standout(y, factor: int, ks=None, beside=(2, 3)) -> float:
    """Mean spectral power of Y on the lines ``k / factor`` cycles per pixel (vertical lines
    ``u = k W / factor`` and horizontal lines ``v = k H / factor``, ``k`` in ``ks``, default
    ``1 … factor - 1``) over the mean power on the lines ``beside`` bins next to them.

    ``y``: a 2-D image whose sides are multiples of ``factor`` (so the lines fall on FFT
    bins).  Its mean is removed and it is multiplied by a periodic Hann window, which keeps
    the borders' jump out of the spectrum (without it the zero-frequency row and column,
    which cross every line, carry the borders' power) and spreads a line over exactly ±1
    bin, so the comparison lines start 2 bins away.  The 3×3 bins around zero frequency are
    left out.  About 1 for an image without a periodic pattern of that period; larger when
    one stands out.
    """
    y = np.asarray(y, np.float64)
    h, w = y.shape
    if h % factor or w % factor:
        raise ValueError(f"grid_standout needs sides that are multiples of {factor}, got "
                         f"{w}x{h}.")

    def hann(n):
        return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)

    power = np.abs(np.fft.fft2((y - y.mean()) * np.outer(hann(h), hann(w)))) ** 2
    ks = range(1, factor) if ks is None else ks

    def lines(n, offsets):
        hit = np.zeros(n, bool)
        for k in ks:
            for d in offsets:
                hit[(k * n // factor + d) % n] = True
        return hit

    def near_zero(n):
        hit = np.zeros(n, bool)
        hit[[0, 1, n - 1]] = True
        return hit

    on_rows, on_cols = lines(h, (0,)), lines(w, (0,))
    off = tuple(d for b in beside for d in (-b, b))
    near_rows, near_cols = lines(h, off) & ~on_rows, lines(w, off) & ~on_cols
    dc = near_zero(h)[:, None] & near_zero(w)[None, :]
    on = (on_rows[:, None] | on_cols[None, :]) & ~dc
    near = ((near_rows[:, None] | near_cols[None, :]) & ~on_rows[:, None] & ~on_cols[None, :]
            & ~dc)
    return float(power[on].mean() / max(power[near].mean(), 1e-300))


def grid_measure(output, truth, factor: int) -> dict:
    """The grid of ``output`` relative to ``truth`` (both ``[0, 1]`` RGB of one shape, sides
    multiples of ``factor``): ``grid``, the stand-out of all lines ``k / factor``, output
    over truth; ``grid_by_k``, the same for each ``k <= factor / 2`` with its alias
    ``factor - k``."""
    yo, yt = rgb_to_y(output), rgb_to_y(truth)
    by_k = {}
    for k in range(1, factor // 2 + 1):
        ks = sorted({k, factor - k})
        by_k[str(k)] = grid_standout(yo, factor, ks) / grid_standout(yt, factor, ks)
    return {"grid": grid_standout(yo, factor) / grid_standout(yt, factor), "grid_by_k": by_k}


def y_metrics(output, truth, border: int) -> dict:
    """PSNR and SSIM on Y with ``border`` px shaved; both images ``[0, 1]`` RGB (8-bit values)."""
    yo, yt = shave(rgb_to_y(output), border), shave(rgb_to_y(truth), border)
    return {"psnr": psnr(yo, yt), "ssim": ssim(yo, yt)}


# --- inputs -------------------------------------------------------------------------------

def ground_truth(photo: np.ndarray, factor: int) -> np.ndarray:
    """``photo`` cut to multiples of ``factor`` (top-left corner kept, as ``degrade`` does)."""
    h, w = photo.shape[0] // factor * factor, photo.shape[1] // factor * factor
    return photo[:h, :w]


class Network:
    """One network row of one factor: where it is, what its JSON says, the loaded model."""

    def __init__(self, role: str, factor: int, spec: str, label: str | None = None):
        self.role, self.factor, self.spec = role, factor, spec
        self.label = label or LABELS[role]
        self.meta_path = self.weights_path = self.meta = self.model = None
        self.name = spec
        self.missing = None

    def locate(self, blur_sigma: float):
        """Find the files and check the JSON before any work; warn on a role or
        degradation mismatch.  Sets :attr:`missing` when neither file exists."""
        from keras_style.errors import WeightsError
        from keras_style.networks import read_metadata, resolve, shipped_weights_dir

        try:
            self.meta_path, self.weights_path = resolve(self.spec)
        except WeightsError as exc:
            text = self.spec
            for suffix in (".weights.h5", ".json"):
                text = text[: -len(suffix)] if text.endswith(suffix) else text
            prefixes = [Path(text), shipped_weights_dir() / text]
            if any(Path(f"{q}{suffix}").exists() for q in prefixes
                   for suffix in (".json", ".weights.h5")):
                raise  # half a network: an error even with --skip-missing
            self.missing = str(exc)
            return
        self.name = self.meta_path.name[: -len(".json")]
        self.meta = read_metadata(self.meta_path)
        source = (f"--networks {self.label}={self.spec}" if self.role == "network"
                  else f"--{self.role} {self.spec}") + f" ({self.meta_path})"
        if self.meta.get("task") != "super-resolution":
            raise UsageError(f"{source} is a {self.meta.get('task', 'style')} network, not a "
                             "super-resolution one.")
        got = int(self.meta["architecture"].get("factor", 0))
        if got != self.factor:
            raise UsageError(f"{source} enlarges ×{got}, but it is used for ×{self.factor} "
                             "(put {factor} in the flag's value to name one network per factor).")
        loss = self.meta.get("loss") or {}
        kind = loss.get("kind")
        if kind is not None and self.role in LABELS and kind != self.role:
            log(f"{PROG}: warning: {source} was trained on the {kind} loss, yet is reported "
                f"as the {self.label} network.")
        hp = self.meta.get("hyperparameters") or {}
        if "blur_sigma" in hp and float(hp["blur_sigma"]) != blur_sigma:
            log(f"{PROG}: warning: {source} was trained with --blur-sigma {hp['blur_sigma']}; "
                f"this report degrades with {blur_sigma:g}.")

    def check_feature_layer(self, feature_layer: str):
        from keras_style.vgg import canonical_layer_name

        layers = ((self.meta or {}).get("loss") or {}).get("content_layers")
        kind = ((self.meta or {}).get("loss") or {}).get("kind")
        if self.role != "pixel" and kind != "pixel" and layers \
                and [canonical_layer_name(n) for n in layers] \
                != [canonical_layer_name(feature_layer)]:
            log(f"{PROG}: warning: {self.name} was trained on VGG19 {', '.join(layers)}; the "
                f"feature loss here uses {feature_layer}.")

    def load(self):
        from keras_style.networks import load_model

        self.model = load_model(self.spec)

    def upscale(self, low: np.ndarray, tile: int) -> np.ndarray:
        from keras_style.upscale import upscale_image

        return upscale_image(low, self.model, tile=tile, factor=self.factor)

    def describe(self) -> str:
        m = self.meta or {}
        bits = [f"`{self.meta_path}`"]
        if "steps" in m:
            steps = training_totals(m)[0]  # a network trained in stages: all of them
            stages = len(training_stages(m))
            bits.append(f"{steps} training steps" + (f" in {stages} stages" if stages > 1 else ""))
        kind = (m.get("loss") or {}).get("kind")
        if kind == "perceptual":
            bits.append("feature loss on " + ", ".join((m.get("loss") or {}).get(
                "content_layers") or ["?"]))
        elif kind:
            bits.append(f"{kind} loss")
        return f"{self.label}: {self.name} (" + ", ".join(bits) + ")"


# --- the crop image -----------------------------------------------------------------------

def most_detailed_window(gt: np.ndarray, size: int, step: int, border: int) -> tuple[int, int]:
    """``(x, y)`` of the ``size``-px square window, with origins on multiples of ``step`` and
    at least ``border`` px from every edge, with the largest mean gradient magnitude of Y."""
    y = rgb_to_y(gt)
    grad = np.zeros_like(y)
    grad[:-1, :] += np.abs(np.diff(y, axis=0))
    grad[:, :-1] += np.abs(np.diff(y, axis=1))
    integral = np.pad(grad.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    h, w = y.shape
    lo = -(-border // step) * step
    best, best_xy = -1.0, (lo, lo)
    for y0 in range(lo, h - border - size + 1, step):
        for x0 in range(lo, w - border - size + 1, step):
            s = (integral[y0 + size, x0 + size] - integral[y0, x0 + size]
                 - integral[y0 + size, x0] + integral[y0, x0])
            if s > best:
                best, best_xy = s, (x0, y0)
    return best_xy


def nearest(image: np.ndarray, times: int) -> np.ndarray:
    return np.repeat(np.repeat(image, times, axis=0), times, axis=1) if times > 1 else image


def compose_crops(rows: list[list[tuple[tuple[str, ...], np.ndarray | None]]], cell: int,
                  font_size: int):
    """A PIL image: each row a strip of titles (each title one or more centred lines) over
    ``cell``-px square images (``None``: a grey "not available" cell)."""
    from PIL import Image, ImageDraw

    from keras_style import image as im

    font = default_font(font_size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    _, top, _, bottom = probe.textbbox((0, 0), "Ag", font=font)
    line = (bottom - top) + 2
    lines = max(len(text) for row in rows for text, _ in row)
    title = lines * line + GAP
    columns = max(len(r) for r in rows)
    sheet = Image.new("RGB", (GAP + columns * (cell + GAP),
                              GAP + len(rows) * (title + cell + GAP)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = GAP
    for row in rows:
        for c, (text, img) in enumerate(row):
            x0 = GAP + c * (cell + GAP)
            for k, part in enumerate(text):
                draw_centred(draw, part, font, x0, cell, y + k * line - top, TEXT, "...")
            if img is None:
                draw.rectangle((x0, y + title, x0 + cell - 1, y + title + cell - 1), fill=MISSING)
                draw_centred(draw, "not available", font, x0, cell, y + title + cell // 2, TEXT,
                             "...")
            else:
                sheet.paste(im.to_pil(img), (x0, y + title))
        y += title + cell + GAP
    return sheet


# --- the report ---------------------------------------------------------------------------

def comparison_sentence(factor: int, pix: dict, per: dict, per_photo: list[dict]) -> str:
    """One sentence comparing the perceptual network with the pixel one, from the numbers."""
    dp = per["psnr"] - pix["psnr"]
    ratio = per["feature_loss"] / pix["feature_loss"] if pix["feature_loss"] else float("nan")
    n = len(per_photo)
    psnr_lower = sum(p["perceptual"]["psnr"] < p["pixel"]["psnr"] for p in per_photo)
    feat_lower = sum(p["perceptual"]["feature_loss"] < p["pixel"]["feature_loss"]
                     for p in per_photo)
    psnr_part = (f"{abs(dp):.2f} dB {'lower' if dp < 0 else 'higher'} in PSNR than the "
                 f"pixel-loss network ({per['psnr']:.2f} vs {pix['psnr']:.2f} dB; lower on "
                 f"{psnr_lower} of {n} photos)" if dp != 0 else
                 f"as high in PSNR as the pixel-loss network ({per['psnr']:.2f} dB)")
    feat_part = (f"its feature loss is {fmt(abs(1 - ratio) * 100, 2)} % "
                 f"{'lower' if ratio < 1 else 'higher'} ({fmt(per['feature_loss'])} vs "
                 f"{fmt(pix['feature_loss'])}; lower on {feat_lower} of {n})")
    if dp < 0 and ratio < 1:
        verdict = ("the trade-off the paper reports: lower PSNR, closer in VGG features "
                   "(the paper's \"sharper\")")
    elif dp < 0:
        verdict = ("lower PSNR as in the paper, but without the feature-space gain that "
                   "should come with it")
    elif ratio < 1:
        verdict = ("closer in VGG features as the paper's perceptual network is, but unlike the "
                   "paper not lower in PSNR")
    else:
        verdict = "not the paper's trade-off: the perceptual network is behind on neither"
    return f"At ×{factor} the perceptual-loss network is {psnr_part}, and {feat_part}: {verdict}."


def report_factor(factor: int, nets: dict, per_photo: list[dict], firsts: dict) -> tuple[str, dict]:
    present = ["bicubic"] + [m for m, n in nets.items() if n.missing is None]
    means = {m: {k: mean(p[m][k] for p in per_photo)
                 for k in ("psnr", "ssim", "feature_loss", "grid", "seconds")} for m in present}
    for m in present:
        means[m]["grid_by_k"] = {k: mean(p[m]["grid_by_k"][k] for p in per_photo)
                                 for k in per_photo[0][m]["grid_by_k"]}
    rows = []
    for m in present:
        label = ("bicubic (`tf.image.resize`)" if m == "bicubic"
                 else f"{nets[m].label}: `{nets[m].name}`")
        rows.append([label, f"{means[m]['psnr']:.2f}", f"{means[m]['ssim']:.4f}",
                     fmt(means[m]["feature_loss"]),
                     fmt(means[m]["feature_loss"] / means["bicubic"]["feature_loss"], 3),
                     f"{means[m]['grid']:.2f}", fmt(means[m]["seconds"], 3)])
    table = markdown_table(["method", "PSNR (dB, Y)", "SSIM (Y)", "feature loss",
                             "× bicubic's", "grid (× original's)", "seconds / image"], rows)
    lines = [f"### ×{factor}", "", table, ""]
    lines += ["Grid by line (the stand-out at k/factor and (factor-k)/factor cycles per pixel, "
              "× the original's): " + "; ".join(
                  f"{'bicubic' if m == 'bicubic' else nets[m].label} " + ", ".join(
                      f"k={k}: {v:.2f}" for k, v in means[m]["grid_by_k"].items())
                  for m in present) + ".", ""]
    if "pixel" in present and "perceptual" in present:
        lines += [comparison_sentence(factor, means["pixel"], means["perceptual"], per_photo), ""]
    else:
        absent = [nets[m].spec for m in ("pixel", "perceptual") if m in nets and m not in present]
        if absent:
            lines += [f"No perceptual-vs-pixel comparison at ×{factor}: "
                      f"{' and '.join(absent)} not found (left out with --skip-missing).", ""]
    notes = [nets[m].describe() for m in present[1:]]
    notes.append("first calls (not in the table): " + ", ".join(
        f"{nets[m].label if m in nets else LABELS[m]} {firsts[m]:.2f} s" for m in present))
    lines += ["Networks: " + "; ".join(notes) + "."]
    return "\n".join(lines), means


def json_safe(value):
    """Infinite PSNRs (identical images) become ``null``: JSON has no infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


# --- the command line, checked before any work --------------------------------------------

def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="PSNR and SSIM (Y channel) and the VGG feature-reconstruction loss "
                           "of bicubic, the pixel-loss and the perceptual-loss super-resolution "
                           "networks on held-out photos; prints Markdown, writes a crop image.")
    p.add_argument("--factors", type=int, nargs="+", choices=SR_FACTORS, default=[4, 8],
                   help="upscaling factors to evaluate")
    p.add_argument("--perceptual", default="sr_x{factor}",
                   help="perceptual-loss network: shipped name or path prefix of NAME.json + "
                        "NAME.weights.h5; {factor} is replaced by the factor")
    p.add_argument("--pixel", default="sr_x{factor}_pixel",
                   help="pixel-loss network, same form as --perceptual ('none' for "
                        "neither: the same for --perceptual)")
    p.add_argument("--networks", nargs="+", default=[], metavar="LABEL=SPEC",
                   help="more networks to report, each a row labelled LABEL; SPEC as for "
                        "--perceptual ({factor} is replaced by the factor)")
    p.add_argument("--skip-missing", action="store_true",
                   help="leave out the row of a network that does not exist instead of stopping")
    add_held_out_arguments(p, REPO, limit=0, size=512, keep_size=True)
    p.add_argument("--no-enlarge", dest="enlarge", action="store_false",
                   help="keep photos smaller than --size at their own size (only larger ones "
                        "are shrunk): ground truths that are all originals, where the default "
                        "enlarges 9 of the 20 held-out photos (320 px) to 512 px, as every "
                        "table in the README was measured")
    p.add_argument("--blur-sigma", type=non_negative_float, default=TrainConfig.blur_sigma,
                   help="Gaussian blur of the degradation (keras_style.train's default)")
    p.add_argument("--feature-layer", default="block2_conv2",
                   help="VGG19 layer of the feature-reconstruction loss (relu2_2)")
    p.add_argument("--tile", type=positive_int, default=256,
                   help="upscale_image's tile size on the low-resolution input, px")
    p.add_argument("--crops", type=Path, default=DEFAULT_CROPS,
                   help="side-by-side crop image to write (its folder is created)")
    p.add_argument("--no-crops", action="store_true", help="do not write the crop image")
    p.add_argument("--crop-photo", nargs="+", default=None, metavar="PHOTO",
                   help="photos of the crop image, one block of rows each: file names under "
                        "--photos or paths (default: the first evaluated held-out photo)")
    p.add_argument("--crop-size", type=positive_int, default=128,
                   help="side of the crop region in ground-truth px (rounded down to a "
                        "multiple of the largest factor)")
    p.add_argument("--crop-origin", type=non_negative_int, nargs=2, default=None,
                   metavar=("X", "Y"),
                   help="top-left corner of the crop region in ground-truth px (rounded down "
                        "to a multiple of the largest factor; one --crop-photo only; "
                        "default: each photo's most detailed region)")
    p.add_argument("--crop-zoom", type=positive_int, default=2,
                   help="nearest-neighbour magnification of the crops in the image")
    p.add_argument("--json", type=Path, default=None,
                   help="also write every per-photo number to this file")
    return p


def check_outputs(args, inputs: list[Path]):
    """Refuse unusable or input-clobbering output paths before any work."""
    from keras_style import image as im

    if args.json is not None:
        parent = args.json.parent
        if not parent.is_dir():
            raise UsageError(f"--json {args.json}: folder {parent} does not exist.")
        if args.json.is_dir():
            raise UsageError(f"--json {args.json} is a folder; give a file name.")
        for src in inputs:
            if src.exists() and args.json.exists() and os.path.samefile(src, args.json) \
                    or src.resolve() == args.json.resolve():
                raise UsageError(f"--json {args.json} is also an input; refusing to overwrite it.")
    if not args.no_crops:
        if args.crops.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif",
                                             ".tiff"):
            raise UsageError(f"--crops {args.crops}: unknown image suffix "
                             f"{args.crops.suffix!r}; use .jpg or .png.")
        args.crops.parent.mkdir(parents=True, exist_ok=True)
        im.check_output_path(args.crops, inputs)
        if args.json is not None and args.crops.resolve() == args.json.resolve():
            raise UsageError("--crops and --json name the same file.")


def check_arguments(args, big: int):
    if not args.photos.is_dir():
        raise UsageError(f"--photos {args.photos}: no such folder.")
    if not args.holdout.is_file():
        raise UsageError(f"--holdout {args.holdout}: no such file.")
    if not args.no_crops and args.crop_size // big * big == 0:
        raise UsageError(f"--crop-size must be at least {big} px (the largest factor).")


def extra_networks(items) -> dict:
    """``--networks LABEL=SPEC ...`` as ``{label: spec}``."""
    extra = {}
    for item in items:
        label, sep, spec = item.partition("=")
        label = label.strip()
        if not sep or not label or not spec:
            raise UsageError(f"--networks {item!r}: give LABEL=SPEC, e.g. shuffle=runs/sr_x4.")
        if label in METHODS or label in extra:
            raise UsageError(f"--networks {item!r}: the label {label!r} is taken; choose "
                             "another.")
        extra[label] = spec
    return extra


def locate_networks(args, factors) -> dict:
    """``{factor: {method: Network}}`` for ``--pixel``, ``--perceptual`` and ``--networks``,
    every file found and every JSON checked; a missing network stops the run, or with
    ``--skip-missing`` is noted and keeps no row."""
    extra = extra_networks(args.networks)
    roles = [(role, spec) for role, spec in (("pixel", args.pixel),
                                             ("perceptual", args.perceptual))
             if spec.lower() != "none"]
    nets = {f: {**{role: Network(role, f, spec.replace("{factor}", str(f)))
                   for role, spec in roles},
                **{label: Network("network", f, spec.replace("{factor}", str(f)), label)
                   for label, spec in extra.items()}}
            for f in factors}
    for f in factors:
        for net in nets[f].values():
            net.locate(args.blur_sigma)
            if net.missing is not None:
                if not args.skip_missing:
                    raise UsageError(f"the ×{f} {net.label} network {net.spec!r} does "
                                     "not exist (neither a shipped name nor a NAME.json + "
                                     "NAME.weights.h5 prefix); pass --skip-missing to leave "
                                     "its row out.")
                log(f"{PROG}: note: ×{f} {net.label} network {net.spec!r} not found; "
                    "its row is left out.")
    return nets


def network_files(nets: dict) -> list[Path]:
    return [q for by_method in nets.values() for n in by_method.values() if n.missing is None
            for q in (n.meta_path, n.weights_path)]


def given_crop_photos(args, by_name: dict) -> list[Path]:
    """``--crop-photo`` as paths (each a file, or a name under ``--photos``); ``[]`` if not
    given."""
    if args.no_crops or not args.crop_photo:
        return []
    if args.crop_origin is not None and len(args.crop_photo) > 1:
        raise UsageError(f"--crop-origin places the region in one photo; with "
                         f"{len(args.crop_photo)} --crop-photo photos leave it out (each "
                         "gets its most detailed region).")
    paths = []
    for text in args.crop_photo:
        given = Path(text)
        path = given if given.is_file() else by_name.get(given.name)
        if path is None:
            raise UsageError(f"--crop-photo {text}: neither a file nor a photo under "
                             f"{args.photos}.")
        if path in paths:
            raise UsageError(f"--crop-photo names {path.name} twice.")
        paths.append(path)
    return paths


def min_side(big: int) -> tuple[int, str]:
    """The short side a photo needs, px, so that every factor's low-resolution input reaches
    ``upscale``'s minimum; and why, for the note that skips a smaller photo."""
    from keras_style.upscale import MIN_LOW_RES

    return MIN_LOW_RES * big, f"×{big} needs {MIN_LOW_RES * big} px per side ({MIN_LOW_RES} px " \
        "low-resolution)"


class Crop(NamedTuple):
    """The region of the crop image: its photo, the photo at ``--size``, the square's side
    and top-left corner in ground-truth px (one region for every factor, on the largest
    factor's grid) and the magnification."""
    path: Path
    image: np.ndarray
    size: int
    origin: tuple[int, int]
    zoom: int


def plan_crops(args, photos: dict, crop_paths: list[Path], big: int) -> list[Crop]:
    """The crop photos (default: the first evaluated one) and, in each, a region of one
    common size that fits in all of them."""
    crop_size = args.crop_size // big * big
    images = {}
    for path in crop_paths or [next(iter(photos))]:
        image = photos.get(path)
        if image is None:
            image = load_photo(PROG, path, args.size, *min_side(big), args.enlarge)
            if image is None:
                raise UsageError(f"--crop-photo {path} is too small at --size {args.size}.")
        room = (min(image.shape[:2]) // big * big - 2 * big) // big * big
        if room < big:
            raise UsageError(f"--crop-photo {path.name} is too small for a crop at ×{big}.")
        if crop_size > room:
            log(f"{PROG}: note: --crop-size {crop_size} does not fit in {path.name} away "
                f"from the border; using {room}.")
            crop_size = room
        images[path] = image
    crops = []
    for path, image in images.items():
        smallest = ground_truth(image, big)
        if args.crop_origin is not None:
            x0, y0 = (v // big * big for v in args.crop_origin)
            if y0 + crop_size > smallest.shape[0] or x0 + crop_size > smallest.shape[1]:
                raise UsageError(f"--crop-origin {x0} {y0} with --crop-size {crop_size} "
                                 f"leaves {path.name} ({smallest.shape[1]}x"
                                 f"{smallest.shape[0]} px at ×{big}).")
        else:
            x0, y0 = most_detailed_window(smallest, crop_size, big, big)
        crops.append(Crop(path, image, crop_size, (x0, y0), args.crop_zoom))
    return crops


# --- the measurements ---------------------------------------------------------------------

class Scorer:
    """What every output goes through: the degradation, bicubic or a network (timed), and
    the feature loss on VGG19 ``--feature-layer``."""

    def __init__(self, tf, args, nets: dict, count: int):
        from keras_style.vgg import canonical_layer_name, loss_network

        try:
            canonical_layer_name(args.feature_layer)
        except ValueError as exc:
            raise UsageError(f"--feature-layer: {exc}") from None
        for by_method in nets.values():
            for net in by_method.values():
                net.check_feature_layer(args.feature_layer)
        self.tf, self.nets = tf, nets
        self.layer, self.tile, self.blur_sigma = args.feature_layer, args.tile, args.blur_sigma
        t = time.perf_counter()
        self.vgg = loss_network([args.feature_layer])
        log(f"{PROG}: VGG19 to {args.feature_layer} built in {time.perf_counter() - t:.1f} s; "
            f"{count} photo(s) at --size {args.size}, factors "
            + ", ".join(f"×{f}" for f in nets))

    def degrade(self, truth: np.ndarray, factor: int) -> np.ndarray:
        from keras_style.data import degrade

        return np.asarray(degrade(truth, factor, self.blur_sigma))

    def features(self, image: np.ndarray):
        return self.vgg(np.asarray(image, np.float32)[None], training=False)[self.layer]

    def feature_loss(self, image, truth_features) -> float:
        tf = self.tf
        return float(tf.reduce_mean(tf.square(self.features(image) - truth_features)))

    def bicubic(self, low: np.ndarray, shape) -> np.ndarray:
        up = self.tf.image.resize(low[None], shape, method="bicubic", antialias=False)
        return np.clip(up.numpy()[0], 0.0, 1.0)

    def reconstruct(self, method: str, low: np.ndarray, shape, f: int) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        out = self.bicubic(low, shape) if method == "bicubic" else \
            self.nets[f][method].upscale(low, self.tile)
        return out, time.perf_counter() - t0

    def score_photo(self, f: int, active: list[str], name: str, photo: np.ndarray,
                    firsts: dict):
        """Every active method on one photo at ×f: ``(row, truth, low, outputs)``; the first
        call of each method (its trace) goes to ``firsts``."""
        truth = ground_truth(photo, f)
        low = self.degrade(truth, f)
        truth_features = self.features(truth)
        row = {"photo": name, "height": int(truth.shape[0]), "width": int(truth.shape[1])}
        outputs = {}
        for m in active:
            if m not in firsts:  # first call: traces the network's tf.function
                firsts[m] = self.reconstruct(m, low, truth.shape[:2], f)[1]
            out, seconds = self.reconstruct(m, low, truth.shape[:2], f)
            if out.shape != truth.shape:
                raise UsageError(f"{self.nets[f][m].spec} returned {out.shape[1]}x"
                                 f"{out.shape[0]} px for a ×{f} enlargement of {low.shape[1]}x"
                                 f"{low.shape[0]} px.")
            out = quantize(out)
            outputs[m] = out
            row[m] = {**y_metrics(out, truth, f),
                      "feature_loss": self.feature_loss(out, truth_features),
                      **grid_measure(out, truth, f), "seconds": seconds}
        return row, truth, low, outputs


class Progress:
    """One stderr line per photo and factor, with the time left at the pace so far."""

    def __init__(self, total: int):
        self.total, self.done, self.start = total, 0, time.perf_counter()

    def step(self, text: str):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        log(text + f"; about {elapsed / self.done * (self.total - self.done) / 60:.1f} min left")


def evaluate_factor(scorer: Scorer, f: int, photos: dict, crops: list[Crop],
                    progress: Progress):
    """Every photo at ×f: ``(active methods, per-photo rows, first-call seconds, {crop
    photo: (truth, low, outputs)} for the crop photos among them)``; the networks are
    loaded and stay so."""
    active = ["bicubic"] + [m for m, n in scorer.nets[f].items() if n.missing is None]
    for m in active[1:]:
        scorer.nets[f][m].load()
    firsts, per_photo, crop_outputs = {}, [], {}
    wanted = {c.path for c in crops}
    for i, (p, photo) in enumerate(photos.items()):
        row, truth, low, outputs = scorer.score_photo(f, active, p.name, photo, firsts)
        per_photo.append(row)
        if p in wanted:
            crop_outputs[p] = (truth, low, outputs)
        progress.step(f"  ×{f} [{i + 1}/{len(photos)}] {p.name} {truth.shape[1]}x"
                      f"{truth.shape[0]}: "
                      + ", ".join(f"{m} {row[m]['psnr']:.2f} dB" for m in active))
    return active, per_photo, firsts, crop_outputs


def crop_row(scorer: Scorer, f: int, active: list[str], crop: Crop, crop_outputs) -> list:
    """One row of the crop image, ×f on one photo: input, bicubic, each network, ground
    truth.  ``crop_outputs`` is ``(truth, low, outputs)`` if the photo was evaluated."""
    if crop_outputs is None:  # the crop photo is not among the evaluated ones
        truth = ground_truth(crop.image, f)
        low = scorer.degrade(truth, f)
        crop_outputs = (truth, low, {m: quantize(scorer.reconstruct(m, low, truth.shape[:2],
                                                                    f)[0]) for m in active})
    truth, low, outputs = crop_outputs
    (x0, y0), s, z = crop.origin, crop.size, crop.zoom

    def cut(img, scale=1):
        return img[y0 // scale:(y0 + s) // scale, x0 // scale:(x0 + s) // scale]

    nets = scorer.nets[f]
    psnrs = {m: y_metrics(o, truth, f)["psnr"] for m, o in outputs.items()}
    row = [((f"x{f} input", f"{s // f} px, nearest"), nearest(cut(low, f), f * z))]
    for m in ["bicubic", *nets]:
        title = LABELS[m] if m == "bicubic" else f"{nets[m].label} ({nets[m].name})"
        row.append(((title, f"{psnrs[m]:.2f} dB"), nearest(cut(outputs[m]), z))
                   if m in outputs else ((title, "missing"), None))
    row.append((("ground truth", f"{crop.path.name}"), nearest(cut(truth), z)))
    return row


def measure(scorer: Scorer, photos: dict, crops: list[Crop]):
    """Every factor: ``(JSON results by factor, report sections, crop-image rows, progress)``;
    the crop rows go photo by photo, each photo's factors together."""
    progress = Progress(len(scorer.nets) * len(photos))
    results, sections, rows = {}, [], {}
    for f, nets in scorer.nets.items():
        active, per_photo, firsts, crop_outputs = evaluate_factor(scorer, f, photos, crops,
                                                                  progress)
        for i, crop in enumerate(crops):
            rows[i, f] = crop_row(scorer, f, active, crop, crop_outputs.get(crop.path))
        text, means = report_factor(f, nets, per_photo, firsts)
        sections.append(text)
        results[f] = {"means": means, "photos": per_photo, "first_call_seconds": firsts,
                      "networks": {m: {"spec": n.spec, "found": n.missing is None,
                                       "json": str(n.meta_path) if n.meta_path else None}
                                   for m, n in nets.items()}}
        for m in active[1:]:
            nets[m].model = None
    crop_rows = [rows[key] for key in sorted(rows)]
    return results, sections, crop_rows, progress


# --- the outputs --------------------------------------------------------------------------

def print_tables(args, photos: dict, sections: list[str], load_start):
    names = [p.name for p in photos]
    smaller = sum(max(image.shape[:2]) < args.size for image in photos.values())
    print("## Super-resolution on held-out photos: bicubic, pixel loss, perceptual loss\n")
    print(f"Photos: {len(names)} from `{args.holdout.name}` ({', '.join(names)}), "
          + (f"resized to {args.size} px on the long side" if args.size and args.enlarge
             else f"at most {args.size} px on the long side (larger ones shrunk, smaller ones "
                  f"at their own size: {smaller} of them)"
             if args.size else "at full size")
          + ", cut to multiples of the factor. Low-resolution inputs from "
          f"`keras_style.data.degrade` (Gaussian blur σ = {args.blur_sigma:g}, bicubic "
          "`tf.image.resize`); outputs quantized to 8 bits. PSNR and SSIM on BT.601 Y "
          "(16–235, peak 255) with `factor` px shaved per side; SSIM 11×11 Gaussian σ 1.5, "
          f"K1 0.01, K2 0.03. Feature loss: mean squared difference of VGG19 "
          f"`{args.feature_layer}` activations, whole image; × bicubic's: the ratio of "
          "the means. Grid: how much the spectrum lines at k/factor cycles per pixel stand "
          "out of their neighbours in Y, the output's over the ground truth's (1: as in the "
          "photo). Means over the photos.\n")
    print("\n\n".join(sections))
    print()
    print(machine_line(tensorflow_info(), args.threads, load_start))


def write_crops(args, crops: list[Crop], rows: list):
    from keras_style import image as im

    cell = crops[0].size * crops[0].zoom
    sheet = compose_crops(rows, cell, max(11, min(16, cell // 16)))
    im.save_image(im.from_pil(sheet), args.crops)
    regions = "; ".join(f"{c.path.name} at ({c.origin[0]}, {c.origin[1]})" for c in crops)
    log(f"{PROG}: wrote {args.crops} ({sheet.width}x{sheet.height} px; regions "
        f"{crops[0].size}x{crops[0].size} px: {regions})")


def write_results(args, names: list[str], crops: list[Crop], results: dict):
    payload = {"size": args.size, "enlarge": args.enlarge, "factors": list(results), "blur_sigma": args.blur_sigma,
               "feature_layer": args.feature_layer, "shave": "factor",
               "quantized_outputs": True, "photos": names,
               "crops": [{"photo": c.path.name, "origin": list(c.origin), "size": c.size}
                         for c in crops],
               "machine": cpu_description(), **tensorflow_info(),
               "results": {f"x{f}": r for f, r in results.items()}}
    write_json(PROG, args.json, json_safe(payload), allow_nan=False)


# --- the run ------------------------------------------------------------------------------

def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    factors = sorted(set(args.factors))
    big = max(factors)
    check_arguments(args, big)
    nets = locate_networks(args, factors)  # every file found, every JSON checked
    by_name = photo_index(args.photos)
    candidates = holdout_photos(PROG, args.photos, args.holdout, by_name=by_name)
    crop_paths = given_crop_photos(args, by_name)
    check_outputs(args, [args.holdout, *candidates, *crop_paths] + network_files(nets))
    photos = load_photos(PROG, candidates, args.size, *min_side(big), args.limit,
                         args.enlarge)
    crops = [] if args.no_crops else plan_crops(args, photos, crop_paths, big)

    load_start = os.getloadavg()
    scorer = Scorer(setup_tensorflow(args.threads), args, nets, len(photos))
    results, sections, crop_rows, progress = measure(scorer, photos, crops)
    names = [p.name for p in photos]
    print_tables(args, photos, sections, load_start)
    log(f"Total wall time {time.perf_counter() - progress.start:.0f} s.")
    if crops:
        write_crops(args, crops, crop_rows)
    if args.json is not None:
        write_results(args, names, crops, results)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
