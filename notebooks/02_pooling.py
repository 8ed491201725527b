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
# # 2 · Downsampling: max pooling and average pooling
#
# Between its convolution blocks a CNN **downsamples**: a pooling layer looks at small
# windows of each feature map and keeps one number per window. With 2×2 windows and
# stride 2 it halves height and width and keeps the depth: a quarter of the values
# survive, and the next convolutions see a larger part of the image ("receptive field").
# Pooling has no weights to learn.
#
# This notebook:
#
# 1. computes the slide's max-pooling example by hand and with `keras.layers.MaxPooling2D`;
# 2. pools a real photo, again and again;
# 3. looks at pooling inside VGG19, where it sits between the convolution blocks;
# 4. compares max and average pooling: Gatys et al. swap VGG's max pooling for average
#    pooling (`keras_style.loss_network(..., pooling="avg")`), and we look at why.

# %% [markdown]
# ## Parameters
#
# Small defaults so the notebook runs in well under a minute on a CPU (and in CI);
# `FULL_QUALITY = True` uses the full-size photo.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full-size photo (slower)

PHOTO = "colosseum.jpg"  # bundled with keras_style; or a file in ../shared/data/photos/
SIZE = 128  # long side of the photo fed to VGG19, in pixels
MAPS = 6  # feature maps shown per comparison
# ------------------------------------------------------------------------------

# %%
from keras_style.notebook import full_quality, run_report

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    SIZE = 512
    MAPS = 8

# %% [markdown]
# ## Setup

# %%

import matplotlib.pyplot as plt
import numpy as np

import keras_style
from keras_style.notebook import ASSETS, find_image, show_jpeg
import keras_style.layers  # imports TensorFlow and Keras quietly
from keras_style.image import as_image
import keras
import tensorflow as tf

np.set_printoptions(precision=3, suppress=True)

def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


photo_path = find_image(PHOTO, "photos")
print("photo:", photo_path.name)

# %% [markdown]
# ## 1. The slide's example
#
# One depth slice, 4×4; 2×2 windows, stride 2: four windows, and max pooling keeps each
# window's largest value.

# %%
slice_ = np.array([[1, 1, 2, 4],
                   [5, 6, 7, 8],
                   [3, 2, 1, 0],
                   [1, 2, 3, 4]], dtype=np.float32)
expected = np.array([[6, 8],
                     [3, 4]], dtype=np.float32)


def max_pool_by_hand(x, size=2, stride=2):
    out_h = (x.shape[0] - size) // stride + 1
    out_w = (x.shape[1] - size) // stride + 1
    out = np.zeros((out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = x[i * stride:i * stride + size, j * stride:j * stride + size].max()
    return out


by_hand = max_pool_by_hand(slice_)
# The same without loops: split each axis into (2 windows, 2 values) and take the max
# over the values.
by_reshape = slice_.reshape(2, 2, 2, 2).max(axis=(1, 3))
print(by_hand)
assert np.array_equal(by_hand, expected)
assert np.array_equal(by_reshape, expected)

# %%
pool = keras.layers.MaxPooling2D(pool_size=2, strides=2)
keras_out = to_numpy(pool(slice_.reshape(1, 4, 4, 1)))[0, :, :, 0]
print(keras_out)
assert np.array_equal(keras_out, expected)
print("NumPy and Keras agree with the slide: [[6,8],[3,4]]")

# %% [markdown]
# Average pooling keeps each window's mean instead:
# (1+1+5+6)/4 = 3.25, (2+4+7+8)/4 = 5.25, (3+2+1+2)/4 = 2, (1+0+3+4)/4 = 2.

# %%
avg_out = to_numpy(keras.layers.AveragePooling2D(2, strides=2)(slice_.reshape(1, 4, 4, 1)))[0, :, :, 0]
print(avg_out)
assert np.allclose(avg_out, slice_.reshape(2, 2, 2, 2).mean(axis=(1, 3)))
assert np.allclose(avg_out, [[3.25, 5.25], [2, 2]])

# %%
colors = plt.cm.Pastel1(np.arange(4))
quadrant = np.arange(4).reshape(2, 2).repeat(2, axis=0).repeat(2, axis=1)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2), gridspec_kw={"width_ratios": [2, 1, 1]})
panels = [(slice_, quadrant, "single depth slice (4×4)"),
          (keras_out, np.arange(4).reshape(2, 2), "max pool 2×2, stride 2"),
          (avg_out, np.arange(4).reshape(2, 2), "average pool 2×2, stride 2")]
for ax, (values, q, title) in zip(axes, panels):
    ax.imshow(colors[q])
    for (r, c), v in np.ndenumerate(values):
        window = slice_[r // 2 * 2:r // 2 * 2 + 2, c // 2 * 2:c // 2 * 2 + 2]
        is_max = values is slice_ and v == window.max()  # bold: the value max pooling keeps
        ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=13,
                fontweight="bold" if is_max else "normal")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# **Where do the gradients go?** Style transfer changes an image by following gradients
