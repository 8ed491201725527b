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
# # 5 · Fast style transfer (Johnson et al., 2016)
#
# Gatys's method (notebook 4) optimizes the *pixels* of one image: every new photo needs a
# new optimization of hundreds of steps. Johnson et al., "Perceptual Losses for Real-Time
# Style Transfer and Super-Resolution", keep the same losses but optimize the *weights* of
# an **image transformation network** instead:
#
# * the network takes a photo and returns an image of the same size;
# * training feeds it thousands of photos; its output goes through the frozen VGG19 of
#   notebooks 3–4, and the loss (content of the photo + style of one painting) is
#   back-propagated into the network's weights;
# * after training, stylizing any photo in that one style is **a single forward pass**.
#
# This notebook, with `keras_style`:
#
# 1. builds the talk's transformation network and checks `model.summary()` against the
#    slide's table;
# 2. trains a small network for a few steps, live, with the package's training API;
# 3. applies the pretrained networks shipped in `weights/` to photos they never saw (the
#    talk's *Examples* slides);
# 4. paints with *any* painting in one pass (Magenta's arbitrary network) and with the
#    26-style network;
# 5. fine-tunes the arbitrary network to a new painting in minutes, the loss drawn live:
#    how the shipped networks were made;
# 6. times one forward pass against one Gatys optimization of the same photo.

# %% [markdown]
# ## Parameters
#
# The defaults are small (192-pixel images, 5 training steps on 64-pixel crops, 5
# fine-tuning steps on 96-pixel crops, 20 L-BFGS iterations for the Gatys comparison) so
# the notebook runs in about three minutes on one busy CPU core and in CI.
# `FULL_QUALITY = True` stylizes at 512 px, trains for 300 steps on 160-pixel crops (the
# live network then starts to look like a painting; from scratch a network needs
# thousands of steps), fine-tunes for 150 steps on 192-pixel crops (the shipped networks'
# recipe: 5–15 minutes on one core) and gives Gatys 100 iterations at 512 px (the cell
# estimates the paper's 500 from their pace). The stored notebook is such a run; its last
# cell prints how long it took and on what CPU.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full sizes and step counts (slow on a CPU)

# Photos the shipped networks never trained on (weights/holdout.txt); the first is
# bundled with keras_style, the others are in ../shared/data/photos/ when present.
PHOTOS = ["colosseum.jpg", "animals_moose.jpg", "monuments_palaisdespapes.jpg",
          "monuments_greatwallofchina.jpg"]
PAINTING = "starry_night.jpg"  # the style of the live training and the timing comparison
SIZE = 192  # long side of the stylized photos, pixels
TRAIN_STEPS = 5  # live training steps
TRAIN_SIZE = 64  # side of the square training crops
TRAIN_BATCH = 1  # crops per step
# Paintings no shipped network was trained for (../shared/data/styles/), for section 4
ANY_PAINTINGS = ["poppies.jpg", "church_at_auvers.jpg", "night_cafe.jpg"]
MULTISTYLE = 19  # one of the 26-style network's styles (notebook 7 shows all of them)
NEW_STYLE = "the_harvest.jpg"  # the painting fine-tuned in section 5 (not a shipped one)
TUNE_STEPS = 5  # fine-tuning steps
TUNE_SIZE = 96  # side of the square fine-tuning crops
GATYS_STEPS = 20  # L-BFGS iterations of the Gatys optimization we time against
SEED = 0
# ------------------------------------------------------------------------------

# %%
import keras_style
from keras_style.notebook import ASSETS, SHARED_DATA, find_image, full_quality, run_report, show_jpeg

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    SIZE = 512
    TRAIN_STEPS = 300
    TRAIN_SIZE = 160
    TRAIN_BATCH = 2
    TUNE_STEPS = 150
    TUNE_SIZE = 192
    GATYS_STEPS = 100

# %% [markdown]
# ## Setup

# %%
import shutil
import tempfile
import time
from pathlib import Path

from io import BytesIO

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

