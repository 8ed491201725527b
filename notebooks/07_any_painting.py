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
# # 7 · Any painting in one pass (Ghiasi et al., 2017)
#
# Notebook 5's fast networks are fast, but each one knows a single painting: a new painting
# means a new network and hours of training. Notebook 4's optimization takes any painting,
# but needs minutes per photo. This notebook closes the gap with networks that take the
# style as an *input*:
#
# * Dumoulin et al. (2017), "A learned representation for artistic style", noticed that
#   networks trained on different paintings can share every convolution: what differs is
#   only the **scale and shift of each instance normalization**. One network with a table of
#   26 rows of scales and shifts paints 26 styles, and a mix of rows mixes them.
# * Ghiasi et al. (2017), "Exploring the structure of a real-time, arbitrary neural
#   artistic stylization network", replace the table by a second network: a **style
#   predictor** (MobileNetV2) looks at any painting and returns 100 numbers, the *style
#   vector*; the scales and shifts are computed from it. Trained on about 80,000
#   paintings, it works for paintings it has never seen.
#
# Both are Magenta's published networks, converted to Keras (`keras_style.pretrained`,
# `weights/README.md`). Nothing here trains: every picture is one forward pass.

# %% [markdown]
# ## Parameters
#
# The defaults stylize the photo at 256 pixels on its long side and draw the 26-style
# contact sheet with 160-pixel cells: the notebook runs in well under a minute on a 2-core
# CPU and in CI. `FULL_QUALITY = True` uses the photo at its full 768 pixels, 384-pixel
# cells and sharper figures, every picture at least 384 pixels (about a minute more).

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full-size photo, larger contact sheet and figures

# A photo no shipped network trained on (weights/holdout.txt), from ../shared/data/photos/;
# the bundled colosseum.jpg replaces it when that folder is absent.
PHOTO = "animals_moose.jpg"
# Paintings from ../shared/data/styles/ (the bundled starry_night.jpg replaces a missing one)
PAINTINGS = ["starry_night.jpg", "great_wave.jpg", "composition_viii.jpg"]
SIZE = 256  # long side of the stylized photo, pixels
SHEET_TILE = 160  # long side of each cell of the 26-style contact sheet, pixels
BLEND = (3, 12)  # two of the 26 styles to mix in section 6
# ------------------------------------------------------------------------------

# %%
import keras_style
from keras_style.notebook import find_image, full_quality, run_report, show_jpeg

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    SIZE = 768
    SHEET_TILE = 384

# %% [markdown]
# ## Setup

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from keras_style.image import as_image
from keras_style.layers import ConditionalInstanceNormalization, StyleProjection
from keras_style.pretrained import arbitrary_parts, multistyle_transformer, style_image



def show(fig):
    show_jpeg(fig, quality=70)  # keeps the stored notebook small

photo_path = find_image(PHOTO, "photos")
painting_paths = list(dict.fromkeys(find_image(name, "styles") for name in PAINTINGS))
photo = as_image(photo_path, max_size=SIZE)
paintings = [as_image(p, max_size=SIZE) for p in painting_paths]  # for display only
print(f"photo {photo_path.name}: {photo.shape[1]}×{photo.shape[0]}")
print("paintings:", ", ".join(p.name for p in painting_paths))


def title_of(path):
    return path.stem.replace("_", " ")


def row(images, titles, suptitle=None, width=3.0):
    """Pictures side by side, one title each, as a compact JPEG."""
    h, w = images[0].shape[:2]
    fig, axes = plt.subplots(1, len(images), figsize=(width * len(images), width * h / w + 0.5),
                             squeeze=False)
    for ax, image, title in zip(axes[0], images, titles):
        ax.imshow(np.clip(image, 0, 1))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    plt.tight_layout()
    return fig


