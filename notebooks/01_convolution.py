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
# # 1 · Convolution: kernels, feature maps, and what VGG19 sees
#
# The talk starts with convolutional neural networks. A small **kernel** slides over the
# image; at every position it multiplies the pixels under it by its weights and adds the
# products up. The grid of sums is a **feature map** (an "activation map"). Several
# kernels give several maps, and stacked together they form a new "image" with one
# channel per kernel.
#
# This notebook works through it:
#
# 1. the slide's 5×5 image and 3×3 kernel, by hand in NumPy and with a Keras `Conv2D`;
# 2. the slide's 32×32×3 → 28×28×6 stack of six 5×5 filters, on a real photo;
# 3. the feature maps of VGG19's first layers, the network the style transfer uses.

# %% [markdown]
# ## Parameters
#
# The defaults are small so the notebook runs in well under a minute on a laptop CPU (and
# in CI). Set `FULL_QUALITY = True` for larger pictures and more feature maps.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full-size photo and more feature maps (slower)

PHOTO = "colosseum.jpg"  # bundled with keras_style; or a file in ../shared/data/photos/
SIZE = 128  # long side of the photo fed to VGG19, in pixels
MAPS_PER_LAYER = 8  # feature maps shown per VGG19 layer
VGG_LAYERS = ["block1_conv1", "block1_conv2", "block2_conv1", "block3_conv1"]
# ------------------------------------------------------------------------------

# %%
from keras_style.notebook import full_quality, run_report

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    SIZE = 512
    MAPS_PER_LAYER = 16

# %% [markdown]
# ## Setup
#
# `import keras_style` is quick; importing one of its Keras modules brings in TensorFlow
# without its start-up log. Images in the package are float32 arrays `(H, W, 3)`, RGB in
# `[0, 1]`.

# %%

import matplotlib.pyplot as plt
import numpy as np

import keras_style
from keras_style.notebook import ASSETS, find_image, show_jpeg
import keras_style.layers  # imports TensorFlow and Keras quietly
import keras
from keras_style.image import as_image, resize


np.set_printoptions(precision=3, suppress=True)

photo_path = find_image(PHOTO, "photos")
print("photo:", photo_path.name)

# %% [markdown]
# ## 1. The slide's example, by hand
#
# Image 5×5, kernel 3×3, stride 1, no padding. The output has
# $(N - F)/S + 1 = (5 - 3)/1 + 1 = 3$ rows and columns.

# %%
image = np.array([[1, 1, 1, 0, 0],
                  [0, 1, 1, 1, 0],
                  [0, 0, 1, 1, 1],
                  [0, 0, 1, 1, 0],
                  [0, 1, 1, 0, 0]], dtype=np.float32)
kernel = np.array([[1, 0, 1],
                   [0, 1, 0],
                   [1, 0, 1]], dtype=np.float32)
expected = np.array([[4, 3, 4],
                     [2, 4, 3],
                     [2, 3, 4]], dtype=np.float32)


def convolve_by_hand(image, kernel, stride=1):
    """Slide `kernel` over `image` (no padding): multiply element-wise, add up."""
    kh, kw = kernel.shape
    out_h = (image.shape[0] - kh) // stride + 1
    out_w = (image.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out


by_hand = convolve_by_hand(image, kernel)
print(by_hand)
assert np.array_equal(by_hand, expected)

# %% [markdown]
# The first output: the kernel over the top-left 3×3 window,
# `1·1 + 1·0 + 1·1 + 0·0 + 1·1 + 1·0 + 0·1 + 0·0 + 1·1 = 4`.
# The nine panels below show the window behind each of the nine outputs.

# %%
fig, axes = plt.subplots(3, 3, figsize=(7, 7))
for i in range(3):
    for j in range(3):
        ax = axes[i, j]
        ax.imshow(image, cmap="Greys", vmin=0, vmax=2.5)
        for (r, c), v in np.ndenumerate(image):
            inside = i <= r < i + 3 and j <= c < j + 3
            label = f"{int(v)}" + (f"\n×{int(kernel[r - i, c - j])}" if inside else "")
            ax.text(c, r, label, ha="center", va="center", fontsize=8,
                    color="crimson" if inside else "black")
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 3, 3, fill=False, ec="crimson", lw=2))
        ax.set_title(f"out[{i},{j}] = {int(by_hand[i, j])}")
        ax.set_xticks([])
        ax.set_yticks([])
