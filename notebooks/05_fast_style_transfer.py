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
# 4. times one forward pass against one Gatys optimization of the same photo.

# %% [markdown]
# ## Parameters
#
# The defaults are small (192-pixel images, 5 training steps on 64-pixel crops, 20 L-BFGS
# iterations for the Gatys comparison) so the notebook runs in about a minute on a 2-core
# CPU and in CI. `FULL_QUALITY = True` stylizes at 512 px, trains for 300 steps on
# 160-pixel crops (the live network then starts to look like a painting; the shipped ones
# trained for thousands of steps) and gives Gatys the paper's 500 iterations at 512 px:
# expect an hour or more on a 2-core CPU, a few minutes on a GPU.

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
GATYS_STEPS = 20  # L-BFGS iterations of the Gatys optimization we time against
SEED = 0
# ------------------------------------------------------------------------------

# %%
import keras_style
from keras_style.notebook import ASSETS, SHARED_DATA, find_image, show_jpeg

if FULL_QUALITY:
    SIZE = 512
    TRAIN_STEPS = 300
    TRAIN_SIZE = 160
    TRAIN_BATCH = 2
    GATYS_STEPS = 500

# %% [markdown]
# ## Setup

# %%
import shutil
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt

from keras_style.image import as_image
from keras_style.networks import shipped_weights_dir
from keras_style.training import TrainConfig, fit
from keras_style.nets.johnson import ARCHITECTURES, build_transformer

import keras  # after keras_style, which imports TensorFlow without its start-up log lines

plt.rcParams["figure.dpi"] = 80

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
# four times cheaper. The shipped style networks are `light`.

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
# on tiny crops leave the picture close to the untrained network's noise. A network that
# paints takes thousands of steps over many photos: the shipped networks of the next
# section, whose JSON files record how they were trained.

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
        print(f"{name:17s} {meta.get('style_image')}, {meta.get('architecture_name')}: "
              f"{meta.get('steps', 0):,} steps of {hp.get('batch_size')} × "
              f"{hp.get('image_size')}² crops from {meta.get('training_images')} photos, "
              f"{meta.get('wall_seconds', 0) / 3600:.1f} h")
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
# ## 4. One forward pass vs one Gatys optimization
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
# The network pays its cost once, at training time (hours); each photo then costs a
# fraction of a second. Gatys pays per photo, and its image keeps improving with more
# iterations while the network's output is fixed: the network trades some quality and all
# flexibility (one network, one painting) for speed.

# %%
shutil.rmtree(workdir, ignore_errors=True)  # the live network's files

# %% [markdown]
# ## Takeaways
#
# * `keras_style.build_transformer("johnson")` is the slide's network, row for row; the
#   `light` variant is what ships.
# * `keras_style.training.fit(TrainConfig(...))` (or `python -m keras_style.train`) trains
#   one with the perceptual loss of notebooks 3–4; the gradient now updates weights, not
#   pixels.
# * `keras_style.load_model(name)` + `keras_style.apply_network(model, image)` stylize any
#   photo in one forward pass, orders of magnitude faster than a Gatys optimization.
# * The same idea, with a content loss only and a network that enlarges its input, does
#   super-resolution: notebook 6.
#
# Photos: the Colosseum (Urse Ovidiu), moose (Ryan Hagerty), both public domain; Palais des
# Papes (Tognopop) and Great Wall (Nicolas Perrault III), CC0; via GCompris, see
# `../shared/data/credits/`.
