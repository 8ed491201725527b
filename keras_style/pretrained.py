"""Stylize with the pretrained Magenta networks: any painting in one pass (``arbitrary``), or
one of 26 learned styles and their blends (``multistyle26``).

>>> import keras_style
>>> out = keras_style.arbitrary_stylize("photo.jpg", "painting.jpg")          # any painting
>>> out = keras_style.arbitrary_stylize("photo.jpg", ["a.jpg", "b.jpg"], weights=[0.7, 0.3],
...                                     strength=0.8)
>>> out = keras_style.multistyle_stylize("photo.jpg", "3:0.5,12:0.5")        # two of the 26

Photos run at full resolution (up to ``size`` on the long side) through
:func:`keras_style.tiling.apply`: large ones in tiles, every tile normalized with the
whole image's statistics, so the result is the whole-image result without its memory.
Paintings are read at 256 px (centre square), the size the style predictor was trained at.
"""

from __future__ import annotations

import numpy as np

from keras_style.errors import UsageError

#: long side, in px, at which photos are stylized by default (see README, "Any painting")
DEFAULT_SIZE = 1024
STYLE_SIZE = 256
MULTISTYLE_COUNT = 26

_CACHE: dict = {}


def _load(name: str):
    if name not in _CACHE:
        from keras_style.networks import load_model

        _CACHE[name] = load_model(name)
    return _CACHE[name]


def arbitrary_parts():
    """``(style_predictor, transformer)`` of the shipped ``arbitrary`` network (loaded once)."""
    bundle = _load("arbitrary")
    return bundle.get_layer("style_predictor"), bundle.get_layer("transformer")


def multistyle_transformer():
    """The shipped 26-style transformer ``[photo, style weights] -> image`` (loaded once)."""
    return _load("multistyle26")


def _stylizer(transformer):
    """One fixed-style network per transformer, kept: a new style is a new code assigned to
    its :class:`~keras_style.layers.StyleCode`, so nothing is rebuilt or retraced."""
    key = ("stylizer", transformer.name)
    if key not in _CACHE:
        from keras_style.nets.magenta import fixed_style

        _CACHE[key] = fixed_style(transformer)
    return _CACHE[key]


def style_image(painting) -> np.ndarray:
    """A painting as the predictor sees it: the centre square, resized to 256×256."""
    from keras_style import image as im

    art = im.as_image(painting)
    h, w = art.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return im.resize(art[top:top + side, left:left + side], (STYLE_SIZE, STYLE_SIZE))


def style_vector(painting) -> np.ndarray:
    """The 100-number style vector of a painting (a path, PIL image or ``[0, 1]`` array)."""
    predictor, _ = arbitrary_parts()
    return np.asarray(predictor(style_image(painting)[None]))[0]


def blend_weights(weights, count: int) -> np.ndarray:
    """``weights`` (or equal weights when ``None``) as a convex combination of ``count``."""
    w = np.ones(count) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (count,):
        raise UsageError(f"{w.size} blend weights for {count} styles.")
    if (w < 0).any() or w.sum() <= 0:
        raise UsageError("blend weights must be non-negative and not all zero.")
    return (w / w.sum()).astype(np.float32)


def parse_styles(spec) -> np.ndarray:
    """A 26-style spec as 26 convex weights: ``7``, ``"7"``, ``"3:0.5,12:0.5"`` (weights
    normalized to sum 1) or a ``{index: weight}`` dict."""
    if isinstance(spec, (int, np.integer)):
        spec = {int(spec): 1.0}
    elif isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        table = {}
        for part in parts:
            index, _, weight = part.partition(":")
            try:
                table[int(index)] = table.get(int(index), 0.0) + (float(weight) if weight else 1.0)
            except ValueError:
                raise UsageError(f"style spec {spec!r} does not parse; write e.g. 7 or "
                                 "3:0.5,12:0.5.") from None
        spec = table
    if not isinstance(spec, dict) or not spec:
        raise UsageError(f"style spec {spec!r} does not parse; write e.g. 7 or 3:0.5,12:0.5.")
    w = np.zeros(MULTISTYLE_COUNT)
    for index, weight in spec.items():
        if not 0 <= int(index) < MULTISTYLE_COUNT:
            raise UsageError(f"style index {index} is out of range; the network has styles "
                             f"0 to {MULTISTYLE_COUNT - 1}.")
        w[int(index)] += float(weight)
    return blend_weights(w, MULTISTYLE_COUNT)


def _check_strength(strength: float) -> float:
    if not 0.0 <= float(strength) <= 1.0:
        raise UsageError(f"strength must be between 0 and 1, got {strength}.")
    return float(strength)


