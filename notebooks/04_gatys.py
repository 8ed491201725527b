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
# # 4 · A Neural Algorithm of Artistic Style (Gatys et al., 2015)
#
# The talk's recipe:
#
# 1. a frozen, pretrained VGG19 recognizes features;
# 2. save the **style** features (Gram matrices at five convolutional layers) of the
#    painting and the **content** features (one later layer) of the photo;
# 3. start from a white-noise image (or from the photo);
# 4. change the image's pixels to reduce
#    loss = (difference in style features) + (difference in content features).
#
# The gradient is taken with respect to the **pixels**: the optimization produces one
# image, not a model, and every new image or style needs a new optimization (notebook 3
# built the loss; Johnson et al.'s fast networks are the talk's next step).
#
# With `keras_style` the whole procedure is one call, `keras_style.style_transfer`. This
# notebook runs it several ways and looks inside with its `callback`:
#
# * from white noise (preset `gatys2016`) and from the photo (preset `tutorial`);
# * loss curves and intermediate images;
# * one loss from three starts: noise, the photo, and the arbitrary network's one-pass
#   result;
# * Adam vs L-BFGS on the same budget;
# * a 2×2 grid of content and style weights;
# * colour preservation (`preserve_color="luminance"` and `"histogram"`).

# %% [markdown]
# ## Parameters
#
# The defaults are tiny (96-pixel images, 15–30 steps; 64 pixels for the weight grid) so
# the notebook runs in about three minutes on one busy CPU core and in CI. The pictures are
# thumbnails: style transfer needs room for brush strokes. `FULL_QUALITY = True` (or the
# environment variable `KERAS_STYLE_FULL_QUALITY=1`) is what the stored notebook shows:
# 384-pixel pictures, 250 L-BFGS iterations from white noise (sections 1 and 3), 150 from
# the photo (sections 2, 4 and 6) and a 384-pixel weight grid of 60 iterations each; the
# last cell prints how long that took and on what CPU. The papers' own settings are
# larger still: `keras_style.PRESETS["gatys2016"]` runs 500 iterations at 512 px,
# `PRESETS["tutorial"]` 1000 Adam steps.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: the presets' full sizes and step counts (slow on a CPU)

PHOTO = "colosseum.jpg"  # bundled with keras_style; or a file in ../shared/data/photos/
PAINTING = "starry_night.jpg"  # bundled; or a file in ../shared/data/styles/
SIZE = 96  # long side of the output, pixels
NOISE_STEPS = 30  # L-BFGS iterations from white noise (preset gatys2016)
CONTENT_STEPS = 30  # iterations from the photo (preset tutorial), for Adam and for L-BFGS
GRID_SIZE = 64  # the weight grid's image size
GRID_STEPS = 15  # ... and iterations
SNAPSHOTS = 4  # intermediate images shown per run
SEED = 0
# ------------------------------------------------------------------------------

# %%
import keras_style
from keras_style.notebook import ASSETS, find_image, full_quality, run_report, show_jpeg

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:  # presentation sizes: over an hour on one CPU core, minutes on a GPU
    SIZE = 384
    NOISE_STEPS = 250
    CONTENT_STEPS = 150
    GRID_SIZE = 384
    GRID_STEPS = 60
    SNAPSHOTS = 3

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from keras_style.image import as_image, match_color


photo_path, painting_path = find_image(PHOTO, "photos"), find_image(PAINTING, "styles")
photo, painting = as_image(photo_path, max_size=SIZE), as_image(painting_path, max_size=SIZE)

fig, axes = plt.subplots(1, 2, figsize=(7, 2.8))
for ax, img, title in zip(axes, (photo, painting), ("content: " + photo_path.name,
                                                    "style: " + painting_path.name)):
    ax.imshow(img)
    ax.set_title(f"{title} ({img.shape[1]}×{img.shape[0]})", fontsize=9)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## The two presets
#
# `keras_style.PRESETS` carries two published configurations. `gatys2016` is the paper's:
# content `conv4_2`, style `conv1_1` … `conv5_1` equally weighted, average pooling, the
# paper's normalization, L-BFGS from white noise. `tutorial` is TensorFlow's tutorial:
# content `block5_conv2`, Adam, starting from the photo, with a small total-variation
# term.

