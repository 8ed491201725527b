"""Enlarge photos with a super-resolution network (Johnson et al. 2016).

    python -m keras_style.upscale photo.jpg --model sr_x4            # writes photo_x4.png
    python -m keras_style.upscale small/ --model runs/my_sr -o big/

Large images are processed in tiles (see :func:`keras_style.tiling.apply`), so memory
stays bounded.  From Python: ``keras_style.upscale_image(image, "sr_x4")``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from keras_style.cli import (Parser, UsageError, check_tile, formatter, positive_int,
                             quiet_tensorflow, run)

PROG = "python -m keras_style.upscale"
MIN_LOW_RES = 8
MARGIN = 16  # tile context, low-resolution px: more than the networks' receptive field
TILE_OUTPUT = 1024  # default tile side in *output* px: sr_x8 took 2.5 s for a 1024² output
# but did not finish a 1536² one within 2 minutes (one machine, both cores), so tiles stay small


def default_tile(factor: int) -> int:
    """Tile side on the low-resolution input, so each output tile is about TILE_OUTPUT px."""
    return max(2 * MARGIN + 8, TILE_OUTPUT // factor)


def upscale_image(image, model="sr_x4", tile: int | None = None, factor: int | None = None):
    """Upscale one image (path, PIL image or ``[0, 1]`` array) with a network or its name.

    ``tile``: tile side on the input, px (default :func:`default_tile`). ``factor`` may be
    given with a loaded ``model`` to skip working it out (one small call).
    """
    from keras_style import image as im
    from keras_style.networks import apply, load_model

    meta = None
    if isinstance(model, (str, Path)):
        model, meta = load_model(model, with_metadata=True)
    factor = factor or _factor(model, meta)
    arr = im.as_image(image) if not isinstance(image, (str, Path)) else \
        im.load_image(image, min_size=MIN_LOW_RES)
    return apply(model, arr, tile=tile or default_tile(factor), margin=MARGIN, scale=factor)


def _factor(model, meta) -> int:
    if meta is not None:
        if meta.get("task") != "super-resolution":
            raise UsageError(f"{meta.get('name', 'this network')} is a style network, not a "
                             "super-resolution one; use python -m keras_style.stylize --model.")
        try:
            return int(meta["architecture"]["factor"])
        except (KeyError, TypeError, ValueError):
            from keras_style.errors import WeightsError

            raise WeightsError(f"{meta.get('name', 'the network')}'s description has no "
                               "upscaling factor (architecture.factor).") from None
    import numpy as np
    probe = np.zeros((1, 16, 16, 3), np.float32)
    return int(model(probe).shape[1]) // 16


def _main(argv) -> int:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Enlarge images 2x/4x/8x with a super-resolution network.")
    p.add_argument("images", nargs="+", help="images or folders of images")
    p.add_argument("--model", default="sr_x4",
                   help="a shipped network (sr_x4, sr_x8) or a NAME.json/NAME.weights.h5 prefix")
    p.add_argument("-o", "--output", default=None,
                   help="output file (one input), folder (several; created when written "
                        "with a trailing /) or - for standard output (PNG); default: "
                        "NAME_xF.png in the current folder")
    p.add_argument("--tile", type=positive_int, default=None,
                   help=f"tile size on the low-resolution input, px (default: {TILE_OUTPUT} "
                        "divided by the factor)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output even if it is not an image (an "
                        "existing image is always replaced; an input never is)")
    args = p.parse_args(argv)

    from keras_style import image as im

    with im.decoding_once():  # every input is checked first, then used, decoded once
        return _upscale(args)


def _upscale(args) -> int:
    from keras_style import image as im
    from keras_style.networks import read_metadata, resolve
    from keras_style.outputs import plan_files

    inputs = im.list_images(args.images)
    if not inputs:
        raise UsageError("no images found in " + ", ".join(args.images) + ".")
    check_tile(args.tile, MARGIN)
    network_files = resolve(args.model)
    factor = _factor(None, read_metadata(network_files[0]))
    for path in inputs:
        im.load_image(path, min_size=MIN_LOW_RES)
    outs = plan_files(inputs, args.output, lambda p: f"{p.stem}_x{factor}.png", kind="image",
                      protect=network_files, overwrite=args.overwrite, verb="upscale")
    quiet_tensorflow()
    from keras_style.networks import load_model

    model, meta = load_model(args.model, with_metadata=True)
    for path, out in zip(inputs, outs):
        low = im.load_image(path, min_size=MIN_LOW_RES)
        im.save_image(upscale_image(low, model, tile=args.tile, factor=factor), out)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, _main, argv)


if __name__ == "__main__":
    sys.exit(main())
