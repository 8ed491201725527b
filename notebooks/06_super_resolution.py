# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6 · Super-resolution with perceptual losses (Johnson et al., 2016)
#
# The talk's last idea: the fast-network recipe of notebook 5 "does super-resolution
# (enhancing low-resolution images)" too. The network now takes a small image and returns
# one 4 or 8 times larger; training pairs are made by shrinking photos, and the loss
# compares the network's output with the original photo:
#
# * the **per-pixel loss** (mean squared error) is the classic choice; it rewards the
#   average of all plausible answers, which is blurry;
# * the **feature reconstruction loss** (the content loss of notebook 3, at VGG19's
#   `relu2_2`) asks only that the output *look* the same to VGG19, and gives sharper
#   edges and invented, plausible texture.
#
# `weights/` ships networks of both kinds, for ×4 and ×8. This notebook puts, side by side,
# the low-resolution input, the standard bicubic enlargement, the networks and the
# original.

# %% [markdown]
# ## Parameters
#
# The defaults use 256-pixel originals (so the ×4 input is 64 pixels wide and the ×8 input
# 32) and three photos: the notebook runs in about a minute on a 2-core CPU and in CI.
# `FULL_QUALITY = True` uses the photos at their full 768 pixels, and five of them for the
# scores (the grids show three, the close-ups two; about a minute on a CPU).

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full-size photos, more of them

# Photos the shipped networks never trained on (weights/holdout.txt); colosseum.jpg is
# bundled with keras_style, the others are in ../shared/data/photos/ when present.
PHOTOS = ["animals_moose.jpg", "monuments_palaisdespapes.jpg", "colosseum.jpg"]
HR_SIZE = 256  # long side of the original ("high-resolution") photo, pixels
FACTORS = (4, 8)  # upscaling factors to show
ZOOM = 0.35  # the close-up shows this fraction of the photo's width and height
OVERVIEW = 3  # photos in the side-by-side grids (the scores use every photo)
CLOSE_UPS = 2  # photos with a close-up
# ------------------------------------------------------------------------------

# %%
import keras_style
from keras_style.notebook import find_image, full_quality, run_report, show_jpeg

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    HR_SIZE = 768
    PHOTOS = PHOTOS + ["animals_crocodile.jpg", "monuments_greatwallofchina.jpg"]

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from keras_style.data import degrade
from keras_style.image import as_image, from_pil, to_pil
from keras_style.networks import read_metadata, resolve, training_totals
from keras_style.nets.superres import build_super_resolution

import keras  # after keras_style, which imports TensorFlow without its start-up log lines
import tensorflow as tf


photo_paths = list(dict.fromkeys(find_image(name, "photos") for name in PHOTOS))  # no repeats


def load_original(path):
    """The photo at HR_SIZE, cropped to multiples of 8 so every factor divides it."""
    img = as_image(path, max_size=HR_SIZE)
    h, w = img.shape[0] // 8 * 8, img.shape[1] // 8 * 8
    return img[:h, :w]


originals = [load_original(p) for p in photo_paths]
for path, img in zip(photo_paths, originals):
    print(f"{path.name}: {img.shape[1]}×{img.shape[0]}")

# %% [markdown]
# ## 1. The super-resolution network
#
# From the paper's supplementary material: a 9 × 9 convolution, residual blocks working at
# the *low* resolution (cheap), then one ×2 upsampling stage per factor of two, and a
# 9 × 9 convolution back to RGB. `keras_style.nets.superres.build_super_resolution` builds it
# (each upsampling stage enlarges ×2, nearest-neighbour or bilinear, then convolves).
#
# The networks we ship (`sr_architecture(factor)`, which is what
# `python -m keras_style.train --task super-resolution` builds) change three things so that
# a few CPU-hours of training are enough:
#
# * the bicubic enlargement of the input is **added** to the network's output, and the last
#   convolution starts at zero: an untrained network *is* bicubic, and training only has to
#   learn the missing detail (the paper's network starts from noise; our first runs of it
#   were far worse than bicubic after 300 steps);
# * no batch normalization;
# * a linear output, clipped to `[0, 1]` when the network is used, instead of the tanh.
#
# The ×4 perceptual network `sr_x4` also has **bilinear** stages: nearest-neighbour stages
# print a faint period-4 grid once trained. It was trained with `--loss-jitter 3` (the loss
# sees the output at a random pixel offset each step, so a pattern in step with the stages
# cannot hide from VGG19's pooling) and a small per-pixel term beside the feature loss
# (`--pixel-weight 1e6`); the main README has the measurements. The ×8 perceptual network
# `sr_x8` was *grown* from that ×4 training: `--init` with `--factor 8` copied its layers,
# added a third bilinear stage that starts as plain upsampling and set the last
# convolution to zero, so it began as bicubic on features already trained, then went on
# as ×8 with the same loss. The pixel-loss networks are the earlier nearest-stage ones.
#
# On the paper's 72 × 72 input, ×4:

