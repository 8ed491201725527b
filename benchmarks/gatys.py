"""Benchmark Gatys-style pixel optimization: seconds per Adam step and per L-BFGS iteration.

    python benchmarks/gatys.py                       # 256² and 512², 10 steps each (+1 warm-up)
    python benchmarks/gatys.py --sizes 64 --steps 2  # a smoke test

Each row runs in a fresh subprocess (this script re-invokes itself with ``--one``), so its
peak-RSS figure is that configuration's own.  Rows:

``vgg``    the bare loss-network work the GUIDE's §4 table measures: VGG19 (ImageNet weights,
           max pooling) up to ``block5_conv2``, forward + gradient w.r.t. the input image, in
           one ``tf.function`` — comparable like for like with the quoted PyTorch figure;
``adam``   :class:`keras_style.gatys.GatysOptimizer` with ``optimizer="adam"`` and the preset's
           loss and Adam settings, timed per step from its ``StepInfo`` callback;
``lbfgs``  the same with ``optimizer="lbfgs"`` (scipy L-BFGS-B), timed per iteration; the
           loss-and-gradient function is wrapped to count its calls (evaluations per
           iteration) and time each call (seconds per evaluation, scipy overhead excluded).

The first ``--warmup`` steps (tracing, graph optimization) are left out; the table reports the
median (and min–max) of the next ``--steps``.  Nothing is hard-coded except the clearly
labelled reference figures quoted from the issue and GUIDE §4.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from keras_style.cli import Parser, formatter, non_negative_int, positive_int

from _common import (ASSETS, add_threads_argument, current_rss_mib, emit_tensorflow_result,
                     fmt_s, log, machine_line, markdown_table, run_child, run_jobs,
                     setup_tensorflow, spread)

PROG = "python benchmarks/gatys.py"
MODES = ("vgg", "adam", "lbfgs")

# Quoted, not measured here (seconds for VGG19 → block5_conv2, forward + input gradient).
REF_ISSUE_PYTORCH = {256: 0.54, 512: 2.5}
REF_GUIDE = (("PyTorch 2.13 CPU, VGG19→block5_conv2 forward + input gradient (GUIDE §4 table)",
              {256: 0.49, 512: 2.42}),
             ("naive Keras 3 / TF 2.21 probe, same work (GUIDE §4 table)", {256: 0.47, 512: 1.86}))


# --- the measurements (each runs in its own process) --------------------------------------

def load_inputs(args, size):
    from keras_style import image as im

    content = im.resize(im.load_image(args.content), (size, size))
    style = im.as_image(args.style, max_size=size)  # as style_transfer(style_scale=1) does
    return content, style


def measure_vgg(args, size) -> dict:
    """VGG19 to block5_conv2, forward + gradient w.r.t. the input (GUIDE §4's 'Gatys step')."""
    tf = setup_tensorflow(args.threads)
    from keras_style.vgg import loss_network

    content, _ = load_inputs(args, size)
    t = time.perf_counter()
    net = loss_network(["block5_conv2"], pooling="max", weights="imagenet")
    setup = time.perf_counter() - t
    x = tf.constant(content[None])

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = net(x, training=False)["block5_conv2"]
            value = tf.reduce_mean(tf.square(y))
        return value, tape.gradient(value, x)

    rss_before = current_rss_mib()
    times = []
    for _ in range(args.warmup + args.steps):
        t = time.perf_counter()
        _, grad = step(x)
        grad.numpy()
        times.append(time.perf_counter() - t)
    return {"times": times[args.warmup:], "first": times[0], "setup": setup,
            "rss_before": rss_before, "iterations": len(times),
            "traces": int(step.experimental_get_tracing_count())}


def measure_gatys(args, size, optimizer) -> dict:
    setup_tensorflow(args.threads)
    from keras_style.gatys import GatysOptimizer
    from keras_style.losses import get_preset

    preset = get_preset(args.preset)
    content, style = load_inputs(args, size)
    evals = []  # (start, end) perf_counter of each loss-and-gradient call made from Python
    functions = []  # the package's compiled loss-and-gradient functions, to count traces

    t = time.perf_counter()
    opt = GatysOptimizer(preset.loss)
    # The package's optimizer; only its compiled value-and-gradient function (used by
    # L-BFGS once per evaluation) is wrapped to count and time the calls.
    inner = opt._value_and_grad
    functions.append(inner)

    def counted(*args):
        t0 = time.perf_counter()
        out = inner(*args)
        evals.append((t0, time.perf_counter()))
        return out

    opt._value_and_grad = counted
    setup = time.perf_counter() - t
    marks = []  # (StepInfo.seconds, perf_counter) after each step / iteration

    def callback(info):
        marks.append((info.seconds, time.perf_counter()))

    rss_before = current_rss_mib()
    opt.run(content, [style], steps=args.warmup + args.steps, optimizer=optimizer,
            init=preset.init, learning_rate=preset.learning_rate, beta_1=preset.beta_1,
            epsilon=preset.epsilon, seed=0, callback=callback, progress=False)
    seconds = [s for s, _ in marks]
    steps = [b - a for a, b in zip([0.0] + seconds, seconds)]
    result = {"times": steps[args.warmup:], "first": steps[0] if steps else None,
              "setup": setup, "rss_before": rss_before, "iterations": len(marks),
              "traces": sum(int(f.experimental_get_tracing_count()) for f in functions)}
    if optimizer == "lbfgs" and len(marks) > args.warmup:
        start = marks[args.warmup - 1][1] if args.warmup else float("-inf")
        end = marks[-1][1]
        window = [(a, b) for a, b in evals if start < a <= end]
        result["evals_per_iter"] = len(window) / (len(marks) - args.warmup)
        result["eval_times"] = [b - a for a, b in window]
        result["total_evals"] = len(evals)
    return result


def one(args) -> int:
    job = json.loads(args.one)
    if job["mode"] == "vgg":
        result = measure_vgg(args, job["size"])
    else:
        result = measure_gatys(args, job["size"], job["mode"])
    emit_tensorflow_result({**job, **result})
    return 0


# --- the driver ----------------------------------------------------------------------------

def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Seconds per Gatys optimization step (Adam, L-BFGS) and per bare "
                           "VGG19 forward + input-gradient step, each configuration in a "
                           "fresh process; prints Markdown tables.")
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[256, 512],
                   help="square image sides, px")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                   help="what to measure: bare VGG step, Adam step, L-BFGS iteration")
    p.add_argument("--steps", type=positive_int, default=10,
                   help="measured steps / iterations per configuration (after the warm-up)")
    p.add_argument("--warmup", type=non_negative_int, default=1,
                   help="leading steps left out of the statistics (tracing, first run)")
    p.add_argument("--preset", default="tutorial", help="loss / optimizer preset: tutorial | "
                   "gatys2016 (keras_style.losses.PRESETS)")
    p.add_argument("--content", type=Path, default=ASSETS / "colosseum.jpg",
                   help="content photo (resized to SIZE×SIZE)")
    p.add_argument("--style", type=Path, default=ASSETS / "starry_night.jpg",
                   help="style image (long side resized to SIZE)")
    add_threads_argument(p)
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p