from keras_style.image import as_image
from keras_style.losses import PerceptualLoss
from keras_style.networks import shipped_weights_dir
from keras_style.training import TrainConfig, build_network, check_inputs, fit
from keras_style.nets.johnson import ARCHITECTURES, build_transformer

import keras  # after keras_style, which imports TensorFlow without its start-up log lines


photo_paths = list(dict.fromkeys(find_image(name, "photos") for name in PHOTOS))  # no repeats
painting_path = find_image(PAINTING, "styles")
photos = [as_image(p, max_size=SIZE) for p in photo_paths]

fig, axes = plt.subplots(1, len(photos) + 1, figsize=(2.6 * (len(photos) + 1), 2.4))
for ax, img, title in zip(axes, photos + [as_image(painting_path, max_size=SIZE)],
                          [p.name for p in photo_paths] + ["style: " + painting_path.name]):
    ax.imshow(img)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## 1. The image transformation network (slide 6)
#
# `keras_style.build_transformer("johnson")` builds exactly the slide's network. It accepts
# images of any size, so its own summary shows `None` for height and width; cloned onto a
# fixed 256 × 256 input (the slide's example) every layer reports its activation size.
# Besides the slide's rows the summary lists what the slide leaves implicit: a
# normalization and a ReLU after each convolution, the reflection padding in front of each
# stride-1 convolution, `to_pixels` (the scaled tanh that maps the last convolution's
# output to `[0, 1]`), and two bookkeeping layers that do nothing at 256 × 256
# (`pad_to_multiple` and `crop_to_input`: they let the network take any size).

# %%
johnson = build_transformer("johnson")
fixed = keras.models.clone_model(johnson, input_tensors=keras.Input(batch_shape=(1, 256, 256, 3)))
fixed.summary(line_length=100)

# %% [markdown]
# The slide's table next to the summary, in the slide's channels × height × width order.
# Each residual block uses two *unpadded* 3 × 3 convolutions, so it shaves 4 pixels off
# each side (84 → 80 → … → 64); the 40-pixel reflection padding at the input pays for
# exactly that, and the two "stride 1/2" (transposed) convolutions bring 64 back to 256.

# %%
SLIDE = [  # (slide row, our layer, activation size on the slide: C, H, W)
    ("Input", None, (3, 256, 256)),
    ("Reflection padding (40 × 40)", "reflection_pad", (3, 336, 336)),
    ("32 × 9 × 9 conv, stride 1", "down1_conv", (32, 336, 336)),
    ("64 × 3 × 3 conv, stride 2", "down2_conv", (64, 168, 168)),
    ("128 × 3 × 3 conv, stride 2", "down3_conv", (128, 84, 84)),
    ("Residual block, 128 filters", "residual1", (128, 80, 80)),
    ("Residual block, 128 filters", "residual2", (128, 76, 76)),
    ("Residual block, 128 filters", "residual3", (128, 72, 72)),
    ("Residual block, 128 filters", "residual4", (128, 68, 68)),
    ("Residual block, 128 filters", "residual5", (128, 64, 64)),
    ("64 × 3 × 3 conv, stride 1/2", "up1_conv", (64, 128, 128)),
    ("32 × 3 × 3 conv, stride 1/2", "up2_conv", (32, 256, 256)),
    ("3 × 9 × 9 conv, stride 1", "out_conv", (3, 256, 256)),
]


def chw(shape):
    _, h, w, c = shape
    return (c, h, w)


print(f"{'slide':30s} {'slide size':>15s}   {'our layer':16s} {'our size':>15s}")
for row, layer, size in SLIDE:
    ours = chw(fixed.inputs[0].shape if layer is None else fixed.get_layer(layer).output.shape)
    print(f"{row:30s} {' × '.join(map(str, size)):>15s}   {layer or 'image':16s} "
          f"{' × '.join(map(str, ours)):>15s}")
    assert ours == size, (row, ours, size)
print(f"\nall {len(SLIDE)} rows match; {johnson.count_params():,} weights")

