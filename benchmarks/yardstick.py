"""Compare style networks trained with different losses on one common loss.

    python benchmarks/yardstick.py --style starry_night --networks starry_night runs/a runs/b
    python benchmarks/yardstick.py --style starry_night --networks runs/a --limit 4 --size 256

``benchmarks/quality.py`` scores every network with *its own* training loss, which is the
right measure against Gatys optimization but cannot rank networks trained with different
loss weights or style terms: their totals are in different units.  This script scores them
all with one yardstick, term by term and unweighted: for each network and held-out photo
(the first ``--limit`` of ``weights/holdout.txt``, resized to ``--size`` px on the long side)

* **content**: mean squared difference of VGG19 ``block2_conv2`` activations between the
  output and the photo (the shipped networks' content layer);
* **style, global**: mean squared difference between the output's Gram matrices and the
  painting's, averaged over ``block1_conv2``, ``block2_conv2``, ``block3_conv3`` and
  ``block4_conv3``, Gram matrices divided by C·H·W (the training loss's normalization);
* **style, 2×2 tiles**: the same with the Gram matrix of each quarter of the image compared
  with the painting's (``--style-tiles 2``): low only if every region carries the style.

The painting is resized to ``--style-size`` px on the long side (the shipped networks'
``--style-size``).  The photo itself is the first row: content 0, and the style distance an
unstylized image has.  Means over the photos; Markdown on stdout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from keras_style.cli import Parser, UsageError, formatter, positive_int, run

from _common import (STYLES, add_held_out_arguments, fmt, holdout_photos, log, mean,
                     print_report, setup_tensorflow)

PROG = "python benchmarks/yardstick.py"
DEFAULT_STYLES = STYLES  # arbitrary_quality.py imports it from here
CONTENT_LAYER = "block2_conv2"
STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
COLUMNS = ("content", "style, global", "style, 2×2 tiles")


def find_painting(spec: str, style_dir: Path) -> Path:
    """A painting given as a file or as a name in ``style_dir`` (with or without .jpg)."""
    for candidate in (Path(spec), style_dir / spec, style_dir / f"{spec}.jpg"):
        if candidate.is_file():
            return candidate
    raise UsageError(f"--style {spec}: neither a file nor a painting in {style_dir}.")


class Yardstick:
    """The three unweighted terms for one painting, through one frozen VGG19."""

    def __init__(self, painting):
        from keras_style.losses import LossConfig, PerceptualLoss, equal_weights

        config = LossConfig(content_layers={CONTENT_LAYER: 1.0},
                            style_layers=equal_weights(STYLE_LAYERS), gram_normalization="chw")
        self.loss = PerceptualLoss(config)
        self.targets = self.loss.style_targets(painting)

    def terms(self, image, photo_features) -> tuple[float, float, float]:
        import numpy as np

        from keras_style.losses import tiled_style_loss

        feats = self.loss.features(image[None])
        content = float(np.mean((np.asarray(feats[CONTENT_LAYER]) - photo_features) ** 2))
        styles = [mean(float(tiled_style_loss(feats[n], self.targets[n], tiles, "chw"))
                       for n in STYLE_LAYERS) for tiles in (1, 2)]
        return content, styles[0], styles[1]

    def photo_features(self, photo):
        import numpy as np

        return np.asarray(self.loss.features(photo[None])[CONTENT_LAYER])


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Score style networks trained with different losses on one common "
                           "loss (content, global style, 2x2-tile style; unweighted) on "
                           "held-out photos; prints Markdown.")
    p.add_argument("--style", required=True,
                   help="the painting the networks imitate: a file, or a name in --style-dir")
    p.add_argument("--networks", nargs="+", required=True,
                   help="shipped network names or path prefixes of NAME.json + NAME.weights.h5")
    p.add_argument("--style-dir", type=Path, default=DEFAULT_STYLES,
                   help="folder of paintings for --style given by name")
    p.add_argument("--style-size", type=positive_int, default=256,
                   help="long side of the painting, px")
    add_held_out_arguments(p)
    return p


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    from keras_style import image as im

    painting_path = find_painting(args.style, args.style_dir)
    photos = holdout_photos(PROG, args.photos, args.holdout, args.limit)
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    from keras_style.networks import apply, load_model

    models = {spec: load_model(spec) for spec in args.networks}  # fail before measuring
    stick = Yardstick(im.load_image(painting_path, max_size=args.style_size))
    images = {p.name: im.load_image(p, max_size=args.size) for p in photos}
    features = {name: stick.photo_features(x) for name, x in images.items()}
    rows = []
    for label, model in [("photo itself", None)] + list(models.items()):
        scores = [stick.terms(x if model is None else apply(model, x), features[name])
                  for name, x in images.items()]
        rows.append([label if model is None else f"`{label}`"]
                    + [fmt(mean(s[k] for s in scores)) for k in range(3)])
        log(f"{label}: done")
    print_report(f"Common yardstick for `{painting_path.name}` (long side {args.style_size} "
                 f"px), {len(photos)} held-out photo(s) at {args.size} px "
                 f"({', '.join(images)}); unweighted terms, means over the photos:",
                 ["network", *COLUMNS], rows, args.threads, load_start)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