# %% [markdown]
# ## 1. Conditional instance normalization
#
# Instance normalization (notebook 5) normalizes every channel of a feature map over the
# image's height and width, then applies a learned per-channel scale $\gamma$ and shift
# $\beta$. *Conditional* instance normalization takes $\gamma$ and $\beta$ from the style
# $s$ instead of from the network's own weights:
#
# $$
# \mathrm{CIN}(x; s) \;=\; \gamma_s \, \frac{x - \mu(x)}{\sigma(x)} \;+\; \beta_s ,
# \qquad \gamma_s = W_\gamma\, s + b_\gamma ,\quad \beta_s = W_\beta\, s + b_\beta ,
# $$
#
# where $\mu(x)$ and $\sigma(x)$ are the mean and standard deviation of each channel over the
# image. In the 26-style network $s$ is a one-hot (or mixing) vector of 26 weights, so
# $W_\gamma s$ picks (or mixes) rows of a table; in the arbitrary network $s$ is the 100-number
# style vector the predictor computes from the painting.
#
# In `keras_style`, `keras_style.layers.StyleProjection` computes $\gamma_s$ and $\beta_s$
# from the style code (a `Dense` layer under its own name) and
# `keras_style.layers.ConditionalInstanceNormalization` applies them: it is called on
# `[x, scale, shift]`, and has no weights of its own. A check on random numbers:

# %%
rng = np.random.default_rng(0)
x = rng.normal(2.0, 3.0, (1, 8, 8, 4)).astype("float32")
gamma = rng.uniform(0.5, 2.0, (1, 4)).astype("float32")
beta = rng.normal(0.0, 1.0, (1, 4)).astype("float32")
mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
by_hand = gamma[:, None, None] * (x - mean) / np.sqrt(var + 1e-5) + beta[:, None, None]
layer = ConditionalInstanceNormalization()
gap = np.abs(np.asarray(layer([x, gamma, beta])) - by_hand).max()
print(f"layer vs formula: largest difference {gap:.1e}; weights of its own: "
      f"{layer.count_params()}")
assert gap < 1e-4

# %% [markdown]
# ## 2. The two parts
#
# `keras_style.pretrained.arbitrary_parts()` returns the two Keras models of the arbitrary
# network: the **style predictor** (painting → 100 numbers) and the **transformer**
# ([photo, 100 numbers] → stylized photo). The transformer is a small Johnson-style network
# (notebook 5) whose normalizations are all conditional; the 26-style network's transformer
# is the same design with a 26-row table instead.

# %%
predictor, transformer = arbitrary_parts()
multistyle = multistyle_transformer()


def conditional_parts(model):
    norms = [l for l in model.layers if isinstance(l, ConditionalInstanceNormalization)]
    projections = [l for l in model.layers if isinstance(l, StyleProjection)]
    return len(norms), sum(l.units for l in projections), sum(l.count_params()
                                                                for l in projections)


print(f"{'model':34s} {'weights':>10s}")
print(f"{'style predictor (MobileNetV2)':34s} {predictor.count_params():>10,}")
print(f"{'transformer':34s} {transformer.count_params():>10,}")
print(f"{'26-style transformer':34s} {multistyle.count_params():>10,}")
for name, model, code in (("arbitrary transformer", transformer, "the 100-number vector"),
                          ("26-style transformer", multistyle, "the 26 style weights")):
    layers, numbers, weights = conditional_parts(model)
    print(f"\n{name}: {layers} conditional instance normalizations, {numbers} scales and "
          f"shifts computed from {code}\n  by StyleProjection layers holding {weights:,} of "
          f"its {model.count_params():,} weights")
assert predictor.output.shape[-1] == 100

# %% [markdown]
# The predictor holds almost all of the weights (it has to *understand* a painting); the
# transformer that actually paints is tiny, smaller than notebook 5's networks, and more than
# a third of it is the map from style vector to scales and shifts. A painting's vector is
# worth computing once and reusing for every photo.

# %% [markdown]
# ## 3. One photo, three paintings
#
# `keras_style.arbitrary_stylize(photo, painting, size=...)` computes the painting's style
# vector (from its centre square at 256 × 256, the size the predictor was trained at) and
# runs the transformer on the photo. The photo is one of `weights/holdout.txt`, and nothing
# was trained for these paintings: each one is just an input.

# %%
results, seconds = [], []
for path in painting_paths:
    t0 = time.perf_counter()
    results.append(keras_style.arbitrary_stylize(photo, path, size=SIZE))
    seconds.append(time.perf_counter() - t0)
    print(f"{path.name:22s} {seconds[-1]:5.2f} s")