# back through the network, so it matters how pooling passes them back. Max pooling sends
# each output's gradient to the *one* input that won; average pooling spreads it evenly,
# a quarter to each input.

# %%
x = tf.constant(slice_.reshape(1, 4, 4, 1))
for layer in (keras.layers.MaxPooling2D(2), keras.layers.AveragePooling2D(2)):
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(layer(x))
    print(f"d(sum of outputs)/d(input) for {type(layer).__name__}:")
    print(tape.gradient(total, x).numpy()[0, :, :, 0], "\n")

# %% [markdown]
# ## 2. Pooling a photo
#
# Pooling is applied to each channel separately, so we can pool an RGB photo directly and
# look at it. Five poolings, as in VGG19, divide each side by 2⁵ = 32: VGG's last
# feature maps of a 224×224 image are 7×7.

# %%
photo = as_image(photo_path, max_size=SIZE)
print("photo:", photo.shape)
max_pool = keras.layers.MaxPooling2D(2)
avg_pool = keras.layers.AveragePooling2D(2)

levels = {"max": [photo], "avg": [photo]}
for _ in range(4):
    levels["max"].append(to_numpy(max_pool(levels["max"][-1][None]))[0])
    levels["avg"].append(to_numpy(avg_pool(levels["avg"][-1][None]))[0])

