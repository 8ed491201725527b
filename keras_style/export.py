"""Export a trained network: ``python -m keras_style.export MODEL -o PATH --format FMT``.

Formats: ``savedmodel`` (TensorFlow SavedModel, any image size), ``tflite`` and
``tflite-fp16`` (TensorFlow Lite, float32 or float16 weights, fixed ``--input-size``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from keras_style.cli import Parser, UsageError, formatter, positive_int, quiet_tensorflow, run

PROG = "python -m keras_style.export"


def _main(argv) -> int:
    from keras_style.networks import EXPORT_FORMATS

    p = Parser(prog=PROG, formatter_class=formatter,
               description="Export a trained style network as a TensorFlow SavedModel or a "
                           "TensorFlow Lite model.")
    p.add_argument("model", help="a shipped network name or a NAME.json/NAME.weights.h5 prefix")
    p.add_argument("-o", "--output", required=True,
                   help="output folder (savedmodel) or .tflite file")
    p.add_argument("--format", choices=EXPORT_FORMATS, default="savedmodel")
    p.add_argument("--input-size", type=positive_int, nargs=2, default=(256, 256),
                   metavar=("HEIGHT", "WIDTH"), help="TFLite input size (batch 1)")
    args = p.parse_args(argv)
    out = Path(args.output)
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {parent} does not exist.")
    if args.format != "savedmodel" and out.is_dir():
        raise UsageError(f"{out} is a folder; TFLite export writes a file.")
    if args.format == "savedmodel" and out.exists() and not (out / "saved_model.pb").exists():
        raise UsageError(f"{out} exists and is not a SavedModel; refusing to replace it.")
    quiet_tensorflow()
    from keras_style.networks import export, load_model

    model = load_model(args.model)
    export(model, out, args.format, tuple(args.input_size))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, _main, argv)


if __name__ == "__main__":
    sys.exit(main())
