"""Small helpers for the teaching notebooks (and yours): finding sample images, showing
photo-heavy matplotlib figures compactly, and the ``FULL_QUALITY`` switch with the run's
clock."""

from __future__ import annotations

import os
import time
from io import BytesIO
from pathlib import Path

from keras_style.errors import UsageError

ASSETS = Path(__file__).resolve().parent / "assets"
"""The images bundled with the package: ``colosseum.jpg`` and ``starry_night.jpg``."""

_ROOTS = (Path.cwd().parent, Path(__file__).resolve().parents[1])
SHARED_DATA = [root / ".." / "shared" / "data" for root in _ROOTS]
"""Where a clone of the project keeps the talk's photos and paintings, if it has them."""


def find_image(name: str, kind: str = "photos") -> Path:
    """A bundled asset named ``name``, else ``../shared/data/<kind>/<name>``, else a fallback.

    ``kind`` is ``"photos"`` or ``"styles"``; the fallback is the bundled Colosseum photo
    or Starry Night, with a printed note, so a notebook runs on any machine.
    """
    for path in [ASSETS / name] + [data / kind / name for data in SHARED_DATA]:
        if path.is_file():
            return path.resolve()
    fallback = ASSETS / ("colosseum.jpg" if kind == "photos" else "starry_night.jpg")
    print(f"{name} not found; using the bundled {fallback.name}")
    return fallback


def show_jpeg(fig, quality: int = 85):
    """Display a matplotlib figure as a JPEG (a fraction of a PNG's size in a notebook)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = BytesIO()
    fig.savefig(buf, format="jpeg", bbox_inches="tight", pil_kwargs={"quality": quality})
    plt.close(fig)
    display(Image(buf.getvalue()))


FULL_QUALITY_VARIABLE = "KERAS_STYLE_FULL_QUALITY"
"""Set to ``1`` (or ``0``) to turn a notebook's ``FULL_QUALITY`` on (or off) without editing it,
for example ``KERAS_STYLE_FULL_QUALITY=1 jupyter nbconvert --execute ...``."""

FIGURE_DPI = {True: 160, False: 80}
"""matplotlib's ``figure.dpi`` that :func:`full_quality` sets: at 160 a 2.5-inch panel is
400 pixels, the presentation size; the small defaults draw at 80 for CI."""

_run = {"started": None, "full_quality": None}


def full_quality(value: bool) -> bool:
    """The notebook's ``FULL_QUALITY``: ``value`` as set in its parameters cell, unless the
    environment variable ``KERAS_STYLE_FULL_QUALITY`` says ``1`` or ``0``.

    Prints the setting (so a stored notebook shows which one made its pictures), sets
    matplotlib's ``figure.dpi`` to match (:data:`FIGURE_DPI`), and starts the clock that
    :func:`run_report` reads.
    """
    import matplotlib.pyplot as plt

    source = "the parameters cell"
    text = os.environ.get(FULL_QUALITY_VARIABLE)
    if text is not None and text.strip() != "":
        if text.strip() not in ("0", "1"):
            raise UsageError(f"{FULL_QUALITY_VARIABLE} must be 1 or 0, not {text!r}.")
        value, source = text.strip() == "1", f"{FULL_QUALITY_VARIABLE}={text.strip()}"
    value = bool(value)
    plt.rcParams["figure.dpi"] = FIGURE_DPI[value]
    _run.update(started=time.perf_counter(), full_quality=value)
    print(f"FULL_QUALITY = {value} (from {source})")
    return value


def run_report() -> str:
    """One line for a notebook's last cell: the ``FULL_QUALITY`` setting, the wall time since
    :func:`full_quality` was called, and the machine (CPU model, instruction sets, cores)."""
    from keras_style._machine import cpu_description

    if _run["started"] is None:
        raise UsageError("run_report() needs full_quality(...) to have been called first.")
    seconds = time.perf_counter() - _run["started"]
    minutes, rest = divmod(round(seconds), 60)
    took = f"{minutes} min {rest:02d} s" if minutes else f"{seconds:.0f} s"
    return (f"This run: FULL_QUALITY = {_run['full_quality']}, {took} from the parameters to "
            f"this cell on {cpu_description()}.")
