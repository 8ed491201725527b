"""Peak memory of stylizing a large photo in tiles.

    python benchmarks/tiling_memory.py --threads 1

Runs :func:`keras_style.networks.apply` once on a synthetic ``--size``² photo (default 4096;
smooth gradients) with an untrained network of ``--arch`` (memory does not depend on the
weights) and prints one Markdown row: the tile settings, the wall time and the process's peak
resident memory (and what it was before the call), then the machine line.  The defaults of
``--tile``, ``--margin`` and ``--stats-size`` are ``apply``'s own.
"""

from __future__ import annotations

import inspect
import os
import sys
import time

from keras_style.cli import Parser, UsageError, formatter, non_negative_int, positive_int, run
from keras_style.networks import apply

from _common import add_threads_argument, peak_rss_mib, print_report, setup_tensorflow

PROG = "python benchmarks/tiling_memory.py"
DEFAULTS = {k: v.default for k, v in inspect.signature(apply).parameters.items()}


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Peak resident memory and wall time of keras_style.networks.apply "
                           "on a large synthetic photo, in tiles; prints a Markdown row.")
    p.add_argument("--size", type=positive_int, default=4096, help="side of the square photo")
    p.add_argument("--arch", default="light", help="architecture (the shipped networks' one)")
    p.add_argument("--tile", type=positive_int, default=DEFAULTS["tile"], help="tile side, px")
    p.add_argument("--margin", type=non_negative_int, default=DEFAULTS["margin"],
                   help="context around each tile, px")
    p.add_argument("--stats-size", type=positive_int, default=DEFAULTS["stats_size"],
                   help="long side of the copy the normalization statistics come from, px")
    add_threads_argument(p)
    return p


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    import numpy as np

    from keras_style.nets.johnson import ARCHITECTURES, build_transformer

    if args.arch not in ARCHITECTURES:
        raise UsageError(f"--arch {args.arch}: choose one of {', '.join(ARCHITECTURES)}.")
    model = build_transformer(args.arch)
    yy, xx = np.mgrid[0:args.size, 0:args.size].astype(np.float32) / args.size
    image = np.stack([yy, xx, 0.5 * (yy + xx)], axis=-1)  # smooth gradients, 3 channels
    before = peak_rss_mib()
    t0 = time.perf_counter()
    out = apply(model, image, tile=args.tile, margin=args.margin, stats_size=args.stats_size)
    seconds = time.perf_counter() - t0
    if out.shape != image.shape:
        raise RuntimeError(f"apply returned {out.shape} for {image.shape}")
    print_report(f"`networks.apply` on a synthetic {args.size}×{args.size} photo, untrained "
                 f"`{args.arch}` network:",
                 ["arch", "image", "tile / margin / stats", "threads", "seconds",
                  "peak RSS MiB (before)"],
                 [[args.arch, f"{args.size}×{args.size}",
                   f"{args.tile} / {args.margin} / {args.stats_size}", args.threads or "default",
                   f"{seconds:.1f}", f"{peak_rss_mib():.0f} ({before:.0f})"]],
                 args.threads, load_start)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
