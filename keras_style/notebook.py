"""Small helpers for the teaching notebooks (and yours): finding sample images, and
showing photo-heavy matplotlib figures compactly."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

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
