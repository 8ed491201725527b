"""Shrink the pictures stored in executed notebooks before they are committed.

    python tools/compact_notebooks.py notebooks/*.ipynb            # rewrite in place
    python tools/compact_notebooks.py --check notebooks/*.ipynb    # only report sizes

Each JPEG output wider than ``--max-width`` pixels is scaled down to it (Lanczos), and
every JPEG output is re-encoded at ``--quality`` when that makes it smaller; PNG outputs
(line plots) are left alone. Nothing else in the notebook changes, and a notebook is
rewritten only if one of its pictures did (the file is replaced atomically, so a failure
leaves the old one whole). A FULL_QUALITY run of the teaching notebooks renders its
figures at 160 dpi (pictures of 384 px or more); this keeps the stored set to a few MB.
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


def compact_jpeg(data: bytes, quality: int, max_width: int) -> bytes:
    """``data`` re-encoded at ``quality`` (and scaled down to ``max_width``), or ``data``
    itself when that would not be smaller."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        if img.width > max_width:
            img = img.resize((max_width, round(img.height * max_width / img.width)),
                             Image.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="jpeg", quality=quality, optimize=True)
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
            value = data.get("image/jpeg")
            if value is None:
                continue
            raw = base64.b64decode(value if isinstance(value, str) else "".join(value))
            new = compact_jpeg(raw, quality, max_width)
            if new is not raw:
                data["image/jpeg"] = base64.b64encode(new).decode("ascii")
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
    p.add_argument("--quality", type=int, default=70, help="JPEG quality (default: 70)")
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
