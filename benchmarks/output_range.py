"""How far a network's raw output strays outside ``[0, 1]`` before its final clip.

    python benchmarks/output_range.py                       # shipped style networks
    python benchmarks/output_range.py --networks runs/a --limit 4 --size 384

Networks that end in :class:`keras_style.layers.LinearPixels` are trained on their raw
output and clipped only when used.  If training had pushed whole regions beyond ``[0, 1]``,
the user would see them clipped flat (one explanation offered for the "blobs" in
``weights/README.md``).  This script measures it: for each network and held-out photo (the
first ``--limit`` of ``weights/holdout.txt``, resized to ``--size`` px on the long side) the
raw output's minimum and maximum and the share of values above 1 and below 0, as a Markdown
table on stdout.  Networks without that layer (the tanh ones) are skipped with a note.
"""

from __future__ import annotations

import os
import sys

from keras_style.cli import Parser, formatter, run

from _common import add_held_out_arguments, holdout_photos, log, print_report, setup_tensorflow

PROG = "python benchmarks/output_range.py"


def raw_output_model(model):
    """A model giving ``model``'s output before its final clip: the LinearPixels affine map
    applied to that layer's input; ``None`` when the model has no LinearPixels layer."""
    import keras

    from keras_style.layers import LinearPixels

    found = [layer for layer in model.layers if isinstance(layer, LinearPixels)]
    if not found:
        return None
    last = found[-1]
    inner = keras.Model(model.input, last.input)
    return lambda x: inner(x, training=False) * last.scale + last.offset


def build_parser() -> Parser:
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[2].replace("\n", " "),
               formatter_class=formatter)
    p.add_argument("--networks", nargs="+", default=None,
                   help="shipped names or NAME prefixes (default: every shipped style network)")
    add_held_out_arguments(p)
    return p


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    from keras_style import image as im

    photos = holdout_photos(PROG, args.photos, args.holdout, args.limit)

    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    import numpy as np

    from keras_style.networks import available_networks, load_model

    names = args.networks or available_networks("style")
    images = {p.name: im.as_image(p, max_size=args.size) for p in photos}
    rows = []
    for name in names:
        raw = raw_output_model(load_model(name))
        if raw is None:
            log(f"{name}: no LinearPixels layer (nothing is clipped); skipped.")
            continue
        for photo, x in images.items():
            y = np.asarray(raw(x[None]))
            rows.append([f"`{name}`", photo, f"{y.min():.2f}", f"{y.max():.2f}",
                         f"{(y > 1).mean() * 100:.1f} %", f"{(y < 0).mean() * 100:.1f} %"])
    print_report(f"Raw network output before the clip, {len(photos)} held-out photos at "
                 f"{args.size} px (values of all pixels and channels):",
                 ["network", "photo", "min", "max", "> 1", "< 0"], rows, args.threads,
                 load_start)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