# %% [markdown]
# ### Variants
#
# `build_transformer` also builds three variants (`keras_style.nets.johnson.ARCHITECTURES`):
# `johnson_in` swaps batch normalization for instance normalization (Ulyanov et al., 2016:
# much better stylization), `johnson_up` also replaces the transposed convolutions by
# nearest-neighbour upsampling + convolution (no checkerboard artifacts) and the tanh by a
# linear output clipped at inference, and `light` is `johnson_up` at half the width, about
# four times cheaper. The first style networks shipped in `weights/` were `light` networks
# trained from scratch; the ones shipped now are fine-tuned from the arbitrary network
# (sections 4 and 5).

# %%
for name, arch in ARCHITECTURES.items():
    net = johnson if name == "johnson" else build_transformer(name)
    print(f"{name:11s} {net.count_params():>9,} weights | normalization {arch.normalization:8s} | "
          f"upsampling {arch.upsampling:9s} | widths {arch.width}-{2 * arch.width}-"
          f"{4 * arch.width} | output {arch.output}")

# %% [markdown]
# ## 2. Training, live
#
# `python -m keras_style.train` trains a network; from Python the same is
# `keras_style.training.fit(TrainConfig(...))`, which returns the trained model (and the
# record `train` would save beside it). Each step takes a batch of random crops of
# the training photos, runs them through the network, and takes an Adam step on the
# network's weights against the perceptual loss: content at VGG19's `block2_conv2`
# (`relu2_2`), style at `block1_conv2`, `block2_conv2`, `block3_conv3`, `block4_conv3`
# (`relu1_2` … `relu4_3`, Johnson et al.'s layers), plus total variation.
#
# A handful of steps on tiny crops is all a notebook can afford; watch the loss fall.
# `fit(..., callback=...)` hands us every step's loss terms, which we keep to plot. The
# held-out photos are excluded from the training data, as for the shipped networks.

# %%
shared_photos = next((d / "photos" for d in SHARED_DATA if (d / "photos").is_dir()), None)
workdir = Path(tempfile.mkdtemp(prefix="keras_style_nb05_"))
holdout = shipped_weights_dir() / "holdout.txt"
if shared_photos is not None:
    data_dir = shared_photos
else:  # no ../shared: train on the bundled photo alone
    data_dir = workdir / "photos"
    data_dir.mkdir()
    shutil.copy(ASSETS / "colosseum.jpg", data_dir)

config = TrainConfig(style=str(painting_path), data=str(data_dir), out=str(workdir / "live"),
                     arch="light", steps=TRAIN_STEPS, batch_size=TRAIN_BATCH,
                     image_size=TRAIN_SIZE, style_size=max(TRAIN_SIZE, 128),
                     holdout=str(holdout) if shared_photos is not None else None,
                     log_every=max(1, TRAIN_STEPS // 50), checkpoint_every=TRAIN_STEPS,
                     progress=False, seed=SEED)
history = {"step": []}


def record(step, terms, wall_seconds):
    history["step"].append(step)
    for key, value in terms.items():
        history.setdefault(key, []).append(value)


t0 = time.perf_counter()
result = fit(config, callback=record)
train_seconds = time.perf_counter() - t0
assert result.status == 0, result.message
print(f"{TRAIN_STEPS} steps of {TRAIN_BATCH} × {TRAIN_SIZE}² crops from {data_dir.name}/ "
      f"in {train_seconds:.1f} s (including loading VGG19 and tracing the training step)")

# %%
live = result.model  # the trained Keras model itself: nothing to write and read back
untrained = build_transformer("light")  # freshly initialized weights, for comparison
photo = photos[0]

fig, axes = plt.subplots(1, 4, figsize=(13, 2.9), gridspec_kw={"width_ratios": [1.4, 1, 1, 1]})
for key in ("total", "content", "style", "tv"):
    axes[0].semilogy(history["step"], history[key], "o-", label=key, lw=2 if key == "total" else 1)
axes[0].set_xlabel("training step")
axes[0].set_ylabel("weighted loss")
axes[0].legend(fontsize=8)
axes[0].set_title("live training (light network)", fontsize=9)
for ax, img, title in ((axes[1], photo, "photo"),
                       (axes[2], keras_style.apply_network(untrained, photo), "untrained network"),
                       (axes[3], keras_style.apply_network(live, photo),
                        f"after {TRAIN_STEPS} steps")):
    ax.imshow(img)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)