fig, axes = plt.subplots(2, 5, figsize=(13, 4.4))
for row, kind in enumerate(("max", "avg")):
    for col, img in enumerate(levels[kind]):
        ax = axes[row, col]
        ax.imshow(img, interpolation="nearest")
        ax.set_title(f"{kind} pool ×{col}: {img.shape[1]}×{img.shape[0]}" if col else
                     f"original {img.shape[1]}×{img.shape[0]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("Repeated 2×2 pooling, shown at the same display size")
plt.tight_layout()
show_jpeg(fig)

for kind in ("max", "avg"):
    print(f"{kind} pooling ×4: mean brightness {levels[kind][-1].mean():.3f} "
          f"(original {photo.mean():.3f})")

# %% [markdown]
# Average pooling is a blur followed by subsampling: the mean brightness is preserved.
# Max pooling keeps the brightest value of every window in every channel, so the image
# gets brighter and the bright details (the sunlit arches, the sky) spread; small dark
# details vanish. In a CNN, after a ReLU, "brightest" means "the strongest evidence that
# a feature is somewhere in this window", which is why max pooling is the usual choice
# for recognition: it keeps *whether* a feature occurred and forgets *exactly where*.

# %% [markdown]
# ## 3. Pooling inside VGG19
#
# `keras_style.loss_network` can return any VGG19 layer, including the pooling layers
# (`block1_pool` … `block5_pool`). Here are the shapes for our photo: each pooling halves
# height and width (rounding down) and keeps the number of channels.

# %%
pool_layers = [f"block{b}_pool" for b in range(1, 6)]
net = keras_style.loss_network(["block1_conv2"] + pool_layers)
feats = {k: to_numpy(v)[0] for k, v in net(photo[None]).items()}
print(f"{'layer':13s} {'shape':>16s}")
print(f"{'image':13s} {str(photo.shape):>16s}")
for name in ["block1_conv2"] + pool_layers:
    print(f"{name:13s} {str(feats[name].shape):>16s}")

# %%
before, after = feats["block1_conv2"], feats["block1_pool"]
strongest = np.argsort(before.mean(axis=(0, 1)))[::-1][:MAPS]
# block1_pool is max pooling of block1_conv2: check it with the reshape trick.
hh, ww = before.shape[0] // 2 * 2, before.shape[1] // 2 * 2
manual = before[:hh, :ww].reshape(hh // 2, 2, ww // 2, 2, -1).max(axis=(1, 3))
assert np.allclose(manual, after)

fig, axes = plt.subplots(2, MAPS, figsize=(2.1 * MAPS, 4.3))
for c, k in enumerate(strongest):
    for r, (f, label) in enumerate(((before, "block1_conv2"), (after, "block1_pool"))):
        axes[r, c].imshow(f[:, :, k], cmap="magma", interpolation="nearest")
        axes[r, c].set_title(f"{label} #{k}\n{f.shape[1]}×{f.shape[0]}", fontsize=8)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
fig.suptitle("VGG19 feature maps before and after the first max pooling")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## 4. Max vs average pooling in the loss network
#
# Gatys et al. (2015) note that replacing VGG's max pooling by average pooling "improves
# the gradient flow and one obtains slightly more appealing results". The convolution
# weights are unchanged: `loss_network(layers, pooling="avg")` builds the same VGG19 with
# `AveragePooling2D` layers.
#
# First, the features: the first block is the same (no pooling before it); from
# `block2_conv1` on the two networks see different inputs.

# %%
layers = ["block1_conv2", "block2_conv1", "block3_conv1", "block4_conv1"]
nets = {"max": keras_style.loss_network(layers, pooling="max"),
        "avg": keras_style.loss_network(layers, pooling="avg")}
print([layer.__class__.__name__ for layer in nets["avg"].layers if "pool" in layer.name])
out = {kind: {k: to_numpy(v)[0] for k, v in n(photo[None]).items()} for kind, n in nets.items()}

print(f"{'layer':13s} {'mean max':>9s} {'mean avg':>9s} {'zeros max':>10s} {'zeros avg':>10s} "
      f"{'correlation':>12s}")
for name in layers:
    a, b = out["max"][name], out["avg"][name]
    corr = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    print(f"{name:13s} {a.mean():9.2f} {b.mean():9.2f} {np.mean(a == 0):10.0%} "
          f"{np.mean(b == 0):10.0%} {corr:12.3f}")
assert np.allclose(out["max"]["block1_conv2"], out["avg"]["block1_conv2"])

# %%
name = "block3_conv1"
strongest = np.argsort(out["max"][name].mean(axis=(0, 1)))[::-1][:MAPS]
fig, axes = plt.subplots(2, MAPS, figsize=(2.1 * MAPS, 4.0))
for c, k in enumerate(strongest):
    for r, kind in enumerate(("max", "avg")):
        axes[r, c].imshow(out[kind][name][:, :, k], cmap="magma", interpolation="nearest")
        axes[r, c].set_title(f"{kind} pooling #{k}", fontsize=8)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
fig.suptitle(f"{name} feature maps: VGG19 with max pooling (top) and average pooling (bottom)")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# The maps look alike (same weights, and each panel is scaled to its own range), and the
# table says they are strongly correlated. But an average is never larger than the
# maximum, so with average pooling the deeper activations are markedly smaller (the
# table's means): the loss terms computed on them change scale too, which is one reason the `gatys2016`
# preset comes with its own loss weights.
#
# Now the gradients. Style transfer asks: *how should each pixel change to change these
# features?* We take the gradient of the mean `block4_conv1` activation with respect to
# the input pixels, for both networks. With max pooling, each of the three poolings on
# the way passes a window's gradient to its winner only, and the winners change from one
# pixel to the next: the gradient is speckled. With average pooling every pixel gets a
# share, and neighbouring pixels are pushed in more similar directions. We measure that
# with the correlation between the gradients of horizontally and vertically adjacent
# pixels (1 = perfectly smooth, 0 = unrelated).

# %%
image = tf.constant(photo[None])
grads = {}
for kind, n in nets.items():
    with tf.GradientTape() as tape:
        tape.watch(image)
        objective = tf.reduce_mean(n(image)["block4_conv1"])
    grads[kind] = tape.gradient(objective, image).numpy()[0].sum(axis=-1)


def neighbour_correlation(g):
    """Mean correlation of each pixel's value with its right and lower neighbours."""
    across = np.corrcoef(g[:, :-1].ravel(), g[:, 1:].ravel())[0, 1]
    down = np.corrcoef(g[:-1].ravel(), g[1:].ravel())[0, 1]
    return (across + down) / 2


smoothness = {kind: neighbour_correlation(g) for kind, g in grads.items()}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")  # room for the titles
axes[0].imshow(photo)
axes[0].set_title("input")
for ax, kind in zip(axes[1:], ("max", "avg")):
    g = np.abs(grads[kind])
    ax.imshow(g, cmap="inferno", vmax=np.percentile(g, 99.5))
    ax.set_title(f"|gradient|, {kind} pooling\nneighbour correlation {smoothness[kind]:.2f}",
                 fontsize=9)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Where the pixels get pushed: d mean(block4_conv1) / d pixels")
show_jpeg(fig)

for kind in ("max", "avg"):
    print(f"{kind} pooling: neighbour correlation of the gradient {smoothness[kind]:.3f}")

# %% [markdown]
# ## Takeaways
#
# * Max pooling with 2×2 windows and stride 2 keeps each window's maximum: the slide's
#   slice becomes `[[6,8],[3,4]]`, by hand and with `keras.layers.MaxPooling2D` alike.
# * Pooling halves height and width, keeps the depth, has no weights, and makes the next
#   layers see a larger part of the image; VGG19 does it five times.
# * Max pooling passes gradients to one input per window, average pooling to all four;
#   through VGG19 that makes the pixel gradient smoother with average pooling. For pixel
#   optimization (notebook 4) that is why the `gatys2016` preset builds its loss network
#   with `pooling="avg"`.

# %%
print(run_report())