# %%
from keras_style.nets.superres import sr_architecture

sr = build_super_resolution(**sr_architecture(4))
fixed = keras.models.clone_model(sr, input_tensors=keras.Input(batch_shape=(1, 72, 72, 3)))
print(f"{'input':12s} {'':16s} → 3 × 72 × 72")
for layer in fixed.layers:
    if layer.name.endswith("_conv") or layer.name.startswith(("residual", "bicubic")):
        _, h, w, c = layer.output.shape
        print(f"{layer.name:12s} {type(layer).__name__:16s} → {c} × {h} × {w}")
print(f"{fixed.count_params():,} weights (×8: "
      f"{build_super_resolution(**sr_architecture(8)).count_params():,}); the paper's exact "
      f"network, build_super_resolution(4): {build_super_resolution(4).count_params():,}")
assert tuple(fixed.output.shape) == (1, 288, 288, 3)

# untrained, it is bicubic interpolation exactly (TensorFlow's bicubic)
probe = np.random.default_rng(0).random((1, 20, 24, 3)).astype("float32")
gap = np.abs(np.asarray(sr(probe)) - np.clip(tf.image.resize(probe, (80, 96), "bicubic"), 0, 1))
print(f"untrained network vs bicubic: largest difference {float(gap.max()):.1e}")
assert gap.max() < 1e-5

# %% [markdown]
# ## 2. Making the low-resolution input
#
# Training pairs are made as in the paper, and we make our test inputs the same way with
# `keras_style.data.degrade`: blur the original with a Gaussian (σ = 1 pixel), then shrink
# it by the factor with bicubic interpolation. The network never sees the original; the
# loss does.

# %%
lows = {f: [np.asarray(degrade(img, f)) for img in originals] for f in FACTORS}

img = originals[0]
fig, axes = plt.subplots(1, 1 + len(FACTORS), figsize=(3.2 * (1 + len(FACTORS)), 2.8))
axes[0].imshow(img)
axes[0].set_title(f"original {img.shape[1]}×{img.shape[0]}", fontsize=9)
for ax, f in zip(axes[1:], FACTORS):
    low = lows[f][0]
    ax.imshow(low, interpolation="nearest")
    ax.set_title(f"÷{f}: {low.shape[1]}×{low.shape[0]} pixels", fontsize=9)
for ax in axes:
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## 3. The shipped networks
#
# `keras_style.available_networks("super-resolution")` lists the super-resolution networks
# in `weights/` (those whose JSON says `"task": "super-resolution"`). Each one's JSON also
# records its factor and its loss: `perceptual` (feature reconstruction) or `pixel`.

# %%
networks = {}  # factor -> {loss kind -> (name, model)}
for name in keras_style.available_networks("super-resolution"):
    meta = read_metadata(resolve(name)[0])
    factor, kind = int(meta["architecture"]["factor"]), meta["loss"]["kind"]
    networks.setdefault(factor, {})[kind] = (name, keras_style.load_model(name))
    hp = meta.get("hyperparameters", {})
    steps, seconds = training_totals(meta)  # a network trained in stages: all of them
    hours = seconds / 3600
    print(f"{name:12s} ×{factor}, {kind} loss: {steps:,} steps of "
          f"{hp.get('batch_size')} × {hp.get('image_size')}² crops from "
          f"{meta.get('training_images')} photos, {hours:.1f} h"
          + (f" (in {len(meta['training_history'])} stages)" if "training_history" in meta else ""))
if not networks:
    print("No super-resolution networks are shipped yet (weights/ has none): the comparison "
          "below shows bicubic interpolation only.")
KINDS = [k for k in ("pixel", "perceptual") if any(k in n for n in networks.values())]

# %% [markdown]
# ## 4. Side by side
#
# For each factor: the low-resolution input (drawn with its pixels visible), bicubic
# interpolation (`PIL`'s, the usual baseline), the network trained on the per-pixel loss,
# the network trained on the feature reconstruction loss, and the original.
# `keras_style.upscale_image(image, model)` runs a network on an image of any size.


# %%
def bicubic(low, factor):
    h, w = low.shape[:2]
    return from_pil(to_pil(low).resize((w * factor, h * factor), resample=3))  # 3: BICUBIC


results, seconds = {}, {}  # (factor, method) -> [images], [seconds]
for f in FACTORS:
    results[f, "bicubic"] = [bicubic(low, f) for low in lows[f]]
    for kind, (name, model) in networks.get(f, {}).items():
        out, times = [], []
        for low in lows[f]:
            t0 = time.perf_counter()
            out.append(keras_style.upscale_image(low, model))
            times.append(time.perf_counter() - t0)
        results[f, kind], seconds[f, kind] = out, times
        print(f"{name}: {times[0]:.2f} s for the first image (includes tracing the graph), "
              f"then {np.mean(times[1:] or times):.2f} s per image")


