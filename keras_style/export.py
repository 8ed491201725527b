"""Export a trained network: ``python -m keras_style.export MODEL -o PATH --format FMT``.

Formats: ``savedmodel`` (TensorFlow SavedModel, any image size), ``tflite`` and
``tflite-fp16`` (TensorFlow Lite, float32 or float16 weights, fixed ``--input-size``).
``-o`` is checked before the network is loaded (see :mod:`keras_style.outputs`): nothing of
yours is replaced, an existing SavedModel or TFLite file only by its own kind.
"""

from __future__ import annotations

import sys

from keras_style.cli import Parser, UsageError, formatter, positive_int, quiet_tensorflow, run
from keras_style.files import describe

PROG = "python -m keras_style.export"


def _main(argv) -> int:
    from keras_style.networks import EXPORT_FORMATS

    p = Parser(prog=PROG, formatter_class=formatter,
               description="Export a trained style network as a TensorFlow SavedModel or a "
                           "TensorFlow Lite model.")
    p.add_argument("model", help="a shipped network name or a NAME.json/NAME.weights.h5 prefix")
    p.add_argument("-o", "--output", required=True,
                   help="output folder (savedmodel) or .tflite file (tflite, tflite-fp16; - "
                        "for standard output)")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="savedmodel")
    p.add_argument("--input-size", type=positive_int, nargs=2, default=None,
                   metavar=("HEIGHT", "WIDTH"),
                   help="TFLite input size, batch 1 (default: 256 256)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing file at -o that is not of the format written "
                        "(a folder that is not a SavedModel is never replaced)")
    args = p.parse_args(argv)
    if args.format == "savedmodel" and args.input_size is not None:
        raise UsageError("--input-size fixes a TFLite model's input; a SavedModel takes "
                         "images of any size (add --format tflite).")
    from keras_style.networks import read_metadata, resolve
    from keras_style.outputs import plan_export

    network_files = resolve(args.model)
    read_metadata(network_files[0])  # a damaged description is refused before TensorFlow
    out = plan_export(args.output, args.format, inputs=network_files,
                      overwrite=args.overwrite)
    quiet_tensorflow()
    from keras_style.networks import export, load_model

    model = load_model(args.model)
    export(model, out, args.format, tuple(args.input_size or (256, 256)))
    print(f"wrote {describe(out)}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, _main, argv)


if __name__ == "__main__":
    sys.exit(main())