# %%
for name, p in keras_style.PRESETS.items():
    c = p.loss
    print(f"{name}: {p.description}")
    print(f"    content {list(c.content_layers)} × {c.content_weight:g} | style "
          f"{list(c.style_layers)} × {c.style_weight:g} | tv × {c.tv_weight:g} | "
          f"pooling {c.pooling} | {p.optimizer}, {p.steps} steps, {p.size} px, start: {p.init}\n")

# %% [markdown]
# ## The frozen loss network, built once
#
# `style_transfer` builds a VGG19 for every call unless we give it one (`network=`).
# Building takes seconds, so we build one network per pooling mode, each returning the
# layers its preset needs, and pass it to every run. The networks are frozen: no VGG19
# weight changes during style transfer.

# %%
t0 = time.perf_counter()
networks = {name: keras_style.loss_network(p.loss.layers, pooling=p.loss.pooling)
            for name, p in keras_style.PRESETS.items()}
print(f"built in {time.perf_counter() - t0:.1f} s")
for name, net in networks.items():
    print(f"{name:9s} outputs {list(net.output)}")
    print(f"{'':9s} {net.count_params():,} weights, trainable weights: {len(net.trainable_weights)}")
print(f"\nWhat the optimizer changes instead: the pixels, "
      f"{photo.shape[0]}×{photo.shape[1]}×3 = {photo.size:,} numbers.")

# %% [markdown]
# ## A callback to watch the optimization
#
# `style_transfer(..., callback=f)` calls `f` after every step with a `StepInfo`: the step
# number, the loss terms (`content`, `style`, `tv`, `total`, already weighted), the
# current image and the seconds since the start. This recorder keeps the curves and a few
# images.

# %%
class Recorder:
    """Collects a run's loss terms at every step and the image at a few steps."""

    def __init__(self, steps, snapshots=SNAPSHOTS):
        self.keep = set(np.linspace(1, steps, snapshots).round().astype(int).tolist())
        self.step, self.seconds, self.losses, self.images = [], [], {}, {}

    def __call__(self, info):
        self.step.append(info.step)
        self.seconds.append(info.seconds)
        for key, value in info.losses.items():
            self.losses.setdefault(key, []).append(value)
        if info.step in self.keep:
            self.images[info.step] = np.array(info.image)


def run(label, steps, **kwargs):
    """keras_style.style_transfer on our photo and painting, with a Recorder attached."""
    rec = Recorder(steps)
    t0 = time.perf_counter()
    image = keras_style.style_transfer(photo_path, painting_path, size=SIZE, steps=steps,
                                       callback=rec, progress=False, seed=SEED, **kwargs)
    rec.wall = time.perf_counter() - t0
    final = {k: f"{v[-1]:.3g}" for k, v in rec.losses.items()}
    print(f"{label}: {len(rec.step)} steps in {rec.wall:.1f} s; final {final}")
    return image, rec


def plot_run(rec, title):
    """The loss curves across the top, the snapshots in a row of large pictures below."""
    steps = sorted(rec.images)
    fig = plt.figure(figsize=(2.95 * len(steps), 5.8))
    grid = fig.add_gridspec(2, len(steps), height_ratios=[1, 1.1])
    ax = fig.add_subplot(grid[0, :])
    for key in ("total", "content", "style", "tv"):
        values = np.array(rec.losses[key])
        if values.max() > 0:  # zeros (content at the start from the photo) can't be on a log axis
            ax.semilogy(rec.step, np.where(values > 0, values, np.nan), label=key,
                        lw=2 if key == "total" else 1)
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    for i, s in enumerate(steps):
        a = fig.add_subplot(grid[1, i])
        a.imshow(rec.images[s])
        a.set_title(f"step {s}", fontsize=9)
        a.axis("off")
    plt.tight_layout()
    show_jpeg(fig)

# %% [markdown]
# ## 1. From white noise (preset `gatys2016`)
#
# The paper's procedure: start from uniform white noise and let L-BFGS change its pixels.
# With the paper's weights (content : style = 1 : 1000) the style term dominates at first:
# the painting's palette and strokes appear within a few iterations, while the content
# term hardly moves. The building emerges over hundreds of iterations (the paper runs 500
# at 512 px; `FULL_QUALITY` 250 at 384 px); the small defaults show only the beginning.

