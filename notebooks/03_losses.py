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
# # 3 · Loss functions: from MAE to the perceptual loss
#
# A loss says how far a model's output is from what we wanted. The talk lists the usual
# ones (mean absolute error, mean squared error, categorical and binary cross-entropy)
# and makes two points: a loss can combine many factors, weighted differently, but it
# must end as **a single number**, because that number is what the optimizer reduces.
#
# This notebook:
#
# 1. computes MAE, MSE and the two cross-entropies by hand and with `keras.losses`, on
#    small examples chosen to show how they differ;
# 2. builds the losses of style transfer on VGG19 features with `keras_style`: content
#    loss, Gram matrices and style loss, total variation;
# 3. weights them into one number with `keras_style.losses.PerceptualLoss`.

# %% [markdown]
# ## Parameters
#
# Small defaults so the notebook runs in well under a minute on a CPU (and in CI);
# `FULL_QUALITY = True` uses full-size images.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
FULL_QUALITY = False  # True: full-size images (slower)

PHOTO = "colosseum.jpg"  # bundled with keras_style; or a file in ../shared/data/photos/
PAINTING = "starry_night.jpg"  # bundled; or a file in ../shared/data/styles/
SIZE = 128  # long side of the images fed to VGG19, in pixels
SEED = 0
# ------------------------------------------------------------------------------

# %%
from keras_style.notebook import full_quality, run_report

FULL_QUALITY = full_quality(FULL_QUALITY)  # or KERAS_STYLE_FULL_QUALITY=1 from outside
if FULL_QUALITY:
    SIZE = 512

# %% [markdown]
# ## Setup

# %%

import matplotlib.pyplot as plt
import numpy as np

import keras_style
from keras_style.notebook import ASSETS, find_image, show_jpeg
import keras_style.layers  # imports TensorFlow and Keras quietly
import keras
import tensorflow as tf
from keras_style import losses as ks_losses
from keras_style.image import as_image, resize
from keras_style.layers import GramMatrix

np.set_printoptions(precision=4, suppress=True)
rng = np.random.default_rng(SEED)

def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def image_grid(n, cols=3, width=2.7, height=2.4):
    """A figure for ``n`` pictures, ``cols`` to a row (each ≥ 384 px at FULL_QUALITY)."""
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat[:n]


photo_path, painting_path = find_image(PHOTO, "photos"), find_image(PAINTING, "styles")
print("photo:", photo_path.name, "| painting:", painting_path.name)

# %% [markdown]
# ## 1. Classic losses on small examples
#
# ### Mean absolute error vs mean squared error
#
# Two predictions of the same four targets. Prediction A is off by 1 everywhere;
# prediction B is exact three times and off by 4 once. MAE cannot tell them apart; MSE
# squares the errors, so it punishes B's one large error four times harder.

# %%
y_true = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
predictions = {"A (off by 1 everywhere)": np.array([[2.0, 3.0, 4.0, 5.0]], dtype=np.float32),
               "B (one value off by 4)": np.array([[1.0, 2.0, 3.0, 8.0]], dtype=np.float32)}

mae, mse = keras.losses.MeanAbsoluteError(), keras.losses.MeanSquaredError()
print(f"{'prediction':26s} {'MAE by hand':>12s} {'keras':>7s} {'MSE by hand':>12s} {'keras':>7s}")
for name, y_pred in predictions.items():
    mae_hand = np.mean(np.abs(y_true - y_pred))
    mse_hand = np.mean((y_true - y_pred) ** 2)
    mae_keras, mse_keras = float(mae(y_true, y_pred)), float(mse(y_true, y_pred))
    print(f"{name:26s} {mae_hand:12.4f} {mae_keras:7.4f} {mse_hand:12.4f} {mse_keras:7.4f}")
    assert np.isclose(mae_hand, mae_keras) and np.isclose(mse_hand, mse_keras)

# %%
e = np.linspace(-3, 3, 201)
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot(e, np.abs(e), label="absolute error |e|  (MAE)")
ax.plot(e, e ** 2, label="squared error e²  (MSE)")
ax.set_xlabel("error e = prediction − target")
ax.set_ylabel("loss")
ax.set_ylim(0, 6)
ax.legend()
ax.set_title("Small errors matter less, large errors more, with MSE")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Categorical cross-entropy
#
# For classification the model outputs probabilities over classes, and the target is
# one-hot. Cross-entropy is $-\sum_k y_k \log p_k$: minus the log of the probability
# given to the right class. Three predictions for an image of a dog:

# %%
classes = ["cat", "dog", "bird"]
y_true = np.array([[0, 1, 0]] * 3, dtype=np.float32)
y_pred = np.array([[0.05, 0.90, 0.05],   # confident and right
                   [0.30, 0.40, 0.30],   # unsure
                   [0.90, 0.05, 0.05]],  # confident and wrong
                  dtype=np.float32)
labels = ["confident, right", "unsure", "confident, wrong"]

cce_hand = -np.sum(y_true * np.log(y_pred), axis=-1)
cce_keras = to_numpy(keras.losses.CategoricalCrossentropy(reduction=None)(y_true, y_pred))
mse_rows = np.mean((y_true - y_pred) ** 2, axis=-1)
print(f"{'prediction':18s} {'p(dog)':>7s} {'CE by hand':>11s} {'keras':>7s} {'MSE':>7s}")
for label, p, h, k, m in zip(labels, y_pred[:, 1], cce_hand, cce_keras, mse_rows):
    print(f"{label:18s} {p:7.2f} {h:11.4f} {k:7.4f} {m:7.4f}")
assert np.allclose(cce_hand, cce_keras, rtol=1e-5)

# %% [markdown]
# MSE on the probabilities stays below 1 whatever happens; cross-entropy grows without
# bound as the probability of the right class goes to zero (−log 0.05 ≈ 3.0,
# −log 0.001 ≈ 6.9), so a confident mistake costs far more than an unsure answer. That
# is why classifiers, VGG19 among them, are trained with cross-entropy.

# %% [markdown]
# ### Binary cross-entropy
#
# When each output is its own yes/no question (several labels per image, say), each gets
# a binary cross-entropy, $-[y \log p + (1-y) \log(1-p)]$, averaged over the outputs.

# %%
questions = ["has sky", "has people", "is a painting", "is at night"]
y_true = np.array([[1, 0, 1, 0]], dtype=np.float32)
y_pred = np.array([[0.9, 0.2, 0.6, 0.01]], dtype=np.float32)