fig.suptitle("The 3×3 kernel slides over the 5×5 image (red: kernel weights)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The same with a Keras `Conv2D` layer
#
# A `Conv2D` with one filter, a 3×3 kernel, stride 1, `padding="valid"` (no padding) and no
# bias. We set its kernel to the slide's. Keras wants images as
# `(batch, height, width, channels)` and kernels as
# `(kernel_h, kernel_w, in_channels, out_channels)`.

# %%
conv = keras.layers.Conv2D(filters=1, kernel_size=3, strides=1, padding="valid",
                           use_bias=False)
conv.build((None, 5, 5, 1))
conv.set_weights([kernel.reshape(3, 3, 1, 1)])

keras_out = keras.ops.convert_to_numpy(conv(image.reshape(1, 5, 5, 1)))[0, :, :, 0]
print(keras_out)
assert np.array_equal(keras_out, expected)
assert np.array_equal(keras_out, by_hand)
print("NumPy and Keras agree with the slide: [[4,3,4],[2,4,3],[2,3,4]]")

# %% [markdown]
# Stride and padding change the output size, $(N - F + 2P)/S + 1$:
#
# * stride 2: $(5 - 3)/2 + 1 = 2$, a 2×2 map (every other window);
# * `padding="same"` adds a one-pixel border of zeros ($P = 1$), so the output keeps the
#   5×5 size.

# %%
conv_s2 = keras.layers.Conv2D(1, 3, strides=2, padding="valid", use_bias=False)
conv_s2.build((None, 5, 5, 1))
conv_s2.set_weights([kernel.reshape(3, 3, 1, 1)])
stride2 = keras.ops.convert_to_numpy(conv_s2(image.reshape(1, 5, 5, 1)))[0, :, :, 0]
assert np.array_equal(stride2, convolve_by_hand(image, kernel, stride=2))
print("stride 2:\n", stride2)

conv_same = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
conv_same.build((None, 5, 5, 1))
conv_same.set_weights([kernel.reshape(3, 3, 1, 1)])
same = keras.ops.convert_to_numpy(conv_same(image.reshape(1, 5, 5, 1)))[0, :, :, 0]
assert np.array_equal(same, convolve_by_hand(np.pad(image, 1), kernel))
assert np.array_equal(same[1:-1, 1:-1], expected)  # the inner 3×3 is the slide's answer
print("padding='same':\n", same)

# %% [markdown]
# A detail: what deep-learning libraries call "convolution" does not flip the kernel
# (mathematicians call that *cross-correlation*). The slide's kernel is unchanged by a
# 180° rotation, so SciPy's true convolution gives the same answer here.

# %%
from scipy.signal import convolve2d

assert np.array_equal(np.rot90(kernel, 2), kernel)
assert np.array_equal(convolve2d(image, kernel, mode="valid"), expected)

# %% [markdown]
# ## 3. Six 5×5 filters over a 32×32×3 image → 28×28×6
#
# On a colour image each filter is 5×5×**3**: it spans all input channels and produces
# one map. Six filters give six maps: $(32 - 5)/1 + 1 = 28$, so the output is 28×28×6, a
# new "image" with six channels. Each filter has $5·5·3 = 75$ weights plus a bias:
# $6 · 76 = 456$ parameters.
#
# Instead of random weights we give the six filters jobs a person can read: two edge
# detectors, a blur, a spot detector, and two colour detectors.

# %%
photo = keras_style.load_image(photo_path)
h, w = photo.shape[:2]
side = min(h, w)
top, left = (h - side) // 2, (w - side) // 2
tiny = resize(photo[top:top + side, left:left + side], (32, 32))
print("input:", tiny.shape)

luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # brightness from RGB
smooth = np.array([1, 4, 6, 4, 1], dtype=np.float32)
deriv = np.array([-1, -2, 0, 2, 1], dtype=np.float32)
on_luma = lambda k: k[:, :, None] * luma[None, None, :]  # noqa: E731
box = np.full((5, 5), 1 / 25, dtype=np.float32)
spot = -np.full((5, 5), 1 / 24, dtype=np.float32)
spot[2, 2] = 1.0

filters = {
    "vertical edges": on_luma(np.outer(smooth, deriv) / 16),
    "horizontal edges": on_luma(np.outer(deriv, smooth) / 16),
    "blur": on_luma(box),
    "spots (centre − surround)": on_luma(spot),
    "red (R − (G+B)/2)": box[:, :, None] * np.array([1, -0.5, -0.5], dtype=np.float32),
    "blue (B − (R+G)/2)": box[:, :, None] * np.array([-0.5, -0.5, 1], dtype=np.float32),
}
weights = np.stack(list(filters.values()), axis=-1)  # (5, 5, 3, 6)
print("kernel tensor:", weights.shape)

stack = keras.layers.Conv2D(filters=6, kernel_size=5)
stack.build((None, 32, 32, 3))
stack.set_weights([weights, np.zeros(6, dtype=np.float32)])
maps = keras.ops.convert_to_numpy(stack(tiny[None]))
print("output:", maps.shape, "| parameters:", stack.count_params())
assert maps.shape == (1, 28, 28, 6)
assert stack.count_params() == 456

# %%
fig, axes = plt.subplots(1, 7, figsize=(14, 2.6))
axes[0].imshow(tiny)
axes[0].set_title("input 32×32×3")
for k, (name, ax) in enumerate(zip(filters, axes[1:])):
    m = maps[0, :, :, k]
    lim = np.abs(m).max()
    ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(f"{k}: {name}", fontsize=8)
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Six 5×5×3 filters → a 28×28×6 stack of feature maps (red > 0 > blue)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Learned filters: the first layers of VGG19
#
# VGG19 (Simonyan & Zisserman, 2014) is the pretrained network the talk's style transfer
# uses. Its filters were learned on ImageNet, not designed. `keras_style.loss_network`
# builds it frozen, up to the deepest layer we ask for, with ImageNet weights (fetched
# once and cached) and VGG's own preprocessing inside, so it takes our `[0, 1]` RGB
# images directly and returns a dict of feature maps.
#
# All VGG19 convolutions are 3×3 with stride 1 and `"same"` padding, followed by a ReLU,
# so maps keep the image size within a block; 2×2 pooling between blocks halves it (the
# next notebook).

# %%
net = keras_style.loss_network(VGG_LAYERS)
print("trainable:", net.trainable, "| weights:", f"{net.count_params():,}")

x = as_image(photo_path, max_size=SIZE)
features = {k: keras.ops.convert_to_numpy(v)[0] for k, v in net(x[None]).items()}
print(f"{'layer':14s} {'feature map shape':>20s} {'zeros (ReLU)':>14s}")
for name in VGG_LAYERS:
    f = features[name]
    print(f"{name:14s} {str(f.shape):>20s} {np.mean(f == 0):>13.0%}")

# %% [markdown]
# The first layer's 64 filters are 3×3×3: small enough to look at directly as tiny RGB
# patches (each rescaled to the full colour range). Many are colour blobs or oriented
# edges, like the hand-made filters above.

# %%
w1 = net.get_layer("block1_conv1").get_weights()[0]  # (3, 3, 3, 64), BGR input order
w1 = w1[:, :, ::-1, :]  # show as RGB
fig, axes = plt.subplots(4, 16, figsize=(12, 3.2))
for k, ax in enumerate(axes.flat):
    f = w1[..., k]
    ax.imshow((f - f.min()) / (f.max() - f.min() + 1e-8), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("VGG19 block1_conv1: the 64 learned 3×3×3 filters")
plt.tight_layout()
plt.show()

# %% [markdown]
# Now the feature maps of the photo. For each layer we show the maps with the largest
# mean activation (out of 64, 64, 128 and 256). Early maps respond to edges and colours
# at single-pixel precision; `block3_conv1`, after two poolings, is coarser and responds
# to textures and parts (windows, arches, sky). A map that lights up along the picture's
# frame is reacting to the zero padding of the `"same"` convolutions, not to the photo.

# %%
rows = len(VGG_LAYERS)
fig, axes = plt.subplots(rows, MAPS_PER_LAYER + 1,
                         figsize=(1.6 * (MAPS_PER_LAYER + 1), 1.3 * rows + 0.6))
for r, name in enumerate(VGG_LAYERS):
    f = features[name]
    axes[r, 0].imshow(x)
    axes[r, 0].set_title("input", fontsize=8)
    axes[r, 0].set_ylabel(f"{name}\n{f.shape[0]}×{f.shape[1]}×{f.shape[2]}", fontsize=8)
    strongest = np.argsort(f.mean(axis=(0, 1)))[::-1][:MAPS_PER_LAYER]
    for c, k in enumerate(strongest, start=1):
        axes[r, c].imshow(f[:, :, k], cmap="magma")
        axes[r, c].set_title(f"#{k}", fontsize=8)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle(f"VGG19 feature maps of {photo_path.name} ({x.shape[1]}×{x.shape[0]} px)")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## Takeaways
#
# * A convolution is a sliding weighted sum; the slide's example gives `[[4,3,4],[2,4,3],[2,3,4]]`
#   by hand and with `keras.layers.Conv2D` alike.
# * Each filter produces one feature map; stacking the maps of six 5×5×3 filters turns a
#   32×32×3 image into a 28×28×6 one.
# * VGG19's learned first-layer filters look for colours and edges; deeper layers combine
#   them into textures and object parts. Style transfer compares images through exactly
#   these maps (notebooks 3 and 4).

# %%
print(run_report())