print(f"total loss: step {history['step'][0]} {history['total'][0]:.4g} → "
      f"step {history['step'][-1]} {history['total'][-1]:.4g}")

# %% [markdown]
# The loss falls steeply from the first steps, almost all of it the style term: the
# untrained network's output has nothing of the painting's Gram matrices. But a few steps
# on tiny crops leave the picture close to the untrained network's noise. From random
# weights, a network that paints takes thousands of steps over many photos, hours on a
# CPU. The shipped networks of the next section took a shortcut (section 5): they started
# from a network that already paints. Their JSON files record how they were made.

# %% [markdown]
# ## 3. The pretrained networks (the *Examples* slides)
#
# The talk showed *The Starry Night* (and Picasso's *The Muse*, still under copyright;
# public-domain paintings stand in). `keras_style.available_networks("style")` lists the style networks
# shipped in `weights/`; each loads by name with `keras_style.load_model`, and
# `keras_style.apply_network` runs it on an image of any size. The photos below are in
# `weights/holdout.txt`: none of the networks trained on them.

# %%
shipped = {}
for name in keras_style.available_networks("style"):
    shipped[name] = keras_style.load_model(name, with_metadata=True)

if shipped:
    for name, (model, meta) in shipped.items():
        hp = meta.get("hyperparameters", {})
        start = (meta.get("init") or {}).get("network")
        how = (f"fine-tuned from the {start} network" if start
               else f"{meta.get('architecture_name')} from scratch")
        print(f"{name:17s} {meta.get('style_image')}, {how}: "
              f"{meta.get('steps', 0):,} steps of {hp.get('batch_size')} × "
              f"{hp.get('image_size')}² crops from {meta.get('training_images')} photos, "
              f"{meta.get('wall_seconds', 0) / 60:.0f} min")
    networks = {name: (model, find_image(meta["style_image"], "styles")
                       if meta.get("style_image") else None)
                for name, (model, meta) in shipped.items()}
else:
    print("No pretrained style networks are shipped yet (weights/ is empty); showing the "
          f"network trained above for {TRAIN_STEPS} steps instead.")
    networks = {f"live ({TRAIN_STEPS} steps)": (live, painting_path)}

# %%
t0 = time.perf_counter()
results = {name: [keras_style.apply_network(model, p) for p in photos]
           for name, (model, _) in networks.items()}
print(f"{len(networks) * len(photos)} forward passes at {SIZE} px (plus one trace per "
      f"network) in {time.perf_counter() - t0:.1f} s")

rows, cols = len(photos) + 1, len(networks) + 1
fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.0 * rows))
axes[0, 0].axis("off")
for j, (name, (_, style_path)) in enumerate(networks.items(), start=1):
    if style_path is not None:
        axes[0, j].imshow(as_image(style_path, max_size=SIZE))
    axes[0, j].set_title(name, fontsize=9)
    axes[0, j].axis("off")
for i, (photo_path, img) in enumerate(zip(photo_paths, photos), start=1):
    axes[i, 0].imshow(img)
    axes[i, 0].set_title(photo_path.name, fontsize=8)
    axes[i, 0].axis("off")
    for j, name in enumerate(networks, start=1):
        axes[i, j].imshow(results[name][i - 1])
        axes[i, j].axis("off")
