"""The live demo: a photo and a painting in, the stylized photo out, in seconds.

>>> from keras_style.demo import demo_stylize, demo_widget
>>> result, info = demo_stylize("photo.jpg", "starry_night", strength=0.8)
>>> demo_widget()          # in Jupyter: the same with dropdowns, uploads and a Run button

:func:`demo_stylize` is the whole logic, as a plain function; :func:`demo_widget` only
wires ipywidgets to it (and says how to install them when they are missing).  The photo
and the painting are each a name from :func:`choices`, a path, the bytes of an uploaded
file, a PIL image or an array.  Three kinds of method:

``"arbitrary"``
    Magenta's arbitrary network: any painting, one forward pass (0.3–0.5 s at 384 px on
    one busy core once loaded; the first call loads and traces it, 7–12 s there).
a shipped style network (``available_networks("style")``, e.g. ``"starry_night"``)
    one forward pass of a network trained for one painting; the painting argument is
    not used (``info["painting"]`` names the network's own).
``"gatys"``
    a few L-BFGS steps of Gatys et al.'s optimization (the ``tutorial`` preset's loss),
    started from the arbitrary network's result, so the picture is finished from step 0
    and the steps pull it closer to the painting's statistics.  Each step is a VGG19
    forward and backward pass or two: about 1.5 s at 384 px on 2 free cores (estimated
    from the benchmarks), several times that on a busy one (measured on one core shared
    with a training run: 5 steps at 256 px in 28–38 s, 10 at 384 px in 64–112 s), so a
    live demo keeps the steps few and the size small.

Loaded networks stay in this module (and in :mod:`keras_style.pretrained`), so only the
first call of each method pays for loading and tracing.
"""

from __future__ import annotations

import io
import time
import warnings
from pathlib import Path

import numpy as np

from keras_style.errors import KerasStyleError, UsageError

DEFAULT_SIZE = 384
"""Long side, in px, at which the demo stylizes (photos are never enlarged)."""
SIZES = (256, 384, 512, 768)
MAX_SIZE = 2048
GATYS_STEPS = 5
GATYS_PRESET = "tutorial"
PAINTING_READ_SIZE = 1024
"""Paintings are read at most this large (the networks see 256 px, Gatys ``size``)."""

INSTALL_HINT = ("The live demo needs ipywidgets (pip install ipywidgets, or pip install -e "
                "'.[notebooks]' in a clone); without it, call "
                "keras_style.demo.demo_stylize(photo, painting), which returns the stylized "
                "image as an array and an info dict.")

_CACHE: dict = {}


# --- what there is to choose from ---------------------------------------------------

def _shared_folders(kind: str) -> list[Path]:
    from keras_style.notebook import SHARED_DATA

    return [data / kind for data in SHARED_DATA if (data / kind).is_dir()]


def _holdout_names() -> list[str]:
    from keras_style.data import read_list
    from keras_style.networks import shipped_weights_dir

    path = shipped_weights_dir() / "holdout.txt"
    return read_list(path) if path.is_file() else []


def photo_table() -> dict[str, Path]:
    """Photos to pick by name: the bundled ``colosseum`` and, in a clone with
    ``../shared/data/photos``, the held-out photos no shipped network trained on."""
    from keras_style.notebook import ASSETS

    table = {"colosseum": ASSETS / "colosseum.jpg"}
    for folder in _shared_folders("photos"):
        for name in _holdout_names():
            if (folder / name).is_file():
                table.setdefault(Path(name).stem, (folder / name).resolve())
    return table


def painting_table() -> dict[str, Path]:
    """Paintings to pick by name: the bundled ``starry_night`` and every painting of
    ``../shared/data/styles`` when that folder is there."""
    from keras_style.image import IMAGE_SUFFIXES
    from keras_style.notebook import ASSETS

    table = {"starry_night": ASSETS / "starry_night.jpg"}
    for folder in _shared_folders("styles"):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                table.setdefault(path.stem, path.resolve())
    return table


def methods() -> list[str]:
    """``"arbitrary"``, every shipped style network, then ``"gatys"``."""
    from keras_style.networks import available_networks

    return ["arbitrary", *available_networks("style"), "gatys"]