per_output = -(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
bce_hand = per_output.mean()
bce_keras = float(keras.losses.BinaryCrossentropy()(y_true, y_pred))
for q, t, p, loss in zip(questions, y_true[0], y_pred[0], per_output[0]):
    print(f"{q:14s} target {int(t)}  p = {p:4.2f}  loss {loss:.4f}")
print(f"BCE by hand {bce_hand:.5f}   keras {bce_keras:.5f}")
assert np.isclose(bce_hand, bce_keras, rtol=1e-5)

# A binary question is a two-class problem: BCE on p equals CCE on [p, 1 - p].
p = np.float32(0.6)
assert np.isclose(float(keras.losses.binary_crossentropy([[1.0]], [[p]])[0]),
                  float(keras.losses.categorical_crossentropy([[1.0, 0.0]], [[p, 1 - p]])[0]),
                  rtol=1e-5)

# %%
p = np.linspace(0.005, 0.995, 200)
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot(p, -np.log(p), label="target 1: −log p")
ax.plot(p, -np.log(1 - p), label="target 0: −log(1 − p)")
ax.plot(p, (1 - p) ** 2, "--", label="squared error, target 1")
ax.set_xlabel("predicted probability p")
ax.set_ylabel("loss")
ax.set_ylim(0, 5)
ax.legend()
ax.set_title("Binary cross-entropy")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The losses of style transfer
#
# Style transfer does not compare pixels: it compares what the frozen VGG19 sees. We
# build the loss network once, with the layers of the `tutorial` preset (content
# `block5_conv2`; style `block1_conv1` … `block5_conv1`).

# %%
config = keras_style.PRESETS["tutorial"].loss
print("content layers:", config.content_layers)
print("style layers:  ", config.style_layers)
net = keras_style.loss_network(config.layers, pooling=config.pooling)


def features(image):
    return {k: v for k, v in net(image[None]).items()}


photo = as_image(photo_path, max_size=SIZE)
painting = as_image(painting_path, max_size=SIZE)
print("photo", photo.shape, "| painting", painting.shape)

# %% [markdown]
# ### Content loss
#
# The content loss is the mean squared difference of two images' activations at a deep
# layer (here `block5_conv2`; `keras_style.losses.content_loss`). We compare the photo
# with a few variations and, for contrast, also print the plain pixel MSE.

# %%
h, w = photo.shape[:2]
variants = {
    "the photo itself": photo,
    "+ noise (σ = 0.1)": np.clip(photo + rng.normal(0, 0.1, photo.shape), 0, 1).astype(np.float32),
    "shifted 3 px": np.roll(photo, 3, axis=1),
    "blurred": resize(resize(photo, (h // 4, w // 4)), (h, w)),
    "the painting": resize(painting, (h, w)),
    "white noise": rng.uniform(0, 1, photo.shape).astype(np.float32),
}
layer = "block5_conv2"
target = features(photo)[layer]
rows = []
for name, img in variants.items():
    f = features(img)[layer]
    loss = float(ks_losses.content_loss(f, target))
    rows.append((name, np.mean((img - photo) ** 2), loss))
    if name == "+ noise (σ = 0.1)":  # the library's number is the plain mean of squares
        assert np.isclose(loss, np.mean((to_numpy(f) - to_numpy(target)) ** 2), rtol=1e-5)

print(f"{'image':20s} {'pixel MSE':>10s} {'content loss (' + layer + ')':>30s}")
for name, pix, loss in rows:
    print(f"{name:20s} {pix:10.4f} {loss:30.2f}")
small_changes = [r for r in rows if r[0] in ("+ noise (σ = 0.1)", "shifted 3 px", "blurred")]
print("\nclosest to the photo, by pixel MSE:   ",
      " < ".join(r[0] for r in sorted(small_changes, key=lambda r: r[1])))
print("closest to the photo, by content loss:",
      " < ".join(r[0] for r in sorted(small_changes, key=lambda r: r[2])))

fig, axes = image_grid(len(variants))
for ax, (name, img), (_, pix, loss) in zip(axes, variants.items(), rows):
    ax.imshow(img)
    ax.set_title(f"{name}\npixels {pix:.3f} · content {loss:.1f}", fontsize=8)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# The two measures disagree about the three small changes. In pixels, the 3-pixel shift
# is the largest change (every edge moved); for `block5_conv2`, which has pooled four
# times and sees the arches, not the pixels, it is the smallest. Blurring is cheap in
# pixels but removes the details the deep features respond to. The content loss asks
# "is the same scene there?", not "are the pixels the same?", which is what lets a
# stylized image repaint every pixel and still keep the photo's content.

# %% [markdown]
# ### Gram matrices
#
# Style is measured by how often features occur *together*, wherever they are. For
# features $F$ of shape $H×W×C$, the Gram matrix is $G_{cd} = \frac{1}{HW}\sum_{i,j}
# F_{ijc} F_{ijd}$: a $C×C$ table of channel co-activations, averaged over positions.
# A tiny example by hand, then with the `keras_style.layers.GramMatrix` layer:

# %%
tiny = np.array([[[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]],
                 [[3.0, 0.0, 1.0], [0.0, 2.0, 1.0]]], dtype=np.float32)  # H=2, W=2, C=3
flat = tiny.reshape(-1, 3)  # one row per position
gram_hand = flat.T @ flat / flat.shape[0]
gram_layer = to_numpy(GramMatrix(normalization="hw")(tiny[None]))[0]
print(gram_hand)
assert np.allclose(gram_hand, gram_layer)
# Other normalizations: "chw" divides by C·H·W as well (Johnson et al.), "none" not at all.
assert np.allclose(to_numpy(GramMatrix("chw")(tiny[None]))[0], gram_hand / 3)
assert np.allclose(to_numpy(GramMatrix("none")(tiny[None]))[0], flat.T @ flat)

# %% [markdown]
# Because it sums over positions, the Gram matrix forgets *where* things are: shuffle the
# positions of a feature map and its Gram matrix does not change. That is exactly what we
# want from "style" (brush strokes, colours, textures) and exactly what the content loss
# keeps.

# %%
f1 = to_numpy(features(painting)["block1_conv1"])
perm = rng.permutation(f1.shape[1] * f1.shape[2])
shuffled = f1.reshape(1, -1, f1.shape[-1])[:, perm].reshape(f1.shape)
g, g_shuffled = GramMatrix()(f1), GramMatrix()(shuffled)
print("feature maps changed:", not np.allclose(f1, shuffled),
      "| Gram matrix changed:", not np.allclose(to_numpy(g), to_numpy(g_shuffled), rtol=1e-4))
assert np.allclose(to_numpy(g), to_numpy(g_shuffled), rtol=1e-4)

# %% [markdown]
# The Gram matrices of our two images at two layers. They are symmetric
# ($G_{cd} = G_{dc}$) and the diagonal holds each channel's mean squared activation. The
# photo and the painting make different pairs of channels fire together: that
# difference is what the style loss measures.

# %%
gram_layers = ["block1_conv1", "block2_conv1"]
images = {"photo": photo, "painting": painting}
grams = {(n, l): to_numpy(GramMatrix()(features(img)[l]))[0]
         for n, img in images.items() for l in gram_layers}
fig, axes = plt.subplots(2, 3, figsize=(10, 6.4), layout="constrained")
for j, l in enumerate(gram_layers):
    # Same channel order and colour scale for both images, so the panels compare.
    order = np.argsort(-(np.diag(grams[("photo", l)]) + np.diag(grams[("painting", l)])))
    vmax = max(np.log10(1 + grams[(n, l)]).max() for n in images)
    for i, n in enumerate(images):
        G = grams[(n, l)][np.ix_(order, order)]
        im_ = axes[i, j + 1].imshow(np.log10(1 + G), cmap="viridis", vmin=0, vmax=vmax)
        axes[i, j + 1].set_title(f"{n}: Gram of {l} ({G.shape[0]}×{G.shape[1]})", fontsize=9)
    fig.colorbar(im_, ax=axes[:, j + 1], location="bottom", shrink=0.8, label="log10(1 + G)")
for i, (n, img) in enumerate(images.items()):
    axes[i, 0].imshow(img)
    axes[i, 0].set_title(n)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Gram matrices: which channels fire together\n(channels sorted by strength, "
             "same order and colour scale for photo and painting)", fontsize=10)
show_jpeg(fig)

# %% [markdown]
# ### Style loss
#
# The style loss of one layer is the mean squared difference of two Gram matrices
# (`keras_style.losses.style_loss`); the style term adds the layers up with weights (here
# 0.2 each). Two halves of the same painting show different things but share a style; the
# photo's halves share a photo's "style". The loss says so:

# %%
def halves(img):
    mid = img.shape[1] // 2
    return img[:, :mid], img[:, mid:]


p_left, p_right = halves(painting)
c_left, c_right = halves(photo)
pairs = {
    "painting L vs painting R": (p_left, p_right),
    "photo L vs photo R": (c_left, c_right),
    "photo L vs painting R": (c_left, p_right),
    "photo R vs painting L": (c_right, p_left),
}
style_layers = list(config.style_layers)
table = {}
for pair, (a, b) in pairs.items():
    fa, fb = features(a), features(b)
    table[pair] = [float(ks_losses.style_loss(GramMatrix()(fa[l]), GramMatrix()(fb[l])))
                   for l in style_layers]

print(f"{'pair':26s}" + "".join(f"{l:>14s}" for l in style_layers) + f"{'weighted':>12s}")
for pair, values in table.items():
    weighted = sum(config.style_layers[l] * v for l, v in zip(style_layers, values))
    print(f"{pair:26s}" + "".join(f"{v:14.4g}" for v in values) + f"{weighted:12.4g}")

# %% [markdown]
# Both halves of the painting are closest to each other, then the photo's halves; every
# photo/painting pair is further apart, layer by layer. Note the scales: a Gram entry is
# a product of two activations and the loss squares it, so the raw style losses of the
# layers differ by orders of magnitude, and with equal layer weights the weighted sum is
# dominated by one layer (`block4_conv1` here). The per-layer weights (`LossConfig.style_layers` maps each layer to its
# weight) are the knob for that; both presets keep their sources' equal weights.

# %% [markdown]
# ### Total variation
#
# The total-variation loss sums the absolute differences between neighbouring pixels.
# It is small for smooth images and large for noisy ones; a little of it keeps the
# optimized image from filling up with high-frequency noise. Three implementations agree:
# by hand, `keras_style.losses.total_variation_loss` and `tf.image.total_variation`.

# %%
tv_images = {
    "blurred": variants["blurred"],
    "photo": photo,
    "painting": resize(painting, (h, w)),
    "+ noise (σ = 0.1)": variants["+ noise (σ = 0.1)"],
    "white noise": variants["white noise"],
}
fig, axes = image_grid(len(tv_images))
for ax, (name, img) in zip(axes, tv_images.items()):
    by_hand = (np.abs(np.diff(img, axis=0)).sum() + np.abs(np.diff(img, axis=1)).sum())
    ours = float(ks_losses.total_variation_loss(img[None]))
    theirs = float(tf.image.total_variation(tf.constant(img)))
    assert np.isclose(by_hand, ours, rtol=1e-4) and np.isclose(ours, theirs, rtol=1e-4)
    print(f"{name:18s} TV by hand {by_hand:10.1f}   keras_style {ours:10.1f}   tf.image {theirs:10.1f}")
    ax.imshow(img)
    ax.set_title(f"{name}\nTV = {ours:,.0f}", fontsize=9)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# ## 3. Many factors, one number: `PerceptualLoss`
#
# `keras_style.losses.PerceptualLoss` computes all three terms through the network we
# built and weights them with the config's weights (tutorial preset: content 1e4, style
# 1e-2, total variation 30):
#
# $$\text{total} = w_\text{content} \sum_l a_l\,\text{content}_l + w_\text{style}
# \sum_l b_l\,\text{style}_l + w_\text{tv}\,\text{TV}$$
#
# The style targets (Gram matrices of the painting) and content targets (features of the
# photo) are computed once; then any candidate image gets its terms. These are the
# numbers the optimizer in notebook 4 drives down.

# %%
loss = ks_losses.PerceptualLoss(config, network=net)
style_targets = loss.style_targets([painting])
content_targets = loss.content_targets(photo)

candidates = {
    "photo": photo,
    "painting": resize(painting, (h, w)),
    "50/50 blend": 0.5 * photo + 0.5 * resize(painting, (h, w)),
    "photo + noise": variants["+ noise (σ = 0.1)"],
    "white noise": variants["white noise"],
}


def score(loss_fn, images):
    out = {}
    for name, img in images.items():
        terms = {k: float(v) for k, v in loss_fn(img[None], content_targets, style_targets).items()}
        assert np.isclose(terms["total"], terms["content"] + terms["style"] + terms["tv"],
                          rtol=1e-5)
        out[name] = terms
    return out


def print_terms(scores, title):
    print(title)
    print(f"{'candidate':15s}{'content':>12s}{'style':>12s}{'tv':>12s}{'TOTAL':>12s}")
    for name, t in scores.items():
        print(f"{name:15s}{t['content']:12.4g}{t['style']:12.4g}{t['tv']:12.4g}{t['total']:12.4g}")
    print()


scores = score(loss, candidates)
print_terms(scores, "tutorial weights: content 1e4, style 1e-2, tv 30 (weighted terms)")

# %%
fig, axes = image_grid(len(candidates))
for ax, (name, img) in zip(axes, candidates.items()):
    ax.imshow(np.clip(img, 0, 1))
    ax.set_title(f"{name}\ntotal {scores[name]['total']:.3g}", fontsize=9)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig)

# %% [markdown]
# With the tutorial's weights the style term dominates: the photo itself, with zero
# content loss, scores worst, and the painting scores best. That is intended: the
# tutorial starts the optimization *from the photo*, so the content comes for free at the
# start and the loss pulls towards the style.
#
# The weights decide what "best" means. The same candidates under a loss that cares a
# hundred times more about content (`config.replace(content_weight=1e6)`); the network is
# shared, nothing is rebuilt:

# %%
content_heavy = ks_losses.PerceptualLoss(config.replace(content_weight=1e6), network=net)
scores_heavy = score(content_heavy, candidates)
print_terms(scores_heavy, "content weight 1e6 (100×)")
for title, sc in (("tutorial weights", scores), ("content weight ×100", scores_heavy)):
    ranking = sorted(sc, key=lambda n: sc[n]["total"])
    print(f"{title:20s} best → worst: {' < '.join(ranking)}")

# %% [markdown]
# ## Takeaways
#
# * MAE treats all errors alike, MSE punishes large ones; cross-entropy punishes confident
#   mistakes without bound. `keras.losses` computes exactly the formulas above.
# * Content loss compares deep VGG19 features; the Gram matrix keeps which features occur
#   together and forgets where, so the style loss compares textures, not layouts; total
#   variation measures noise.
# * `PerceptualLoss` weights the terms into one number, and the weights decide which
#   image counts as best. Next: change an image's pixels to make that number small.

# %%
print(run_report())