fig.suptitle("Pretrained networks on held-out photos (top row: the paintings)", fontsize=10)
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## 4. Any painting in one pass: the arbitrary and 26-style networks
#
# Each network above knows one painting; a new painting means a new network. Magenta's
# **arbitrary network** (Ghiasi et al., 2017) takes the painting as a second input: a style
# predictor turns the painting into 100 numbers, and a transformer much like the ones
# above paints with them, through the scales and shifts of its instance normalizations.
# `keras_style.arbitrary_stylize(photo, painting)` is the whole call. Below, a held-out
# photo in three paintings that no shipped network was trained for. Notebook 7 takes this
# network (and the 26-style one) apart: conditional instance normalization, the sizes of
# the two parts, the style vectors.

# %%
any_photo_path, any_photo = photo_paths[-1], photos[-1]  # a held-out photo
any_paths = list(dict.fromkeys(find_image(name, "styles") for name in ANY_PAINTINGS))

t0 = time.perf_counter()
keras_style.arbitrary_stylize(any_photo, any_paths[0], size=SIZE)  # loads both networks, traces
print(f"first call (loading and tracing included): {time.perf_counter() - t0:.1f} s")
any_results = []
for path in any_paths:
    t0 = time.perf_counter()
    any_results.append(keras_style.arbitrary_stylize(any_photo, path, size=SIZE))
    print(f"{path.name:22s} {time.perf_counter() - t0:.2f} s (a predictor pass and a "
          f"transformer pass)")

cols = len(any_paths) + 1
fig, axes = plt.subplots(2, cols, figsize=(2.6 * cols, 4.2))
axes[0, 0].axis("off")
axes[1, 0].imshow(any_photo)
axes[1, 0].set_title(any_photo_path.name, fontsize=8)
for j, (path, result) in enumerate(zip(any_paths, any_results), start=1):
    axes[0, j].imshow(as_image(path, max_size=SIZE))
    axes[0, j].set_title(path.stem.replace("_", " "), fontsize=9)
    axes[1, j].imshow(result)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("The arbitrary network: the painting is an input (top row), nothing is trained",
             fontsize=10)
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# Because the style is a vector, it can be mixed. `strength=t` paints with
# $t\,s_\text{painting} + (1 - t)\,s_\text{photo}$, where $s_\text{photo}$ is the style vector
# of the photo itself: at 0 the photo repainted in its own style, at 1 the painting's
# (a mix of vectors, not a cross-fade of pixels). A list of paintings with `weights` blends
# their vectors. The **26-style network** (Dumoulin et al., 2017) is the same transformer
# with a table of 26 learned styles instead of a predictor:
# `keras_style.multistyle_stylize(photo, 19)` picks one row, `"3:0.5,19:0.5"` mixes two
# (notebook 7 shows all 26 on a contact sheet).

# %%
a, b = any_paths[0], any_paths[1 % len(any_paths)]
mixes = [(keras_style.arbitrary_stylize(any_photo, a, strength=t, size=SIZE),
          f"{a.stem}, strength {t:g}") for t in (0.0, 0.5, 1.0)]
mixes.append((keras_style.arbitrary_stylize(any_photo, [a, b], weights=[0.5, 0.5], size=SIZE),
              f"½ {a.stem} + ½ {b.stem}"))
mixes.append((keras_style.multistyle_stylize(any_photo, MULTISTYLE, size=SIZE),
              f"26-style network, style {MULTISTYLE}"))

fig, axes = plt.subplots(1, len(mixes), figsize=(2.6 * len(mixes), 2.3))
for ax, (img, title) in zip(axes, mixes):
    ax.imshow(img)
    ax.set_title(title.replace("_", " "), fontsize=8)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)
for img, title in mixes[:3]:
    print(f"{title.replace('_', ' '):32s} mean |result − photo| = "
          f"{np.abs(img - any_photo).mean():.3f}")

