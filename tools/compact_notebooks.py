"""Shrink the pictures stored in executed notebooks before they are committed.

    python tools/compact_notebooks.py notebooks/*.ipynb            # rewrite in place
    python tools/compact_notebooks.py --check notebooks/*.ipynb    # only report sizes

Each JPEG output wider than ``--max-width`` pixels is scaled down to it (Lanczos), and a
JPEG stored at a higher quality than ``--quality`` is re-encoded at it (progressive, with
optimized Huffman tables) when that makes it smaller; a picture already at ``--quality`` or
below is left as it is, so running the tool twice loses nothing more. A PNG output (the
line plots) becomes a 256-colour palette PNG when that is smaller; already a palette, it
is left. Nothing else in the notebook changes, and a notebook is rewritten only if one of
its pictures did (the file is replaced atomically, so a failure leaves the old one whole).
A FULL_QUALITY run of the teaching notebooks renders its figures at 160 dpi (pictures of
384 px or more); this keeps the stored set small.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image


# libjpeg's luminance table at quality 50 (ITU T.81, Annex K): the tables of a file saved
# at quality q are this one scaled by 50 / q (q < 50) or by 2 - q / 50 (q >= 50).
_LUMINANCE_50 = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
                 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
                 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)


def jpeg_quality(img) -> float | None:
    """The libjpeg quality a JPEG's luminance table corresponds to (``None`` when the file
    has no tables PIL can read)."""
    tables = getattr(img, "quantization", None) or {}
    if 0 not in tables:
        return None
    scale = 100.0 * sum(tables[0]) / sum(_LUMINANCE_50)  # per cent of the quality-50 table
    return 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0


def compact_jpeg(data: bytes, quality: int, max_width: int) -> bytes:
    """``data`` re-encoded at ``quality`` (and scaled down to ``max_width``), or ``data``
    itself when it is already narrow enough and at ``quality`` or below, or when the new
    file would not be smaller."""
    with Image.open(io.BytesIO(data)) as img:
        stored = jpeg_quality(img)
        if img.width <= max_width and stored is not None and stored <= quality + 1:
            return data
        img = img.convert("RGB")
        if img.width > max_width:
            img = img.resize((max_width, round(img.height * max_width / img.width)),
                             Image.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="jpeg", quality=quality, optimize=True, progressive=True)
    smaller = buf.getvalue()
    return smaller if len(smaller) < len(data) else data


def compact_png(data: bytes) -> bytes:
    """``data`` as a 256-colour palette PNG, or ``data`` itself when it is one already, or
    when that would not be smaller.  Line plots have few colours, so the palette loses
    only faint anti-aliasing shades."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.mode in ("P", "L", "1"):
                return data
            img.load()
            if img.mode == "RGBA" and img.getchannel("A").getextrema() == (255, 255):
                img = img.convert("RGB")  # matplotlib's opaque plots: keep exact colours
            elif img.mode not in ("RGB", "RGBA"):
                img = img.convert("RGBA")
            method = (Image.Quantize.MEDIANCUT if img.mode == "RGB"
                      else Image.Quantize.FASTOCTREE)  # the one that keeps transparency
            palette = img.quantize(256, method=method, dither=Image.Dither.NONE)
    except (OSError, ValueError):  # not a picture PIL reads: keep it as it is
        return data
    buf = io.BytesIO()
    palette.save(buf, format="png", optimize=True)
    smaller = buf.getvalue()
    return smaller if len(smaller) < len(data) else data


def compact_notebook(path: Path, quality: int, max_width: int, write: bool) -> tuple[int, int]:
    """``(bytes before, bytes after)`` of the notebook file."""
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    changed = False
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, compact in (("image/jpeg", lambda raw: compact_jpeg(raw, quality,
                                                                          max_width)),
                                  ("image/png", compact_png)):
                value = data.get(mime)
                if value is None:
                    continue
                raw = base64.b64decode(value if isinstance(value, str) else "".join(value))
                new = compact(raw)
                if new is not raw:
                    data[mime] = base64.b64encode(new).decode("ascii")
                    changed = True
    before = len(text.encode("utf-8"))
    if not changed:
        return before, before
    out = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if write:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(out)
        os.replace(tmp, path)
    return before, len(out.encode("utf-8"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--quality", type=int, default=50, help="JPEG quality (default: 50)")
    p.add_argument("--max-width", type=int, default=2400, help="widest picture, px")
    p.add_argument("--check", action="store_true", help="report only; write nothing")
    args = p.parse_args(argv)
    if not 1 <= args.quality <= 95 or args.max_width < 64:
        print("compact_notebooks: --quality must be 1-95 and --max-width at least 64.",
              file=sys.stderr)
        return 2
    total_before = total_after = 0
    for path in args.notebooks:
        try:
            before, after = compact_notebook(path, args.quality, args.max_width,
                                             write=not args.check)
        except (OSError, ValueError) as exc:
            print(f"compact_notebooks: {path}: {exc}", file=sys.stderr)
            return 1
        total_before, total_after = total_before + before, total_after + after
        print(f"{path}: {before / 2**20:.2f} MB -> {after / 2**20:.2f} MB")
    print(f"all: {total_before / 2**20:.2f} MB -> {total_after / 2**20:.2f} MB"
          + (" (--check: nothing written)" if args.check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
