"""Gatys optimization started from the photo, from noise, or from the arbitrary network.

    python benchmarks/warm_start.py                                   # 2 held-out photos
    python benchmarks/warm_start.py --limit 4 --size 384 --steps 200 --save-images /tmp/ws

For each held-out photo (the first ``--limit`` of ``weights/holdout.txt`` at ``--size`` px)
and painting, :func:`keras_style.style_transfer` runs the ``tutorial`` preset's loss with
L-BFGS for ``--steps`` iterations from each start (``--init content``, ``noise`` and
``arbitrary``: the arbitrary network's one-pass result).  Its callback records the total loss
after every iteration.  Printed, as means over the photos: the loss at the start (the first
iteration's value) and after each of ``--report`` iterations, the iterations each start
needs to reach the photo start's final loss (linear interpolation; "–" if never), the
structure score of the final image (``_common.structure_correlation``), and seconds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from keras_style.cli import Parser, formatter, positive_int, run

from _common import (STYLES, add_held_out_arguments, fmt, holdout_photos, log, mean,
                     print_report, setup_tensorflow, structure_correlation)
from yardstick import find_painting

PROG = "python benchmarks/warm_start.py"
INITS = ("content", "noise", "arbitrary")


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Gatys L-BFGS from the photo, noise or the arbitrary network's "
                           "result: loss curves, steps to quality, surviving structure.")
    p.add_argument("--styles", nargs="+", default=["starry_night"],
                   help="paintings: files, or names in --style-dir")
    p.add_argument("--style-dir", type=Path, default=STYLES,
                   help="folder of paintings given by name")
    p.add_argument("--steps", type=positive_int, default=100, help="L-BFGS iterations")
    p.add_argument("--report", type=positive_int, nargs="+", default=[5, 10, 25, 50, 100],
                   help="iterations at which the loss is printed")
    p.add_argument("--save-images", type=Path, default=None,
                   help="folder for the final images (PHOTO_PAINTING_INIT.png)")
    add_held_out_arguments(p, limit=2, size=256)
    return p


def steps_to(curve, target):
    """First (interpolated) iteration at which ``curve`` (losses after iterations 1..n)
    is at or below ``target``; ``None`` if never."""
    previous = None
    for i, value in enumerate(curve, start=1):
        if value <= target:
            if previous is None or previous == value:
                return float(i)
            return i - 1 + (previous - target) / (previous - value)
        previous = value
    return None


def optimize(photo, painting, init, steps, size):
    from keras_style.gatys import style_transfer

    curve, seconds = [], [0.0]

    def record(info):
        curve.append(float(info.losses["total"]))
        seconds[0] = info.seconds

    image = style_transfer(photo, painting, preset="tutorial", size=size, steps=steps,
                           optimizer="lbfgs", init=init, callback=record, progress=False)
    return image, curve, seconds[0]


def run_all(args, paintings, photos) -> dict:
    """Every start on every photo and painting: ``{init: [(curve, structure, seconds)]}``."""
    from keras_style import image as im

    results = {init: [] for init in INITS}
    for painting in paintings:
        for path in photos:
            photo = im.load_image(path, max_size=args.size)
            for init in INITS:
                image, curve, seconds = optimize(photo, painting, init, args.steps, args.size)
                results[init].append((curve, structure_correlation(image, photo), seconds))
                if args.save_images:
                    args.save_images.mkdir(parents=True, exist_ok=True)
                    im.save_image(image, args.save_images
                                  / f"{path.stem}_{painting.stem}_{init}.png")
                log(f"{path.name} / {painting.stem} / {init}: {fmt(curve[-1])}")
    return results


def table_rows(results: dict, report: list[int]) -> list[list]:
    targets = [curve[-1] for curve, _, _ in results["content"]]
    rows = []
    for init, runs in results.items():
        reach = [steps_to(curve, t) for (curve, _, _), t in zip(runs, targets)]
        reached = [r for r in reach if r is not None]
        rows.append([f"`--init {init}`", fmt(mean(c[0] for c, _, _ in runs))]
                    + [fmt(mean(c[s - 1] for c, _, _ in runs)) for s in report]
                    + [fmt(mean(reached)) if len(reached) == len(reach) else "–",
                       fmt(mean(s for _, s, _ in runs)), fmt(mean(t for _, _, t in runs))])
    return rows


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    paintings = [find_painting(s, args.style_dir) for s in args.styles]
    photos = holdout_photos(PROG, args.photos, args.holdout, args.limit)
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    results = run_all(args, paintings, photos)
    report = [s for s in args.report if s <= args.steps]
    print_report(f"Gatys L-BFGS, `tutorial` loss, {len(photos)} held-out photo(s) at "
                 f"{args.size} px, {', '.join(p.stem for p in paintings)}; total loss means "
                 "over the runs:",
                 ["start", "after 1 step", *(f"after {s}" for s in report),
                  f"steps to the photo start's {args.steps}-step loss", "structure", "s"],
                 table_rows(results, report), args.threads, load_start)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
