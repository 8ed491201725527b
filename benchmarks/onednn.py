"""Measure what TF_ENABLE_ONEDNN_OPTS does to the convolutions this package trains.

    python benchmarks/onednn.py

Runs the same micro-benchmark in two subprocesses (oneDNN off / on) and prints seconds per
call for the forward pass and the two backward kernels of the style network's 9×9 output
convolution (32 → 3 channels, batch 4, 256²) and of a 3×3 64 → 64 convolution.
"""

import os
import subprocess
import sys

PROBE = r"""
import time, tensorflow as tf
def bench(f, n=3):
    f(); t = time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter() - t) / n
rows = []
for name, cin, cout, k, size in (("9x9 32->3", 32, 3, 9, 256), ("3x3 64->64", 64, 64, 3, 256)):
    x = tf.random.uniform((4, size + k - 1, size + k - 1, cin))
    w = tf.random.normal((k, k, cin, cout)) * 0.01
    g = tf.random.uniform((4, size, size, cout))
    s = [1, 1, 1, 1]
    fwd = tf.function(lambda: tf.nn.conv2d(x, w, 1, "VALID"))
    bi = tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w, out_backprop=g, strides=s, padding="VALID"))
    bf = tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(w), out_backprop=g, strides=s, padding="VALID"))
    print(name, bench(fwd), bench(bi), bench(bf), flush=True)
"""


def main():
    print(f"{'conv (batch 4, 256²)':<22}{'oneDNN':>8}{'forward s':>11}{'input grad s':>14}{'filter grad s':>15}")
    for flag in ("0", "1"):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag, TF_CPP_MIN_LOG_LEVEL="3")
        out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                             text=True, check=True).stdout
        for line in out.strip().splitlines():
            *name, f, i, b = line.split()
            print(f"{' '.join(name):<22}{'on' if flag == '1' else 'off':>8}{float(f):>11.3f}"
                  f"{float(i):>14.3f}{float(b):>15.3f}")


if __name__ == "__main__":
    main()