print("(the first call also builds and traces the transformer's graph; after that, a new "
      "painting costs one predictor pass and one transformer pass)")

show(row([photo] + paintings, [f"photo: {photo_path.stem}"]
              + [title_of(p) for p in painting_paths]))
show(row([photo] + results, ["photo"] + [f"→ {title_of(p)}" for p in painting_paths]))

# %% [markdown]
# ### The 100 numbers
#
# `keras_style.style_vector(painting)` returns a painting's style vector. Below, the vectors
# of the three paintings and of the photo itself (a photo has a style too), one row each,
# and how far apart they are (Euclidean distance). Much of the pattern is shared by all of
# them; a style is in the differences.

# %%
names = [title_of(p) for p in painting_paths] + ["the photo"]
vectors = np.stack([keras_style.style_vector(p) for p in painting_paths]
                   + [keras_style.style_vector(photo)])
fig, ax = plt.subplots(figsize=(10, 1.8))
ax.imshow(vectors, aspect="auto", cmap="coolwarm", vmin=-2, vmax=2, interpolation="nearest")
ax.set_yticks(range(len(names)), names, fontsize=8)
ax.set_xlabel("style vector component (100 numbers)", fontsize=8)
ax.tick_params(axis="x", labelsize=7)
plt.tight_layout()
show(fig)

print("distances between style vectors:")
print(" " * 18 + "".join(f"{n:>18s}" for n in names))
for n, v in zip(names, vectors):
    print(f"{n:18s}" + "".join(f"{np.linalg.norm(v - u):18.2f}" for u in vectors))

# %% [markdown]
# ### What the predictor sees
#
# Only the centre square of each painting, at 256 × 256 (`keras_style.pretrained.style_image`).
# A wide painting loses its sides: crop it yourself first if the part you want is not in the
# middle.

# %%
show(row([style_image(p) for p in painting_paths],
              [f"{title_of(p)} (predictor input)" for p in painting_paths], width=2.6))

# %% [markdown]
# ## 4. Strength: from the photo's own style to the painting's
#
# Fading the stylized pixels into the photo gives a double exposure. Ghiasi et al.
# interpolate the *style vectors* instead: the transformer receives
# $s = t\, s_\text{painting} + (1 - t)\, s_\text{photo}$, where $s_\text{photo}$ is the
# style vector of the photo itself. `arbitrary_stylize(..., strength=t)` does exactly this.
# At $t = 0$ the network repaints the photo in the photo's own style: its colours and
# layout, already with a painted texture (the transformer cannot pass a photo through
# untouched). The numbers below measure how far each result is from the photo's pixels.

# %%
STRENGTHS = [0.0, 0.25, 0.5, 0.75, 1.0]
painting = painting_paths[0]
faded = [keras_style.arbitrary_stylize(photo, painting, strength=t, size=SIZE)
         for t in STRENGTHS]
show(row(faded, [f"strength {t:g}" for t in STRENGTHS],
              suptitle=f"{photo_path.stem} → {title_of(painting)}", width=2.8))
for t, image in zip(STRENGTHS, faded):
    print(f"strength {t:<5g} mean |result − photo| = {np.abs(image - photo).mean():.3f}")

# %% [markdown]
# ## 5. Between two paintings
#
# The same interpolation between two paintings' vectors: `arbitrary_stylize(photo,
# [painting_a, painting_b], weights=[1 - w, w])` blends the vectors with these weights
# (normalized to sum 1) and paints with the blend. The space of style vectors is smooth:
# the halfway points are styles of their own, not a cross-fade.

# %%
a, b = painting_paths[0], painting_paths[1 % len(painting_paths)]
MIX = np.linspace(0.0, 1.0, 5)
mixed = [keras_style.arbitrary_stylize(photo, [a, b], weights=[1 - w, w], size=SIZE)
         for w in MIX]
show(row(mixed, [f"{1 - w:.2f} · A + {w:.2f} · B" for w in MIX],
              suptitle=f"A = {title_of(a)}, B = {title_of(b)}", width=2.8))