def _photo(photo, size):
    from keras_style import image as im

    image = im.as_image(photo)
    h, w = image.shape[:2]
    if size is not None and max(h, w) > size:   # never enlarged
        image = im.as_image(image, max_size=size)
    if min(image.shape[:2]) < 16:
        raise UsageError(f"the photo is {image.shape[1]}x{image.shape[0]} px; the networks "
                         "need at least 16 px on each side.")
    return image


def _run(transformer, code, image, tile):
    from keras_style.networks import apply

    model = _stylizer(transformer)
    model.get_layer("style_code").code.assign(np.asarray(code, np.float32))
    return apply(model, image, tile=tile)


def _finish(result, photo, preserve_color):
    from keras_style import image as im

    if preserve_color == "luminance":
        return im.luminance_transfer(result, photo)
    if preserve_color not in (None, "histogram"):
        raise UsageError(f"preserve_color must be 'luminance', 'histogram' or None, got "
                         f"{preserve_color!r}.")
    return result


def arbitrary_stylize(photo, paintings, weights=None, strength: float = 1.0,
                      size: int | None = DEFAULT_SIZE, preserve_color: str | None = None,
                      tile: int | None = 1024) -> np.ndarray:
    """Stylize ``photo`` like ``paintings`` (one or several) with the arbitrary network.

    ``weights`` blend the paintings' style vectors (default: equal).  ``strength`` moves
    between the photo's own style vector (0) and the paintings' (1), Ghiasi et al.'s
    interpolation, which keeps more of the photo than fading pixels would.
    ``preserve_color``: ``"luminance"`` keeps the photo's colours in the result;
    ``"histogram"`` first recolours each painting with the photo's colour statistics.
    ``size`` caps the long side (``None``: the photo's own size).  Returns ``(H, W, 3)``.
    """
    from keras_style import image as im

    strength = _check_strength(strength)
    image = _photo(photo, size)
    paintings = [paintings] if not isinstance(paintings, (list, tuple)) else list(paintings)
    if not paintings:
        raise UsageError("give at least one painting.")
    blend = blend_weights(weights, len(paintings))
    arts = [im.as_image(p) for p in paintings]
    if preserve_color == "histogram":
        arts = [im.match_color(a, image) for a in arts]
    code = sum(b * style_vector(a) for b, a in zip(blend, arts))
    if strength < 1.0:
        code = strength * code + (1.0 - strength) * style_vector(image)
    _, transformer = arbitrary_parts()
    return _finish(_run(transformer, code, image, tile), image, preserve_color)


def multistyle_stylize(photo, style=0, strength: float = 1.0,
                       size: int | None = DEFAULT_SIZE, preserve_color: str | None = None,
                       tile: int | None = 1024) -> np.ndarray:
    """Stylize ``photo`` with one of the 26 styles or a blend (see :func:`parse_styles`).

    The network has no style of the photo itself, so ``strength`` below 1 fades the result
    towards the photo pixel by pixel.  ``"histogram"`` colour preservation needs a painting
    and is refused here; ``"luminance"`` keeps the photo's colours.
    """
    strength = _check_strength(strength)
    if preserve_color == "histogram":
        raise UsageError("histogram colour preservation recolours a painting; the 26-style "
                         "network has none. Use 'luminance'.")
    image = _photo(photo, size)
    result = _run(multistyle_transformer(), parse_styles(style), image, tile)
    result = _finish(result, image, preserve_color)
    if strength < 1.0:
        result = strength * result + (1.0 - strength) * image
    return result


def multistyle_sheet(photo, tile: int = 256, columns: int = 7) -> np.ndarray:
    """All 26 styles on one photo (resized to ``tile`` px on its long side), in a grid with
    the photo first; each cell carries its index in a white strip above it."""
    from PIL import Image, ImageDraw

    from keras_style import image as im

    image = _photo(photo, tile)
    cells = [("photo", image)] + [(str(i), multistyle_stylize(image, i, size=None))
                                  for i in range(MULTISTYLE_COUNT)]
    h, w = image.shape[:2]
    label, pad = 14, 4
    rows = -(-len(cells) // columns)
    sheet = Image.new("RGB", (columns * (w + pad) + pad, rows * (h + label + pad) + pad),
                      "white")
    draw = ImageDraw.Draw(sheet)
    for n, (name, cell) in enumerate(cells):
        r, c = divmod(n, columns)
        x, y = pad + c * (w + pad), pad + r * (h + label + pad)
        sheet.paste(im.to_pil(cell), (x, y + label))
        draw.text((x + 2, y + 1), name, fill="black")
    return im.from_pil(sheet)