# %%
noise_image, noise_rec = run("gatys2016 from noise", NOISE_STEPS, preset="gatys2016",
                             network=networks["gatys2016"])
plot_run(noise_rec, "gatys2016: L-BFGS from white noise")

# %% [markdown]
# ## 2. From the photo (preset `tutorial`)
#
# Starting from the photo, the content term is zero at first and the style term is
# huge; Adam trades a little content for a lot of style. The result keeps the Colosseum
# from the first step and takes on the painting's colours and swirls.

# %%
adam_image, adam_rec = run("tutorial (Adam) from the photo", CONTENT_STEPS, preset="tutorial",
                           network=networks["tutorial"])
plot_run(adam_rec, "tutorial: Adam from the photo")

# %% [markdown]
# ## 3. Three starts, one loss
#
# The start is not part of the loss: it only decides where the optimizer begins and so
# which of the many low-loss images it finds, and how soon. Here the paper's loss and
# optimizer of section 1 (`gatys2016`, L-BFGS, `NOISE_STEPS` iterations) from three
# starts: section 1's white noise, the photo, and a picture that already looks painted,
# the **arbitrary network**'s one-pass result (Magenta's network of notebooks 5 and 7; its
# loss is not this loss, so there is still something to optimize).
#
# `style_transfer(..., init="arbitrary")` computes that start itself, from the painting at
# the run's style size; at these thumbnail sizes that is too small for the network's style
# predictor (it looks at 256 × 256). So we compute the start from the full painting and use
# the optimizer inside `style_transfer`, `keras_style.GatysOptimizer`: one loss, built
# once, whose `run` takes the photo, the painting (both already sized) and any start,
# `"noise"`, `"content"` or an image.

# %%
t0 = time.perf_counter()
arbitrary_start = keras_style.arbitrary_stylize(photo, painting_path, size=None)
print(f"arbitrary network: {time.perf_counter() - t0:.1f} s, loading included")

gatys2016 = keras_style.PRESETS["gatys2016"]
gatys_optimizer = keras_style.GatysOptimizer(gatys2016.loss, network=networks["gatys2016"])
starts = {"white noise": (noise_image, noise_rec)}  # section 1's run: the same computation
for label, init in (("the photo", "content"), ("the arbitrary network", arbitrary_start)):
    rec = Recorder(NOISE_STEPS)
    t0 = time.perf_counter()
    image = gatys_optimizer.run(photo, [painting], steps=NOISE_STEPS,
                                optimizer=gatys2016.optimizer, init=init, seed=SEED,
                                callback=rec, progress=False)
    rec.wall = time.perf_counter() - t0
    starts[label] = image, rec
    print(f"gatys2016 from {label}: {NOISE_STEPS} steps in {rec.wall:.1f} s")

start_images = {"white noise": np.random.default_rng(SEED).uniform(0, 1, photo.shape),
                "the photo": photo, "the arbitrary network": arbitrary_start}
fig = plt.figure(figsize=(14, 4.6))
grid = fig.add_gridspec(2, 4, width_ratios=[2.2, 1, 1, 1])
ax = fig.add_subplot(grid[:, 0])
for label, (_, rec) in starts.items():
    ax.semilogy(rec.step, rec.losses["total"], label=f"from {label}")
ax.set_xlabel("L-BFGS iteration")
ax.set_ylabel("total loss (gatys2016)")
ax.legend(fontsize=8)
ax.set_title("same loss, same optimizer, three starts", fontsize=9)
for j, (label, (image, rec)) in enumerate(starts.items(), start=1):
    for i, (img, title) in enumerate(((start_images[label], f"start: {label}"),
                                      (image, f"after {NOISE_STEPS} iterations\n"
                                              f"loss {rec.losses['total'][-1]:.3g}"))):
        a = fig.add_subplot(grid[i, j])
        a.imshow(np.clip(img, 0, 1))
        a.set_title(title, fontsize=9)
        a.axis("off")