def choices() -> dict[str, list]:
    """What the widget offers: ``{"photos": [...], "paintings": [...], "methods": [...],
    "sizes": [...]}`` (names that :func:`demo_stylize` accepts)."""
    return {"photos": list(photo_table()), "paintings": list(painting_table()),
            "methods": methods(), "sizes": list(SIZES)}


# --- reading inputs -----------------------------------------------------------------

def _decode_bytes(data: bytes, what: str):
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                return ImageOps.exif_transpose(img).copy()
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, SyntaxError, ValueError):
        raise UsageError(f"the uploaded {what} is not an image file Pillow can read "
                         "(it may be truncated or of another kind).") from None


def _named_path(source: str, what: str, table: dict[str, Path]) -> Path:
    key = Path(source).stem if Path(source).name == source else None
    if key in table and Path(source).suffix in ("", table[key].suffix):
        return table[key]
    if Path(source).is_file():
        return Path(source)
    raise UsageError(f"unknown {what} {source!r}: give a path or one of "
                     f"{', '.join(table)}.")


def load_input(source, what: str = "photo", max_size: int | None = None) -> np.ndarray:
    """``source`` (a name from :func:`choices`, a path, uploaded bytes, a PIL image or an
    array) as a ``[0, 1]`` image whose long side is at most ``max_size`` (never enlarged).

    ``what`` is ``"photo"`` or ``"painting"``: it picks the table of names and names the
    input in errors (a :class:`UsageError` for an unknown name or unreadable bytes).
    """
    from PIL import Image

    from keras_style import image as im

    if isinstance(source, memoryview):
        source = source.tobytes()
    if isinstance(source, (bytes, bytearray)):
        source = _decode_bytes(bytes(source), what)
    elif isinstance(source, (str, Path)):
        table = painting_table() if what == "painting" else photo_table()
        path = _named_path(str(source), what, table)
        with im.decoding_once():
            w, h = im.image_size(path)
            big = max_size is not None and max(w, h) > max_size
            return im.load_image(path, max_size=max_size if big else None, min_size=16)
    if isinstance(source, Image.Image):
        if max_size is not None and max(source.size) > max_size:
            source = im.resize_long_side(source, max_size)
    image = im.as_image(source)
    if max_size is not None and max(image.shape[:2]) > max_size:
        image = im.as_image(image, max_size=max_size)
    if min(image.shape[:2]) < 16:
        raise UsageError(f"the {what} is {image.shape[1]}x{image.shape[0]} px; the demo "
                         "needs at least 16 px on each side.")
    return image


def painting_label(painting) -> str:
    """A short name for ``painting`` (its name or file stem; ``"upload"`` for bytes)."""
    if isinstance(painting, (str, Path)):
        return Path(painting).stem
    return "upload" if isinstance(painting, (bytes, bytearray, memoryview)) else "image"


# --- the models, loaded once ----------------------------------------------------------

def cached_network(name: str):
    """``(model, metadata)`` of the shipped network ``name``, loaded on first use and kept."""
    key = ("network", name)
    if key not in _CACHE:
        from keras_style.networks import load_model

        _CACHE[key] = load_model(name, with_metadata=True)
    return _CACHE[key]


def cached_gatys_optimizer():
    """The :class:`~keras_style.gatys.GatysOptimizer` of the demo's preset (VGG19 and the
    compiled loss-and-gradient), built on first use and kept."""
    key = ("gatys", GATYS_PRESET)
    if key not in _CACHE:
        from keras_style.gatys import GatysOptimizer, get_preset

        _CACHE[key] = GatysOptimizer(get_preset(GATYS_PRESET).loss)
    return _CACHE[key]


# --- the plain function ---------------------------------------------------------------

