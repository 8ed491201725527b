"""What TF_ENABLE_ONEDNN_OPTS does to the convolutions this package trains.

    python benchmarks/onednn.py

Runs one micro-benchmark in two fresh processes, oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``) and
on (``1``), and prints seconds per call (the mean of ``--repeats`` calls after one untimed
call) of the forward pass and of the two backward kernels (gradient w.r.t. the input and
w.r.t. the filter) of two convolutions, batch 4, 256² outputs, "valid" padding: the style
network's 9×9 output convolution (32 → 3 channels) and a 3×3 64 → 64 one.  Random tensors:
the speed does not depend on their values.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from keras_style.cli import Parser, formatter, positive_int, run

from _common import (add_threads_argument, emit_tensorflow_result, log, machine_line,
                     markdown_table, run_child, setup_tensorflow)

PROG = "python benchmarks/onednn.py"
CONVS = (("9×9 32→3", 32, 3, 9), ("3×3 64→64", 64, 64, 3))  # name, in, out, kernel
BATCH, SIZE = 4, 256


def seconds_per_call(fn, repeats: int) -> float:
    fn()  # traces the tf.function, creates the oneDNN primitives
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def measure(job: dict) -> list:
    """In a child: ``[name, forward s, input-gradient s, filter-gradient s]`` per conv."""
    tf = setup_tensorflow(job["threads"])
    rows = []
    for name, cin, cout, k in CONVS:
        x = tf.random.uniform((BATCH, SIZE + k - 1, SIZE + k - 1, cin))
        w = tf.random.normal((k, k, cin, cout)) * 0.01
        g = tf.random.uniform((BATCH, SIZE, SIZE, cout))
        ones = [1, 1, 1, 1]
        kernels = (
            lambda: tf.nn.conv2d(x, w, 1, "VALID"),
            lambda: tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w,
                                                   out_backprop=g, strides=ones,
                                                   padding="VALID"),
            lambda: tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(w),
                                                    out_backprop=g, strides=ones,
                                                    padding="VALID"))
        rows.append([name] + [seconds_per_call(tf.function(kernel), job["repeats"])
                              for kernel in kernels])
    return rows


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Seconds per call of the forward pass and both backward kernels of "
                           "two convolutions with oneDNN off and on, each in a fresh process; "
                           "prints a Markdown table.")
    p.add_argument("--repeats", type=positive_int, default=3,
                   help="timed calls per kernel (after one untimed call)")
    add_threads_argument(p)
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.one:
        job = json.loads(args.one)
        emit_tensorflow_result({"rows": measure(job)})
        return 0
    load_start = os.getloadavg()
    rows, child = [], {}
    for flag in ("0", "1"):
        log(f"oneDNN {'on' if flag == '1' else 'off'} ...")
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS=flag, TF_CPP_MIN_LOG_LEVEL="3")
        child = run_child(Path(__file__).resolve(), {"threads": args.threads,
                                                     "repeats": args.repeats}, env=env)
        if "error" in child:
            log(f"{PROG}: the oneDNN={flag} child failed ({child['error']}).")
            return 1
        rows += [[name, "on" if flag == "1" else "off", *(f"{t:.3f}" for t in times)]
                 for name, *times in child["rows"]]
    print(f"Convolutions, batch {BATCH}, {SIZE}² outputs, seconds per call (mean of "
          f"{args.repeats} after one untimed call):\n")
    print(markdown_table(["convolution", "oneDNN", "forward s", "input gradient s",
                          "filter gradient s"], rows))
    print()
    print(machine_line({**child, "onednn": "0 and 1 (the rows)"}, args.threads, load_start))
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