plt.tight_layout()
show_jpeg(fig)

final = {label: rec.losses["total"][-1] for label, (_, rec) in starts.items()}
print("final total loss: " + ", ".join(f"from {k} {v:.3g}" for k, v in final.items()))

# %% [markdown]
# The start changes how far the optimizer has to go, not what it is asked for. From noise
# the first iterations go into inventing a picture, and the small defaults end while it is
# still speckled. From the photo the building is there at first, but with the paper's
# weights (style × 1000) the same iterations trade much of it away for the painting's
# Gram matrices. The arbitrary network's result has the painting's colours
# and strokes *and* the building's layout at step 0: its loss starts several times lower
# and stays the lowest, and the image is refined rather than rebuilt. It is the quick road
# to a good Gatys picture on a CPU (from the shell: `python -m keras_style.stylize
# --method gatys --init arbitrary`).

# %% [markdown]
# ## 4. Adam vs L-BFGS on the same budget
#
# Same loss, same start, same number of iterations; only the optimizer changes. Adam
# takes one gradient step per iteration with a fixed learning rate (each pixel moves at
# most about `learning_rate` per step). L-BFGS builds a picture of the loss's curvature
# from its recent gradients and searches along the resulting direction; one of its
# iterations can evaluate the loss and gradient more than once (line search), so we plot
# against wall-clock time too.

# %%
lbfgs_image, lbfgs_rec = run("tutorial (L-BFGS) from the photo", CONTENT_STEPS,
                             preset="tutorial", optimizer="lbfgs", network=networks["tutorial"])

fig, axes = plt.subplots(1, 4, figsize=(14, 2.9),
                         gridspec_kw={"width_ratios": [1.3, 1.3, 1, 1]})
for rec, label in ((adam_rec, "Adam"), (lbfgs_rec, "L-BFGS")):
    axes[0].semilogy(rec.step, rec.losses["total"], label=label)
    axes[1].semilogy(rec.seconds, rec.losses["total"], label=label)
axes[0].set_xlabel("iteration")
axes[1].set_xlabel("seconds (includes the first step's tracing)")
for ax in axes[:2]:
    ax.set_ylabel("total loss")
    ax.legend()
for ax, img, rec, label in ((axes[2], adam_image, adam_rec, "Adam"),
                            (axes[3], lbfgs_image, lbfgs_rec, "L-BFGS")):
    ax.imshow(img)
    ax.set_title(f"{label}: loss {rec.losses['total'][-1]:.3g}\n{rec.wall:.1f} s", fontsize=9)
    ax.axis("off")
fig.suptitle(f"Adam vs L-BFGS, {CONTENT_STEPS} iterations from the photo (tutorial loss)")
plt.tight_layout()
show_jpeg(fig)

ratio = adam_rec.losses["total"][-1] / lbfgs_rec.losses["total"][-1]
print(f"after {CONTENT_STEPS} iterations Adam's loss is {ratio:.1f}× L-BFGS's; "
      f"L-BFGS took {lbfgs_rec.wall / adam_rec.wall:.1f}× the time")

# %% [markdown]
# Per iteration L-BFGS gets much further; per second the gap is smaller, because its
# iterations cost more. That is why the paper uses L-BFGS and why `gatys2016` defaults to
# it; Adam is simpler, needs no full-batch line search and is what a training loop (the
# Johnson network) uses.

# %% [markdown]
# ## 5. Content weight vs style weight
#
# The loss weights decide the balance. A 2×2 grid on the `tutorial` loss, L-BFGS from the
# photo (it moves further in a few iterations), at a tiny size. Only the *ratio*
# content : style matters to these optimizers (next cell), so the grid spans ratios from
# 10⁶ (most style) to 10⁹ (mostly photo).

# %%
content_weights = [1e4, 1e5]
style_weights = [1e-4, 1e-2]
grid = {}
t0 = time.perf_counter()
for cw in content_weights:
    for sw in style_weights:
        grid[(cw, sw)] = keras_style.style_transfer(
            photo_path, painting_path, preset="tutorial", optimizer="lbfgs", size=GRID_SIZE,
            steps=GRID_STEPS, content_weight=cw, style_weight=sw, progress=False,
            seed=SEED, network=networks["tutorial"])