def _check(method: str, strength, size, gatys_steps) -> tuple[float, int, int]:
    known = methods()
    if method not in known:
        raise UsageError(f"unknown method {method!r}; choose one of {', '.join(known)}.")
    try:
        strength, size, steps = float(strength), int(size), int(gatys_steps)
    except (TypeError, ValueError):
        raise UsageError("strength must be a number, size and gatys_steps whole numbers.") \
            from None
    if not 0.0 <= strength <= 1.0:
        raise UsageError(f"strength must be between 0 and 1, got {strength:g}.")
    if not 32 <= size <= MAX_SIZE:
        raise UsageError(f"size must be between 32 and {MAX_SIZE} px, got {size}.")
    if not 1 <= steps <= 1000:
        raise UsageError(f"gatys_steps must be between 1 and 1000, got {steps}.")
    return strength, size, steps


def _fade(result: np.ndarray, photo: np.ndarray, strength: float) -> np.ndarray:
    if strength >= 1.0:
        return result
    return (strength * result + (1.0 - strength) * photo).astype(np.float32)


def _gatys(photo, art, strength, steps, on_step):
    from keras_style import image as im
    from keras_style.gatys import StepInfo
    from keras_style.pretrained import arbitrary_stylize

    if min(photo.shape[:2]) < im.MIN_SIZE:
        raise UsageError(f"the photo is {photo.shape[1]}x{photo.shape[0]} px; Gatys needs "
                         f"at least {im.MIN_SIZE} px on each side (VGG19 pools five times).")
    style = im.as_image(art, max_size=max(photo.shape[:2]))
    start = arbitrary_stylize(photo, art, size=None)

    def report(info: StepInfo):
        if on_step is not None:
            on_step(info.step, info.steps)

    result = cached_gatys_optimizer().run(photo, [style], steps=steps, optimizer="lbfgs",
                                          init=start, callback=report, progress=False)
    return _fade(np.clip(result, 0.0, 1.0), photo, strength)


def demo_stylize(photo, painting="starry_night", method: str = "arbitrary",
                 strength: float = 1.0, size: int = DEFAULT_SIZE,
                 gatys_steps: int = GATYS_STEPS, on_step=None) -> tuple[np.ndarray, dict]:
    """Stylize ``photo`` like ``painting``; return ``(image, info)``.

    ``photo`` and ``painting``: a name from :func:`choices`, a path, the bytes of an
    uploaded file, a PIL image or an array.  ``method``: ``"arbitrary"``, a shipped style
    network's name or ``"gatys"`` (see the module docstring).  ``size`` caps the photo's
    long side (a smaller photo keeps its size).

    ``strength`` (0 to 1) means what each method can honestly do: for ``"arbitrary"`` it
    interpolates the style vector between the photo's own (0) and the painting's (1),
    Ghiasi et al.'s interpolation, so 0 is the photo repainted in its own style, close to
    it but not identical; for a shipped network and for ``"gatys"`` it fades the result's
    pixels into the photo's (0 is the photo exactly).  ``on_step(step, steps)`` is called
    after each Gatys step.

    ``info``: ``method``, ``painting`` (the painting's name; for a shipped network, the
    one it was trained on), ``strength``, ``strength_is`` (``"style vector"`` or ``"pixel
    fade"``), ``steps`` (Gatys only), ``photo_size`` and ``result_size`` as ``(width,
    height)``, and ``seconds`` (wall time, loading included).  Bad input raises
    :class:`UsageError` with one sentence.
    """
    from keras_style.pretrained import arbitrary_stylize

    t0 = time.perf_counter()
    strength, size, steps = _check(method, strength, size, gatys_steps)
    image = load_input(photo, "photo", max_size=size)
    info = {"method": method, "painting": painting_label(painting), "strength": strength,
            "strength_is": "pixel fade"}
    if method in ("arbitrary", "gatys"):
        art = load_input(painting, "painting", max_size=PAINTING_READ_SIZE)
    if method == "arbitrary":
        result = arbitrary_stylize(image, art, strength=strength, size=None)
        info["strength_is"] = "style vector"
    elif method == "gatys":
        result = _gatys(image, art, strength, steps, on_step)
        info["steps"] = steps
    else:
        from keras_style.networks import apply

        model, meta = cached_network(method)
        result = _fade(np.clip(apply(model, image), 0.0, 1.0), image, strength)
        info["painting"] = Path(str(meta.get("style_image", method))).stem
    result = np.clip(np.asarray(result, np.float32), 0.0, 1.0)
    info.update(photo_size=(image.shape[1], image.shape[0]),
                result_size=(result.shape[1], result.shape[0]),
                seconds=time.perf_counter() - t0)
    return result, info


