"""Peak memory of stylizing a large photo in tiles: ``python benchmarks/tiling_memory.py``.

Runs ``keras_style.networks.apply`` on a synthetic ``--size``² photo (default 4096) with an
untrained network of ``--arch`` (memory does not depend on the weights) and prints the
process's peak resident memory, the wall time and the tile settings.  The defaults of
``--tile``, ``--margin`` and ``--stats-size`` are ``apply``'s own.
"""

import argparse
import resource
import time

import numpy as np

import inspect

import keras_style  # noqa: F401  (sets the TensorFlow environment first)
from keras_style.networks import apply
from keras_style.nets.johnson import build_transformer

from _common import setup_tensorflow

DEFAULTS = {k: v.default for k, v in inspect.signature(apply).parameters.items()}


def main():
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--arch", default="light", help="the shipped networks are 'light'")
    p.add_argument("--tile", type=int, default=DEFAULTS["tile"])
    p.add_argument("--margin", type=int, default=DEFAULTS["margin"])
    p.add_argument("--stats-size", type=int, default=DEFAULTS["stats_size"])
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    a = p.parse_args()
    setup_tensorflow(a.threads)
    model = build_transformer(a.arch)
    yy, xx = np.mgrid[0:a.size, 0:a.size].astype(np.float32) / a.size
    image = np.stack([yy, xx, 0.5 * (yy + xx)], axis=-1)  # smooth gradients, 3 channels
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = apply(model, image, tile=a.tile, margin=a.margin, stats_size=a.stats_size)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| arch | image | tile / margin / stats | threads | seconds | peak RSS MiB (before) |")
    print("|---|---|---|---|---|---|")
    print(f"| {a.arch} | {a.size}×{a.size} | {a.tile} / {a.margin} / {a.stats_size} | "
          f"{a.threads or 'default'} | {dt:.1f} | {peak:.0f} ({base:.0f}) |")
    assert out.shape == image.shape


if __name__ == "__main__":
    main()