# %% [markdown]
# ## 6. The 26-style network
#
# Dumoulin et al.'s network knows 26 styles, learned from 26 paintings; the style is a row
# number, not a picture. `keras_style.multistyle_sheet(photo, tile=...)` paints the photo in
# all of them, labelled with their numbers, to choose from (the photo is in the first cell).
# The brush strokes have a fixed size in pixels, so in small cells they cover most of the
# photo; `FULL_QUALITY`'s 384-pixel cells keep more of it.

# %%
t0 = time.perf_counter()
sheet = keras_style.multistyle_sheet(photo, tile=SHEET_TILE)
print(f"26 styles in {time.perf_counter() - t0:.1f} s")
dpi = plt.rcParams["figure.dpi"]
fig = plt.figure(figsize=(sheet.shape[1] / dpi, sheet.shape[0] / dpi))  # one pixel per pixel
fig.add_axes((0, 0, 1, 1)).imshow(sheet)
fig.axes[0].axis("off")
show(fig)

# %% [markdown]
# ### A blend of two styles
#
# The style code of this network is 26 weights; a style spec like `"3:0.5,12:0.5"` sets two
# of them, and `keras_style.multistyle_stylize(photo, spec)` paints with the mixture of the
# two rows of scales and shifts.

# %%
i, j = BLEND
specs = [f"{i}", f"{i}:0.75,{j}:0.25", f"{i}:0.5,{j}:0.5", f"{i}:0.25,{j}:0.75", f"{j}"]
blends = [keras_style.multistyle_stylize(photo, spec, size=SIZE) for spec in specs]
show(row(blends, [f'"{spec}"' for spec in specs],
              suptitle=f"26-style network: style {i} → style {j}", width=2.8))

# %% [markdown]
# ## 7. Try it yourself
#
# Any photo and any painting: a file name from `../shared/data/photos/` and
# `../shared/data/styles/`, or a path to your own. `preserve_color="luminance"` keeps the
# photo's colours; `strength` below 1 keeps more of the photo. From the shell, the same is
# `python -m keras_style.stylize photo.jpg --style painting.jpg` (see the main README).

# %%
PHOTO = "monuments_palaisdespapes.jpg"
PAINTING = "great_wave.jpg"
STRENGTH = 1.0
PRESERVE_COLOR = None  # or "luminance"

mine = keras_style.arbitrary_stylize(find_image(PHOTO, "photos"), find_image(PAINTING, "styles"),
                                     strength=STRENGTH, preserve_color=PRESERVE_COLOR, size=SIZE)
show(row([as_image(find_image(PHOTO, "photos"), max_size=SIZE), mine],
              [PHOTO, f"→ {PAINTING}"], width=4.0))
# keras_style.save_image(mine, "mine.jpg")

# %% [markdown]
# ## Takeaways
#
# * Conditional instance normalization moves the style out of the convolutions and into
#   a few hundred scales and shifts: one network, many styles.
# * Computed by a style predictor from any painting (Ghiasi et al.), they make *any*
#   painting a single forward pass: `keras_style.arbitrary_stylize(photo, painting)`, or
#   `python -m keras_style.stylize photo.jpg --style painting.jpg`.
# * Style vectors can be mixed: with the photo's own (`strength`), with other paintings'
#   (`weights`); the 26-style network mixes its rows the same way
#   (`keras_style.multistyle_stylize(photo, "3:0.5,12:0.5")`).
# * Quality: a network trained for one painting (notebook 5) or an optimization (notebook 4)
#   follows that painting more closely; the arbitrary network trades some fidelity for
#   needing nothing but the painting.
#
# Photos: moose (Ryan Hagerty), public domain; Palais des Papes (Tognopop), CC0; via
# GCompris, see `../shared/data/credits/`. Paintings: van Gogh, *The Starry Night* (1889);
# Hokusai, *The Great Wave off Kanagawa* (c. 1831); Kandinsky, *Composition VIII* (1923);
# sources in `../shared/data/SOURCES.md`. Networks: Magenta (Apache-2.0), see
# `weights/README.md`.

# %%
print(run_report())