print(f"4 runs in {time.perf_counter() - t0:.1f} s")

fig, axes = plt.subplots(2, 2, figsize=(6.4, 4.6))
for i, cw in enumerate(content_weights):
    for j, sw in enumerate(style_weights):
        ax = axes[i, j]
        ax.imshow(grid[(cw, sw)])
        ax.set_title(f"content {cw:g}, style {sw:g}\nratio {cw / sw:.0e}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle(f"Weight grid: {GRID_STEPS} L-BFGS iterations at {GRID_SIZE} px", fontsize=10)
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# Why only the ratio? Multiplying the whole loss by a constant multiplies the gradient by
# the same constant. Adam divides each step by the gradient's running magnitude, and
# L-BFGS's first step and curvature estimate rescale too, so neither moves differently.
# A quick check with Adam at 64 px: all three weights ×100 gives (almost) the same image.
# "Almost": Adam adds a small ε to the gradient's magnitude before dividing, which breaks
# the invariance where gradients are tiny, and with the loss averaged over more pixels each
# pixel's gradient is smaller; at 384 px the largest difference after 3 steps was 0.044.

# %%
check_steps, check_size = 3, 64
base = keras_style.style_transfer(photo_path, painting_path, preset="tutorial", size=check_size,
                                  steps=check_steps, progress=False, seed=SEED,
                                  network=networks["tutorial"])
scaled = keras_style.style_transfer(photo_path, painting_path, preset="tutorial",
                                    size=check_size, steps=check_steps, progress=False,
                                    seed=SEED, network=networks["tutorial"],
                                    content_weight=1e6, style_weight=1.0, tv_weight=3000.0)
diff = float(np.abs(base - scaled).max())
print(f"largest pixel difference after {check_steps} Adam steps: {diff:.4f} (pixels are in [0, 1])")
assert diff < 0.02

# %% [markdown]
# ## 6. Keeping the photo's colours
#
# Style transfer copies the painting's colours along with its strokes. Gatys et al.
# (2016, "Preserving color in neural artistic style transfer") give two remedies, both
# one argument here:
#
# * `preserve_color="luminance"`: transfer the style on the luminance (brightness) channel
#   only, then put the photo's colour channels (YIQ's I and Q) back;
# * `preserve_color="histogram"`: first recolour the painting so its colour mean and
#   covariance match the photo's (`keras_style.image.match_color`), then transfer as usual.

# %%
colour = {}
for mode in ("luminance", "histogram"):
    colour[mode], _ = run(f"preserve_color={mode}", CONTENT_STEPS, preset="tutorial",
                          preserve_color=mode, network=networks["tutorial"])

recoloured = match_color(painting, photo)
panels = [(photo, "photo"), (painting, "painting"), (adam_image, "plain transfer"),
          (colour["luminance"], 'preserve_color="luminance"'),
          (recoloured, "painting recoloured\nto the photo's statistics"),
          (colour["histogram"], 'preserve_color="histogram"')]
fig, axes = plt.subplots(2, 3, figsize=(8.1, 5.2))
for ax, (img, title) in zip(axes.flat, panels):
    ax.imshow(img)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.suptitle(f"Colour preservation (tutorial preset, Adam, {CONTENT_STEPS} steps)")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## Takeaways
#
# * `keras_style.style_transfer(photo, painting, preset=..., network=..., callback=...)`
#   is the talk's Gatys procedure: a frozen VGG19, style Gram matrices at five layers,
#   content at one, pixels optimized against their weighted sum.
# * From noise the style appears first and the content slowly; from the photo the content
#   is there from the start; from the arbitrary network's result (`init="arbitrary"`, or
#   any image) both are, and the optimization only refines.
# * L-BFGS gets much further per iteration than Adam; the ratio of content to style
#   weight, not their scale, sets the balance.
# * `preserve_color` keeps the photo's colours, by luminance-only transfer or by
#   recolouring the painting first.
# * Each image is a fresh optimization. Johnson et al. train a network once per style to
#   make this a single forward pass: `python -m keras_style.train`.

# %%
print(run_report())
