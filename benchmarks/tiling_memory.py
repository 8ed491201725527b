"""Peak memory of stylizing a large photo in tiles: ``python benchmarks/tiling_memory.py``.

Runs ``keras_style.networks.apply`` on a synthetic ``--size``² photo (default 4096) with an
untrained network of ``--arch`` (memory does not depend on the weights) and prints the
process's peak resident memory, the wall time and the tile settings.
"""

import argparse
import resource
import time

import numpy as np

import keras_style  # noqa: F401  (sets the TensorFlow environment first)
from keras_style.networks import apply
from keras_style.transformer import build_transformer


def main():
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--arch", default="johnson_up")
    p.add_argument("--tile", type=int, default=1024)
    p.add_argument("--margin", type=int, default=96)
    a = p.parse_args()
    model = build_transformer(a.arch)
    yy, xx = np.mgrid[0:a.size, 0:a.size].astype(np.float32) / a.size
    image = np.stack([yy, xx, 0.5 * (yy + xx)], axis=-1)  # smooth gradients, 3 channels
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    out = apply(model, image, tile=a.tile, margin=a.margin)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| arch | image | tile / margin | seconds | peak RSS MiB (before) |")
    print("|---|---|---|---|---|")
    print(f"| {a.arch} | {a.size}×{a.size} | {a.tile} / {a.margin} | {dt:.1f} | "
          f"{peak:.0f} ({base:.0f}) |")
    assert out.shape == image.shape


if __name__ == "__main__":
    main()