def check_arguments(parser, args):
    setup_tensorflow(0)  # keras_style.losses imports Keras: import TensorFlow quietly first
    from keras_style.losses import PRESETS

    if args.preset not in PRESETS:
        parser.error(f"unknown --preset {args.preset!r}; choose one of {', '.join(PRESETS)}.")
    for path in (args.content, args.style):
        if not path.is_file():
            parser.error(f"{path}: no such file.")
    if min(args.sizes) < 32:
        parser.error("--sizes must be at least 32 (VGG19 pools five times).")
    if "lbfgs" in args.modes and args.warmup == 0:
        log("note: --warmup 0 puts the L-BFGS tracing call into the statistics.")


def table_row(r: dict, labels: dict) -> list:
    label = labels[r["mode"]]
    if "error" in r:
        return [label, f"{r['size']}²", f"failed ({r['error']})"] + ["–"] * 8
    times = r["times"]
    med = statistics.median(times) if times else None
    ref = REF_ISSUE_PYTORCH.get(r["size"])
    evals = r.get("eval_times") or []
    return [label, f"{r['size']}²", fmt_s(med), spread(times), len(times),
            f"{r['evals_per_iter']:.2f}" if "evals_per_iter" in r else "–",
            fmt_s(statistics.median(evals)) if evals else "–",
            fmt_s(r["first"]), fmt_s(r["setup"]),
            f"{r['rss_before']:.0f} / {r['peak_rss_mib']:.0f}",
            f"{med / ref:.2f}×" if med and ref else "–"]


def report(args, results, load_start):
    labels = {"vgg": "VGG19→block5_conv2 forward + input gradient",
              "adam": f"Adam step ({args.preset} preset)",
              "lbfgs": f"L-BFGS iteration ({args.preset} preset)"}
    retraced = [f"{r['mode']} {r['size']}² ({r['traces']} traces)" for r in results
                if r.get("traces", 1) > 1]
    child = next((r for r in results if "error" not in r), {})
    print(f"## Gatys optimization, seconds per step (median of {args.steps} after "
          f"{args.warmup} warm-up)\n")
    print(markdown_table(
        ["work", "size", "s/step", "min–max", "n", "evals/iter", "s/eval", "first step s",
         "setup s", "RSS before / peak MiB", "÷ PyTorch (issue)"],
        [table_row(r, labels) for r in results]))
    print()
    print("tf.function retracing in the timed loops: " + ("; ".join(retraced) if retraced else
                                                          "none (one trace per row)"))
    print()
    print(machine_line(child, args.threads, load_start))
    print()
    print("Reference figures, quoted (NOT measured by this script):\n")
    ref_rows = [["PyTorch 2.13 CPU (GUIDE §4 / issue, same machine type)",
                 f"{REF_ISSUE_PYTORCH[256]} s", f"{REF_ISSUE_PYTORCH[512]} s"]]
    ref_rows += [[name, f"{v[256]} s", f"{v[512]} s"] for name, v in REF_GUIDE]
    print(markdown_table(["reference (quoted)", "256²", "512²"], ref_rows))
    print()
    print("Notes: s/step for L-BFGS is per iteration (evals/iter loss-and-gradient calls plus "
          "scipy's work); s/eval is one loss-and-gradient call alone. 'first step' includes "
          "tf.function tracing; 'setup' is building the VGG19 loss network with its weights. "
          "'÷ PyTorch (issue)' divides by the quoted PyTorch step (GUIDE §4 bar: ≤ 0.6×).")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.one:
        return one(args)
    check_arguments(parser, args)
    load_start = os.getloadavg()
    t_all = time.perf_counter()
    extra = ["--threads", args.threads, "--warmup", args.warmup, "--steps", args.steps,
             "--preset", args.preset, "--content", args.content, "--style", args.style]
    results = run_jobs([{"mode": m, "size": s} for s in args.sizes for m in args.modes],
                       lambda job: run_child(Path(__file__).resolve(), job, extra),
                       lambda job: f"{job['mode']} {job['size']}²")
    total = time.perf_counter() - t_all
    report(args, results, load_start)
    log(f"\nTotal wall time {total:.0f} s.")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
