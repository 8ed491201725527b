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
# # 8 · Live demo: your photo, any painting
#
# The moment a room asks for: "try it on *my* photo, with *this* painting". Pick a photo (or
# upload one), pick a painting (the bundled *Starry Night*, the talk's paintings in
# `../shared/data/styles/`, or an upload), a method and a strength, press **Run**: the
# result appears beside the photo.
#
# * **arbitrary**: Magenta's arbitrary network (notebook 7), any painting in one pass, under
#   a second at 384 px once loaded (the first run loads and traces it: seconds).
# * **a shipped network** (`cafe_terrace`, `great_wave`, …): one painting each, one pass;
#   the painting choice is not used.
# * **gatys**: a few L-BFGS steps of notebook 4's optimization, started from the arbitrary
#   result; each step is a VGG19 forward and backward pass or two (about 1.5 s at 384 px on
#   two free cores, much more on a busy one), so keep the steps few and the size small
#   when presenting, e.g. 5 steps at 256 px.
#
# **Strength**: for *arbitrary*, from the photo's own style (0) to the painting's (1), so 0
# is the photo repainted, not the photo; for a network or Gatys, a fade into the photo.
#
# **Presenting it**: run the first three cells before the talk (the widget appears), then
# press Run once with the defaults so the networks are loaded before anyone is watching.
# Take photos and paintings from the audience with the two upload buttons. Everything is in
# `keras_style.demo`; where widgets do not show (a static viewer, a terminal) the last cell
# makes the same picture with a plain call.

# %% tags=["parameters"]
# ---- parameters -------------------------------------------------------------
PHOTO = "colosseum"  # a name from keras_style.demo.choices()["photos"], or a path
PAINTING = "starry_night"  # a name from choices()["paintings"], or a path
METHOD = "arbitrary"  # "arbitrary", a shipped network's name, or "gatys"
STRENGTH = 1.0
SIZE = 512  # long side of the plain call's picture, px
WIDGET_SIZE = 384  # the widget's starting size, px
# ------------------------------------------------------------------------------

# %%
from keras_style.demo import choices, demo_stylize, demo_widget, describe, load_input

print("methods:", ", ".join(choices()["methods"]))
print(f"{len(choices()['photos'])} photos and {len(choices()['paintings'])} paintings to pick from")

# %% [markdown]
# ## The widget
#
# Needs `ipywidgets` (in the `notebooks` extra); without it the cell says how to install it.

# %%
widget = demo_widget(photo=PHOTO, painting=PAINTING, method=METHOD, size=WIDGET_SIZE)
widget

# %% [markdown]
# ## The same, as a plain call
#
# `demo_stylize(photo, painting, method=..., strength=..., size=...)` returns the image as
# a `[0, 1]` array and an `info` dict (what ran, how long it took).

# %%
import matplotlib.pyplot as plt

from keras_style.notebook import show_jpeg

result, info = demo_stylize(PHOTO, PAINTING, method=METHOD, strength=STRENGTH, size=SIZE)
photo = load_input(PHOTO, "photo", max_size=SIZE)
print(describe(info), "(the first call includes loading the network)")

dpi = 100
h, w = result.shape[:2]
fig, axes = plt.subplots(1, 2, figsize=(2 * w / dpi + 0.3, h / dpi + 0.4), dpi=dpi)
for ax, image, title in zip(axes, (photo, result), (PHOTO, f"→ {info['painting']}")):
    ax.imshow(image)
    ax.set_title(title, fontsize=10)
    ax.axis("off")
plt.tight_layout()
show_jpeg(fig, quality=80)
assert result.shape == photo.shape and max(result.shape[:2]) <= SIZE

# %% [markdown]
# Photo: "Colosseum Roma 2009" (Urse Ovidiu), public domain, bundled as `colosseum.jpg`;
# painting: van Gogh, *The Starry Night* (1889), public domain (credits in the main README
# and `../shared/data/SOURCES.md`). Networks: Magenta (Apache-2.0), see `weights/README.md`.