def columns(f):
    cols = [("input", lows[f]), ("bicubic", results[f, "bicubic"])]
    cols += [(f"{networks[f][k][0]} ({k} loss)", results[f, k]) for k in KINDS
             if (f, k) in results]
    return cols + [("original", originals)]


shown = min(OVERVIEW, len(originals))
for f in FACTORS:
    cols = columns(f)
    fig, axes = plt.subplots(shown, len(cols), figsize=(2.7 * len(cols), 2.1 * shown),
                             squeeze=False)
    for j, (title, images) in enumerate(cols):
        for i, image in enumerate(images[:shown]):
            axes[i, j].imshow(image, interpolation="nearest")
            axes[i, j].axis("off")
        axes[0, j].set_title(title if j else f"input ({images[0].shape[1]}×"
                             f"{images[0].shape[0]})", fontsize=9)
    fig.suptitle(f"×{f} super-resolution", fontsize=11)
    plt.tight_layout()
    show_jpeg(fig)

# %% [markdown]
# ### Close-up
#
# The same columns for the centre of the first photos, enlarged, where the differences
# live: edges, fur, stone.

# %%
def close_up(image, original):
    h, w = original.shape[:2]
    ch, cw = round(h * ZOOM), round(w * ZOOM)
    top, left = (h - ch) // 2, (w - cw) // 2
    s = image.shape[0] / h  # 1, or 1/factor for the input
    return image[round(top * s):round((top + ch) * s), round(left * s):round((left + cw) * s)]


near = min(CLOSE_UPS, len(originals))
for f in FACTORS:
    cols = columns(f)
    fig, axes = plt.subplots(near, len(cols), figsize=(3.0 * len(cols), 2.9 * near),
                             squeeze=False)
    for j, (title, images) in enumerate(cols):
        for i in range(near):
            axes[i, j].imshow(close_up(images[i], originals[i]), interpolation="nearest")
            axes[i, j].axis("off")
        axes[0, j].set_title(title, fontsize=9)
    fig.suptitle(f"×{f}, close-ups of " + " and ".join(p.name for p in photo_paths[:near]),
                 fontsize=10)
    plt.tight_layout()
    show_jpeg(fig)

# %% [markdown]
# ## 5. Numbers: PSNR and SSIM
#
# The usual scores compare the result with the original pixel by pixel: PSNR (peak
# signal-to-noise ratio, in dB, from the mean squared error) and SSIM (structural
# similarity), both higher-is-better, here on RGB in `[0, 1]` over the whole image. The
# pixel-loss network is trained on exactly the mean squared error behind PSNR. Johnson et
# al. report that their feature-loss network scores *below* bicubic on PSNR and SSIM while
# looking sharper: these scores reward agreeing with the original pixel by pixel, not
# plausible detail. Compare the numbers with the pictures above.
#
# (The README's table comes from `python benchmarks/super_resolution.py`: the same
# comparison on all 20 held-out photos at 512 px, scored on the luminance channel as
# super-resolution papers do, plus the feature-reconstruction loss.)

# %%
def scores(images):
    psnr = [float(tf.image.psnr(a, b, max_val=1.0)) for a, b in zip(images, originals)]
    ssim = [float(tf.image.ssim(tf.constant(a), tf.constant(b), max_val=1.0))
            for a, b in zip(images, originals)]
    return np.mean(psnr), np.mean(ssim)


print(f"mean over {len(originals)} photos at {HR_SIZE} px")
print(f"{'factor':>6s}  {'method':34s} {'PSNR dB':>8s} {'SSIM':>6s}")
for f in FACTORS:
    for title, images in columns(f)[1:-1]:
        psnr, ssim = scores(images)
        print(f"{'×' + str(f):>6s}  {title:34s} {psnr:8.2f} {ssim:6.3f}")

# %% [markdown]
# ## Takeaways
#
# * Super-resolution is the fast style network's recipe with another task: a network
#   trained once on (small, original) pairs, then one forward pass per image
#   (`keras_style.upscale_image`, or `python -m keras_style.upscale`).
# * The loss decides the look: mean squared error gives the safe, blurry average;
#   VGG19's features give sharper edges and plausible texture, which the pixel scores
#   do not reward.
# * Train your own with `python -m keras_style.train --task super-resolution --factor 4`
#   (`--pixel-loss` for the baseline); see the main README.
#
# Photos: moose (Ryan Hagerty) and the Colosseum (Urse Ovidiu), public domain; Palais des
# Papes (Tognopop), CC0; via GCompris, see `../shared/data/credits/`.

# %%
print(run_report())