def describe(info: dict) -> str:
    """One line for a result: method, painting, strength, size and time."""
    what = info["method"] if info["method"] != "gatys" else f"gatys, {info['steps']} steps"
    w, h = info["result_size"]
    return (f"{what} · {info['painting']} · strength {info['strength']:g} "
            f"({info['strength_is']}) · {w}×{h} px · {info['seconds']:.1f} s")


def to_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """A ``[0, 1]`` image as JPEG bytes (what the widget's pictures show)."""
    from keras_style import image as im

    buf = io.BytesIO()
    im.to_pil(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


# --- the widget -------------------------------------------------------------------------

def _uploaded(upload):
    """``(bytes, file name)`` of a FileUpload's file (ipywidgets 8 or 7), or ``None``."""
    value = upload.value
    if not value:
        return None
    item = value[0] if isinstance(value, (tuple, list)) else next(iter(value.values()))
    name = item.get("name") or item.get("metadata", {}).get("name", "upload")
    return bytes(item["content"]), name


class DemoControls:
    """The widgets of :func:`demo_widget` and what they do; ``box`` is what is shown.

    The photo (painting) is the uploaded file when there is one, else the dropdown's;
    picking in a dropdown clears its upload.  :meth:`run` (the Run button) stylizes and
    puts photo and result side by side; a bad input shows as one sentence in ``status``.
    """

    def __init__(self, widgets, photo=None, painting=None, method="arbitrary",
                 size=DEFAULT_SIZE, strength=1.0):
        w, options = widgets, choices()
        self.w = w
        for value, kind in ((photo, "photos"), (painting, "paintings"), (method, "methods")):
            if value is not None and value not in options[kind]:
                raise UsageError(f"the widget offers {kind} {', '.join(options[kind])}; "
                                 f"{value!r} is not one of them.")
        wide = {"description_width": "70px"}
        self.photo = w.Dropdown(options=options["photos"], description="Photo",
                                value=photo or options["photos"][0], style=wide)
        self.photo_upload = w.FileUpload(accept="image/*", multiple=False,
                                         description="Upload photo",
                                         layout=w.Layout(width="auto"))  # the whole label
        self.painting = w.Dropdown(options=options["paintings"], description="Painting",
                                   value=painting or options["paintings"][0], style=wide)
        self.painting_upload = w.FileUpload(accept="image/*", multiple=False,
                                            description="Upload painting",
                                            layout=w.Layout(width="auto"))
        self.method = w.Dropdown(options=options["methods"], value=method,
                                 description="Method", style=wide)
        self.steps = w.IntSlider(value=GATYS_STEPS, min=1, max=50, description="Steps",
                                 style=wide)
        self.strength = w.FloatSlider(value=strength, min=0.0, max=1.0, step=0.05,
                                      description="Strength", style=wide)
        self.strength.tooltip = ("arbitrary: from the photo's own style (0) to the "
                                 "painting's (1); networks and Gatys: fade into the photo")
        sizes = sorted(set(options["sizes"]) | {int(size)})
        self.size = w.Dropdown(options=sizes, value=int(size), description="Size",
                               style=wide)
        self.button = w.Button(description="Run", button_style="primary", icon="paint-brush")
        self.status = w.HTML()
        def picture():  # one layout each: the result's is hidden while it is empty
            return w.Layout(width="auto", max_width="50%", object_fit="contain")

        self.photo_image = w.Image(format="jpeg", layout=picture())
        self.result_image = w.Image(format="jpeg", layout=picture())
        self.painting_image = w.Image(format="jpeg", layout=w.Layout(height="64px"))
        self.box = self._layout()
        self._wire()
        self.preview()

    def _layout(self):
        w = self.w
        return w.VBox([
            w.HBox([self.photo, self.photo_upload]),
            w.HBox([self.painting, self.painting_upload, self.painting_image]),
            w.HBox([self.method, self.steps]),
            w.HBox([self.strength, self.size]),
            w.HBox([self.button, self.status]),
            w.HBox([self.photo_image, self.result_image]),
        ])

    def _wire(self):
        def picked(upload):
            def clear(change):
                if upload.value:
                    upload.value = ()
                self.preview()
            return clear

        self.photo.observe(picked(self.photo_upload), names="value")
        self.painting.observe(picked(self.painting_upload), names="value")
        for upload in (self.photo_upload, self.painting_upload):
            upload.observe(lambda change: self.preview(), names="value")
        self.size.observe(lambda change: self.preview(), names="value")
        self.method.observe(lambda change: self._method_changed(), names="value")
        self.button.on_click(lambda button: self.run())
        self._method_changed()

    def _method_changed(self):
        """Steps only for Gatys; a shipped network has its own painting."""
        self.steps.layout.display = None if self.method.value == "gatys" else "none"
        own = self.method.value not in ("arbitrary", "gatys")
        self.painting.disabled = self.painting_upload.disabled = own

    def sources(self):
        """``(photo, painting, photo name, painting name)``: uploads win over dropdowns."""
        photo, painting = _uploaded(self.photo_upload), _uploaded(self.painting_upload)
        return (photo[0] if photo else self.photo.value,
                painting[0] if painting else self.painting.value,
                photo[1] if photo else self.photo.value,
                painting[1] if painting else self.painting.value)

    def _say(self, text: str, error: bool = False):
        import html

        colour = "#b00020" if error else "inherit"
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def _show_result(self, jpeg: bytes):
        """The result picture, hidden while there is none: an empty Image widget is drawn
        as a broken-image icon in a browser (seen in JupyterLab with Chromium)."""
        self.result_image.value = jpeg
        self.result_image.layout.display = None if jpeg else "none"

    def preview(self):
        """Show the chosen photo (at the chosen size) and a thumbnail of the painting."""
        photo, painting, _, _ = self.sources()
        try:
            self.photo_image.value = to_jpeg(load_input(photo, "photo", self.size.value))
            self.painting_image.value = to_jpeg(load_input(painting, "painting", 128))
        except KerasStyleError as exc:
            self._say(str(exc), error=True)
            return
        self._show_result(b"")
        self._say("Ready: press Run.")

    def run(self):
        """Stylize with the current settings; the result, or one sentence, in the output."""
        photo, painting, _, painting_name = self.sources()
        self.button.disabled = True
        self._say("Running…")
        try:
            result, info = demo_stylize(
                photo, painting, method=self.method.value, strength=self.strength.value,
                size=self.size.value, gatys_steps=self.steps.value,
                on_step=lambda step, steps: self._say(f"Gatys step {step} of {steps}…"))
        except KerasStyleError as exc:
            self._say(str(exc), error=True)
            return None
        except Exception as exc:  # a live demo shows a sentence, never a traceback
            self._say(f"The demo failed ({type(exc).__name__}: {exc}); call demo_stylize() "
                      "with the same arguments to see the traceback.", error=True)
            return None
        finally:
            self.button.disabled = False
        if isinstance(painting, bytes) and info["method"] in ("arbitrary", "gatys"):
            info["painting"] = Path(painting_name).stem
        self.photo_image.value = to_jpeg(load_input(photo, "photo", self.size.value))
        self._show_result(to_jpeg(result))
        self._say(describe(info))
        return result, info


def demo_widget(photo=None, painting=None, method: str = "arbitrary",
                size: int = DEFAULT_SIZE, strength: float = 1.0):
    """The live demo as ipywidgets: pick or upload a photo and a painting, a method, a
    strength and a size, press Run; photo and result appear side by side.

    Returns the widget box (its :class:`DemoControls` as ``box.controls``), or ``None``
    after printing how to install ipywidgets when they are not available (no traceback).
    The arguments preset the controls (names from :func:`choices`).
    """
    try:
        import ipywidgets
    except ImportError:
        print(INSTALL_HINT)
        return None
    controls = DemoControls(ipywidgets, photo=photo, painting=painting, method=method,
                            size=size, strength=strength)
    controls.box.controls = controls
    return controls.box