# %% [markdown]
# ## 5. A new style in minutes: fine-tuning the arbitrary network
#
# For one painting the arbitrary network is a good start, not the best a network can do:
# it was trained on about 80,000 paintings, not on this one. So instead of training a
# network from random weights (section 2; hours before it paints well), we start from the
# arbitrary network with the painting's style vector (`init="arbitrary"`: step 0 already
# paints) and train only what sets the style, the style vector and the layers that turn it
# into normalization scales and shifts (`trainable="norms"`; every convolution stays
# frozen), against the perceptual loss of section 2 for this painting. This is the recipe
# of the shipped networks (section 3 printed theirs; each one's JSON records its exact
# command), with a **Laplacian** term (Li et al., 2017, `laplacian_weight`): the
# squared difference of the photo's and the result's Laplacians after 4 × 4 averaging,
# which ignores brush strokes but keeps the edges of the photo's layout. From the shell:
# `python -m keras_style.train --init arbitrary --trainable norms ...` (the main README,
# *Train a new style in minutes*).
#
# The painting is not one of the four shipped ones. The plot below is redrawn while the
# network trains; each dot is one batch of two random crops, so the dots are noisy (every
# batch is different photos), and the lines are the mean of the last 10 batches.

# %%
new_style = find_image(NEW_STYLE, "styles")
tune_config = TrainConfig(style=str(new_style), data=str(data_dir), out=str(workdir / "tuned"),
                          init="arbitrary", trainable="norms", style_tiles=1,
                          content_weight=0.5, style_weight=2, laplacian_weight=3e6, lr=1e-3,
                          image_size=TUNE_SIZE, batch_size=2, style_size=256,
                          steps=TUNE_STEPS, holdout=config.holdout,
                          log_every=max(1, TUNE_STEPS // 10), checkpoint_every=TUNE_STEPS,
                          progress=False, seed=SEED)
style_image = check_inputs(tune_config)  # the painting as training reads it (256 px)
# step 0, for the "before" pictures: the network fit() starts from, built the same way
start_net, start_record = build_network(tune_config, style_image)
trainable = sum(int(np.prod(w.shape)) for w in start_net.trainable_weights)
print(f"start: {start_record['init']['network']} network, {start_record['init']['style_code']}")
print(f"trained: {trainable:,} of its {start_net.count_params():,} weights")


def jpeg(fig, quality=85):
    buf = BytesIO()
    fig.savefig(buf, format="jpeg", bbox_inches="tight", pil_kwargs={"quality": quality})
    return Image(buf.getvalue())


TERMS = ("total", "content", "style", "laplacian")  # (tv, tiny here, left out)
tune = {"step": [], "wall": []}
live_every = max(1, TUNE_STEPS // 30)  # redraw about 30 times
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.set_title(f"fine-tuning on {new_style.name}: loading VGG19 and the photos, tracing …",
             fontsize=9)
board = display(jpeg(fig), display_id=True)


def trailing_mean(values, window=10):
    sums = np.cumsum(np.concatenate([[0.0], values]))
    n = np.arange(1, len(values) + 1)
    lo = np.maximum(0, n - window)
    return (sums[n] - sums[lo]) / (n - lo)


def redraw(step, terms, wall_seconds):
    tune["step"].append(step)
    tune["wall"].append(wall_seconds)
    for key, value in terms.items():
        tune.setdefault(key, []).append(value)
    if step % live_every and step != TUNE_STEPS:
        return
    ax.clear()
    for key, colour in zip(TERMS, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        ax.semilogy(tune["step"], tune[key], "o", ms=3, color=colour, alpha=0.45)
        ax.semilogy(tune["step"], trailing_mean(tune[key]), color=colour, label=key,
                    lw=2 if key == "total" else 1.2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title(f"fine-tuning on {new_style.name}: step {step}/{TUNE_STEPS}, "
                 f"{wall_seconds:.0f} s (dots: each batch; lines: mean of the last 10)",
                 fontsize=9)
    board.update(jpeg(fig))


t0 = time.perf_counter()
tuned_result = fit(tune_config, callback=redraw)
tune_seconds = time.perf_counter() - t0
plt.close(fig)
assert tuned_result.status == 0, tuned_result.message
per_step = (tune["wall"][-1] - tune["wall"][0]) / max(1, len(tune["wall"]) - 1)
print(f"{TUNE_STEPS} steps of 2 × {TUNE_SIZE}² crops in {tune_seconds:.0f} s: {per_step:.1f} s "
      f"per step after the first, the rest is loading VGG19 and the photos and tracing")

# %% [markdown]
# Before and after, on held-out photos: the arbitrary network with this painting's vector
# (step 0) and the fine-tuned network. The numbers are the training loss on the whole
# photo (not on a random crop), before and after.

# %%
tuned = tuned_result.model
loss = PerceptualLoss(tune_config.loss_config())
style_targets = loss.style_targets(style_image)


def loss_on(photo, out):
    terms = loss(out[None], loss.content_targets(photo[None]), style_targets)
    return {key: float(value) for key, value in terms.items()}


tune_photos = list(dict.fromkeys([0, len(photos) - 1]))  # the first and the last held-out photo
fig, axes = plt.subplots(len(tune_photos), 4, figsize=(11, 2.5 * len(tune_photos)),
                         squeeze=False)
for n, (row, i) in enumerate(zip(axes, tune_photos)):
    before = keras_style.apply_network(start_net, photos[i])
    after = keras_style.apply_network(tuned, photos[i])
    lb, la = loss_on(photos[i], before), loss_on(photos[i], after)
    print(f"{photo_paths[i].name:32s} loss before {lb['total']:.4g} → after {la['total']:.4g} "
          "(" + ", ".join(f"{k} {lb[k]:.3g} → {la[k]:.3g}" for k in TERMS[1:]) + ")")
    painting_panel = as_image(new_style, max_size=SIZE) if n == 0 else np.ones_like(photos[i])
    panels = ((painting_panel, new_style.stem.replace("_", " ") if n == 0 else ""),
              (photos[i], photo_paths[i].name),
              (before, f"before: arbitrary network\nloss {lb['total']:.3g}"),
              (after, f"after {TUNE_STEPS} fine-tuning steps\nloss {la['total']:.3g}"))
    for ax, (img, title) in zip(row, panels):
        ax.imshow(img)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# The network is the same small transformer; what training changes are the scales and
# shifts that set its style, for this one painting. The loss numbers are the honest
# measure: with the CI default's 5 steps (10 crops) the network has hardly moved, the
# pictures look alike and the loss changes by a few per cent, with the terms pulling
# different ways (in the stored run the Laplacian term fell and the style term rose;
# each step sees only two crops). `FULL_QUALITY`'s 150 steps take a few minutes on a CPU.
# How the four shipped networks, made this way, compare with the arbitrary network they started from
# (content, style and structure on held-out photos) is measured in `weights/README.md`.
# Which to use when: any painting *now*, the arbitrary network (a second); one painting,
# better, fine-tune for minutes; Johnson et al.'s training from scratch needs a GPU and
# hours.

# %% [markdown]
# ## 6. One forward pass vs one Gatys optimization
#
# The point of the whole exercise. We stylize the same photo at the same size twice: with
# a trained network (one forward pass, already traced above; the best of three calls) and
# with `keras_style.style_transfer` (the `tutorial` loss, L-BFGS
# from the photo, as in notebook 4, for `GATYS_STEPS` iterations; the time includes
# building VGG19, part of the real cost of every Gatys image).

# %%
style_name = Path(PAINTING).name
match = [name for name, (_, meta) in shipped.items() if meta.get("style_image") == style_name]
if match:
    net_name, net = match[0], shipped[match[0]][0]
elif shipped:  # no shipped network for PAINTING: time another one (same architecture cost)
    net_name, net = next(iter(shipped)), next(iter(shipped.values()))[0]
else:  # the time of a forward pass does not depend on the weights
    net_name, net = "live (light)", live
photo_path = photo_paths[0]

fast = keras_style.apply_network(net, photo)  # traced already; once more to be sure
repeats = []
for _ in range(3):
    t0 = time.perf_counter()
    fast = keras_style.apply_network(net, photo)
    repeats.append(time.perf_counter() - t0)
forward = min(repeats)

iteration_seconds = []
t0 = time.perf_counter()
slow = keras_style.style_transfer(photo_path, painting_path, preset="tutorial", optimizer="lbfgs",
                                  size=SIZE, steps=GATYS_STEPS, progress=False, seed=SEED,
                                  callback=lambda info: iteration_seconds.append(info.seconds))
gatys = time.perf_counter() - t0
per_iteration = (iteration_seconds[-1] - iteration_seconds[0]) / max(1, len(iteration_seconds) - 1)

print(f"photo {photo_path.name} at {photo.shape[1]}×{photo.shape[0]}")
print(f"network {net_name}: {forward:.3f} s per forward pass (best of 3)")
print(f"Gatys, {GATYS_STEPS} L-BFGS iterations: {gatys:.1f} s "
      f"({per_iteration:.2f} s per iteration after the first)")
print(f"→ one forward pass is {gatys / forward:,.0f}× faster than this (short) optimization; "
      f"500 iterations (the paper's count) would take about {500 * per_iteration / 60:.0f} min at this size")

fig, axes = plt.subplots(1, 4, figsize=(13, 2.9), gridspec_kw={"width_ratios": [1.4, 1, 1, 1]})
bars = axes[0].barh(["one forward pass", f"Gatys, {GATYS_STEPS} iterations"], [forward, gatys],
                    color=["tab:green", "tab:red"])
axes[0].bar_label(bars, labels=[f"{v:.2f} s" for v in (forward, gatys)], fontsize=8)
axes[0].set_xscale("log")
axes[0].set_xlabel("seconds (log scale)")
axes[0].set_xlim(right=gatys * 8)
axes[0].set_title(f"same photo, {SIZE} px", fontsize=9)
for ax, img, title in ((axes[1], photo, "photo"),
                       (axes[2], fast, f"network {net_name}\n{forward:.2f} s"),
                       (axes[3], slow, f"Gatys, {GATYS_STEPS} L-BFGS iterations\n{gatys:.1f} s")):
    ax.imshow(img)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# The network pays its cost once, at training time (hours from random weights, minutes
# when fine-tuned from the arbitrary network); each photo then costs a fraction of a
# second. Gatys pays per photo, and its image keeps improving with more
# iterations while the network's output is fixed: the network trades some quality and all
# flexibility (one network, one painting; the arbitrary network of section 4 lifts that
# limit, at some cost in fidelity) for speed.

# %%
shutil.rmtree(workdir, ignore_errors=True)  # the live and fine-tuned networks' files

# %% [markdown]
# ## Takeaways
#
# * `keras_style.build_transformer("johnson")` is the slide's network, row for row; the
#   `light` variant is four times cheaper.
# * `keras_style.training.fit(TrainConfig(...))` (or `python -m keras_style.train`) trains
#   one with the perceptual loss of notebooks 3–4; the gradient now updates weights, not
#   pixels.
# * `keras_style.load_model(name)` + `keras_style.apply_network(model, image)` stylize any
#   photo in one forward pass, orders of magnitude faster than a Gatys optimization.
# * `keras_style.arbitrary_stylize(photo, painting)` does it for any painting, with
#   `strength` and blends of paintings; `keras_style.multistyle_stylize(photo, 19)` for one
#   of 26 learned styles (notebook 7 for how).
# * `fit(TrainConfig(..., init="arbitrary", trainable="norms"))` tunes the arbitrary network
#   to one painting in minutes: the recipe of the shipped networks.
# * The same idea, with a content loss only and a network that enlarges its input, does
#   super-resolution: notebook 6.
#
# Photos: the Colosseum (Urse Ovidiu), moose (Ryan Hagerty), both public domain; Palais des
# Papes (Tognopop) and Great Wall (Nicolas Perrault III), CC0; via GCompris, see
# `../shared/data/credits/`. Paintings: Hokusai, *Poppies*; van Gogh, *The Church at Auvers*
# (1890), *The Night Café* (1888), *The Harvest* (1888); sources in
# `../shared/data/SOURCES.md`. The arbitrary and 26-style networks: Magenta (Apache-2.0),
# see `weights/README.md`.

# %%
print(run_report())
