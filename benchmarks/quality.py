"""Quality report: each style network's perceptual loss next to Gatys L-BFGS optimization.

    python benchmarks/quality.py                                  # every shipped style network,
                                                                  # every held-out photo, 512 px
    python benchmarks/quality.py --networks runs/mine --limit 2   # two photos, one network

For every network and every held-out photo (``weights/holdout.txt``: photos of
``../shared/data/photos`` the shipped networks never trained on), resized to ``--size`` px on
the long side:

* the network's output is scored with **the network's own training loss**: the
  :class:`keras_style.losses.LossConfig` is rebuilt from the network's JSON (``"loss"``:
  content/style layers, reduction, Gram normalization; ``"hyperparameters"``: content,
  style and TV weights; pooling as ``train.py`` uses it) and the style targets come from
  the network's style image resized as ``train.py`` resizes it (long side ``style_size`` or,
  when unset, ``image_size``);
* :class:`keras_style.gatys.GatysOptimizer` with that same loss optimizes the photo's
  pixels with L-BFGS from the photo itself (``init="content"``) for ``max(--gatys-steps)``
  iterations; its per-iteration callback records the total loss curve and keeps the image
  at each of ``--gatys-steps``, so one run gives every row;
* the network output, the photo itself (the optimization's step 0) and the Gatys images are
  all scored by one :class:`~keras_style.losses.PerceptualLoss` instance (the optimizer's).

Prints one Markdown table per network (means over the photos) and one sentence computed
from the numbers: the (linearly interpolated) number of L-BFGS steps at which the mean
Gatys total first drops below the network's mean total, set against the 50-100 steps
Johnson et al. (2016) report for their networks.  Nothing is hard-coded.

Times: the network's seconds per photo are a warm call of
:func:`keras_style.networks.apply` (its one-time ``tf.function`` trace is reported apart);
the Gatys seconds are ``StepInfo.seconds`` at that iteration, i.e. from the start of the
optimization, including the trace of its loss-and-gradient function that every
``GatysOptimizer.run`` call makes (targets excluded).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from keras_style.cli import Parser, UsageError, formatter, positive_int, run

from _common import (ASSETS, REPO, STYLES, add_held_out_arguments, cpu_description, fmt,
                     holdout_photos, load_photos, log, machine_line, markdown_table, mean,
                     setup_tensorflow, tensorflow_info, write_json)

PROG = "python benchmarks/quality.py"
JOHNSON_RANGE = (50, 100)  # Johnson et al. 2016: their networks match ~50-100 L-BFGS steps
TERMS = ("content", "style", "tv", "total")


# --- inputs -------------------------------------------------------------------------------

def loss_config_from_metadata(meta: dict, source: str):
    """The network's training loss, exactly as ``train.py`` built it, from its JSON: the
    serialized ``loss_config`` networks record since 2026-12-01, else rebuilt from the older
    ``loss`` / ``hyperparameters`` entries."""
    from keras_style.losses import LossConfig, equal_weights

    loss, hp = meta.get("loss"), meta.get("hyperparameters")
    if isinstance(meta.get("loss_config"), dict) and (loss or {}).get("kind") != "pixel":
        try:
            return LossConfig.from_dict(meta["loss_config"])
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{source}: its loss_config does not describe a loss ({exc}).") \
                from None
    if not isinstance(loss, dict) or not isinstance(hp, dict):
        raise UsageError(f"{source}: the network JSON has no \"loss\" / \"hyperparameters\" "
                         "entries, so its training loss cannot be rebuilt.")
    if loss.get("kind", "perceptual") != "perceptual":
        raise UsageError(f"{source}: trained on a {loss.get('kind')!r} loss, not the perceptual "
                         "loss this report compares with Gatys optimization.")
    try:
        return LossConfig(content_layers=equal_weights(loss["content_layers"]),
                          style_layers=equal_weights(loss["style_layers"]),
                          content_weight=float(hp["content_weight"]),
                          style_weight=float(hp["style_weight"]),
                          tv_weight=float(hp["tv_weight"]),
                          reduction=loss["reduction"],
                          gram_normalization=loss["gram_normalization"],
                          pooling=loss.get("pooling", "max"),  # train.py: always max pooling
                          style_tiles=int(loss.get("style_tiles", 1)))  # 1 before the flag
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise UsageError(f"{source}: cannot rebuild the training loss from the network JSON "
                         f"({type(exc).__name__}: {exc}).") from None


def style_size_from_metadata(meta: dict, source: str) -> int:
    hp = meta.get("hyperparameters") or {}
    size = hp.get("style_size") or hp.get("image_size")
    if not size:
        raise UsageError(f"{source}: the network JSON records neither style_size nor "
                         "image_size, so the style image's training size is unknown.")
    return int(size)


def find_style_image(meta: dict, style_dir: Path, source: str, prog: str = PROG) -> Path:
    """The network's style image by the JSON's ``"style_image"`` name, in ``style_dir`` or
    else keras_style/assets; warns (as ``prog``) when the file it was trained on differs."""
    name = meta.get("style_image")
    if not name:
        raise UsageError(f"{source}: the network JSON names no \"style_image\".")
    name = Path(name).name
    for folder in (style_dir, ASSETS):
        if (folder / name).is_file():
            chosen = folder / name
            trained = (meta.get("hyperparameters") or {}).get("style")
            for candidate in ([Path(trained), REPO / trained] if trained else []):
                if candidate.is_file():
                    if candidate.read_bytes() != chosen.read_bytes():
                        log(f"{prog}: warning: {source} was trained on {trained}, which differs "
                            f"from {chosen} (same name) used here for the style targets.")
                    break
            return chosen
    raise UsageError(f"{source}: style image {name} is neither in --style-dir {style_dir} "
                     f"nor in {ASSETS}.")


def config_key(config) -> str:
    return json.dumps(asdict(config), sort_keys=True)


# --- the measurements ---------------------------------------------------------------------

def crossing(curve: list[float], target: float) -> float | None:
    """Steps at which ``curve`` (``curve[k]`` = loss after ``k`` steps) first drops below
    ``target``, linearly interpolated between the two recorded steps around it."""
    if not curve:
        return None
    if curve[0] < target:
        return 0.0
    for k in range(1, len(curve)):
        if curve[k] < target:
            a, b = curve[k - 1], curve[k]
            return (k - 1) + (a - target) / (a - b)
    return None


class GatysStore:
    """A folder of finished Gatys runs, so a report can be rerun (with new or retrained
    networks) without repeating hours of L-BFGS.  A run is found by a SHA-256 of everything
    its numbers depend on: the loss configuration, the style image's pixels, the photo's
    pixels at the report size and the recorded step counts.  Each run is ``KEY.json`` (the
    record: curve, seconds, scored rows) and ``KEY_stepN.png`` (the image after N steps)."""

    def __init__(self, folder: Path):
        self.folder = folder

    @staticmethod
    def key(config_json: str, style, content, steps) -> str:
        import hashlib
        import numpy as np

        h = hashlib.sha256()
        h.update(config_json.encode())
        for array in (style, content):
            a = np.ascontiguousarray(array, dtype=np.float32)
            h.update(repr(a.shape).encode())
            h.update(a.tobytes())
        h.update(repr(sorted(steps)).encode())
        return h.hexdigest()[:32]

    def get(self, stem: str):
        path = self.folder / f"{stem}.json"
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
            record["rows"] = {int(n): row for n, row in record["rows"].items()}
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            log(f"{PROG}: warning: ignoring unreadable cached run {path} ({exc}).")
            return None
        return record

    def put(self, stem: str, record, images) -> None:
        from keras_style import image as im
        from keras_style.files import atomic_path

        for n, image in images.items():
            im.save_image(image, self.folder / f"{stem}_step{n}.png")
        with atomic_path(self.folder / f"{stem}.json") as tmp:
            tmp.write_text(json.dumps(record) + "\n")

    def copy_image(self, stem: str, n, target: Path) -> None:
        from keras_style import image as im

        source = self.folder / f"{stem}_step{n}.png"
        if source.is_file():
            im.save_image(im.load_image(source), target)
        else:
            log(f"{PROG}: note: {source} is missing; {target.name} not written.")


class Evaluator:
    """Scores images with one PerceptualLoss (a GatysOptimizer's) for one style."""

    def __init__(self, optimizer, style):
        self.optimizer = optimizer
        self.loss = optimizer.loss
        self.style = style
        self.style_targets = self.loss.style_targets([style])

    def terms(self, image, content_targets) -> dict:
        out = self.loss(image[None], content_targets, self.style_targets)
        return {k: float(v) for k, v in out.items()}


def run_gatys(evaluator: Evaluator, content, content_targets, steps: list[int]):
    """One L-BFGS run of max(steps) iterations: ``(record, images)``, the record holding the
    curve, times and scored snapshots (JSON-ready) and ``images`` the snapshots by step."""
    curve = [evaluator.terms(content, content_targets)["total"]]  # step 0: the photo
    seconds, callback_terms, snapshots = [0.0], {}, {}
    wanted = set(steps)

    def callback(info):
        curve.append(float(info.losses["total"]))
        seconds.append(float(info.seconds))
        if info.step in wanted:
            snapshots[info.step] = info.image.copy()
            callback_terms[info.step] = dict(info.losses)

    t = time.perf_counter()
    final = evaluator.optimizer.run(content, [evaluator.style], steps=max(steps),
                                    optimizer="lbfgs", init="content", callback=callback,
                                    progress=False)
    wall = time.perf_counter() - t
    iterations = len(curve) - 1
    rows, images = {}, {}
    for n in steps:
        if n in snapshots:
            image, at = snapshots[n], n
        else:  # L-BFGS stopped before n iterations: its result is the image it stopped at
            image, at = final, iterations
        images[n] = image
        rows[n] = {"terms": evaluator.terms(image, content_targets), "seconds": seconds[at],
                   "reached": at, "callback_total": callback_terms.get(n, {}).get("total")}
    return {"curve": curve, "seconds": seconds, "iterations": iterations, "wall": wall,
            "rows": rows}, images


def padded_mean_curve(curves: list[list[float]], length: int) -> list[float]:
    """Mean over photos of curves carried forward to ``length`` (a stopped run keeps its
    last value: its result does not change any more)."""
    padded = [c + [c[-1]] * (length - len(c)) for c in curves]
    return [mean(col) for col in zip(*padded)]


def gatys_record(args, gatys_cache, evaluator, key, style_path, style, photo, content,
                 content_targets, prefix, where) -> dict:
    """The Gatys run for this loss, style and photo: from this report's earlier networks,
    from ``--gatys-cache``, or optimized now (and stored there)."""
    from keras_style import image as im

    steps = args.gatys_steps
    gkey = (key, str(style_path.resolve()), style.shape, str(photo), args.size, tuple(steps))
    if gkey in gatys_cache:
        log(where + "Gatys run shared with an earlier network (same loss, style and photo)")
        return gatys_cache[gkey]
    store = args.gatys_cache
    stem = store.key(key, style, content, steps) if store is not None else None
    record = store.get(stem) if store is not None else None
    if record is not None:
        log(where + f"Gatys run read from --gatys-cache {store.folder}")
        if args.save_images is not None:
            for n in steps:
                store.copy_image(stem, n, args.save_images / f"{prefix}_gatys{n}.jpg")
        gatys_cache[gkey] = record
        return record
    log(where + f"Gatys L-BFGS {max(steps)} steps ...")
    record, images = run_gatys(evaluator, content, content_targets, steps)
    gatys_cache[gkey] = record
    if store is not None:
        store.put(stem, record, images)
    if args.save_images is not None:
        for n, image in images.items():
            im.save_image(image, args.save_images / f"{prefix}_gatys{n}.jpg")
    walls = [v["wall"] for v in gatys_cache.values()]
    left = args.gatys_runs_total - len(gatys_cache)
    log(f"      {record['iterations']} iterations in {record['wall']:.0f} s "
        f"({record['seconds'][-1] / max(1, record['iterations']):.2f} s/iteration), total "
        f"{record['curve'][0]:.4g} -> {record['curve'][-1]:.4g}"
        + (f"; at most {left} more run(s), about {mean(walls) * left / 60:.0f} min"
           if left > 0 else ""))
    return record


def evaluate_network(spec: str, args, photos, contents, optimizers, gatys_cache) -> dict:
    from keras_style import image as im
    from keras_style.gatys import GatysOptimizer
    from keras_style.networks import apply, load_model, min_side, resolve

    meta_path, _ = resolve(spec)
    model, meta = load_model(spec, with_metadata=True)
    name = meta.get("name") or meta_path.name[: -len(".json")]
    source = str(meta_path)
    if meta.get("task", "style") != "style":
        raise UsageError(f"{source}: not a style network (task {meta.get('task')!r}).")
    config = loss_config_from_metadata(meta, source)
    style_path = find_style_image(meta, args.style_dir, source)
    style_size = style_size_from_metadata(meta, source)
    need = max(min_side(meta), im.MIN_SIZE)
    for p in photos:
        if min(contents[p].shape[:2]) < need:
            raise UsageError(f"{p.name} is {contents[p].shape[1]}x{contents[p].shape[0]} px at "
                             f"--size {args.size}; {name} and VGG19 need {need} px per side.")

    key = config_key(config)
    if key not in optimizers:
        t = time.perf_counter()
        optimizers[key] = GatysOptimizer(config)
        log(f"  built the VGG19 loss network in {time.perf_counter() - t:.1f} s")
    style = im.load_image(style_path, max_size=style_size)  # as train.py's _validate does
    evaluator = Evaluator(optimizers[key], style)

    # network: one warm-up call traces apply()'s tf.function (any size, traced once)
    t = time.perf_counter()
    apply(model, contents[photos[0]])
    trace_seconds = time.perf_counter() - t

    per_photo = []
    for i, p in enumerate(photos, 1):
        content = contents[p]
        content_targets = evaluator.loss.content_targets(content[None])
        t = time.perf_counter()
        output = apply(model, content)
        net_seconds = time.perf_counter() - t
        net_terms = evaluator.terms(output, content_targets)
        photo_terms = evaluator.terms(content, content_targets)
        if args.save_images is not None:
            im.save_image(output, args.save_images / f"{p.stem}_{name}_network.jpg")

        where = f"  [{i}/{len(photos)}] {p.name} {content.shape[1]}x{content.shape[0]}: " \
                f"network {net_seconds:.2f} s, total {net_terms['total']:.4g}; "
        g = gatys_record(args, gatys_cache, evaluator, key, style_path, style, p, content,
                         content_targets, f"{p.stem}_{name}", where)
        per_photo.append({"photo": p.name, "height": int(content.shape[0]),
                          "width": int(content.shape[1]), "network": net_terms,
                          "network_seconds": net_seconds, "photo_terms": photo_terms,
                          "gatys": g, "crossing": crossing(g["curve"], net_terms["total"])})
    del model
    return {"name": name, "source": source, "style_image": str(style_path),
            "style_size": style_size, "loss_config": asdict(config),
            "trace_seconds": trace_seconds, "photos": per_photo}


# --- the report ---------------------------------------------------------------------------

def report_network(result: dict, steps: list[int]) -> tuple[str, dict]:
    photos = result["photos"]
    n = len(photos)
    net = {k: mean(ph["network"][k] for ph in photos) for k in TERMS}
    rows = [["network forward pass"] + [fmt(net[k]) for k in TERMS]
            + [fmt(mean(ph["network_seconds"] for ph in photos), 3)],
            ["photo itself (Gatys start, 0 steps)"]
            + [fmt(mean(ph["photo_terms"][k] for ph in photos)) for k in TERMS] + ["0"]]
    stopped = []
    for s in steps:
        cells = [fmt(mean(ph["gatys"]["rows"][s]["terms"][k] for ph in photos)) for k in TERMS]
        reached = [ph["gatys"]["rows"][s]["reached"] for ph in photos]
        label = f"Gatys L-BFGS {s} step{'s' if s != 1 else ''}"
        if min(reached) < s:
            label += f" (stopped early: {min(reached)}–{max(reached)} iterations)"
            stopped.append(s)
        rows.append([label] + cells
                    + [fmt(mean(ph["gatys"]["rows"][s]["seconds"] for ph in photos), 3)])
    table = markdown_table(["", "content", "style", "tv", "total", "seconds / photo"], rows)

    longest = max(ph["gatys"]["iterations"] for ph in photos)
    curve = padded_mean_curve([ph["gatys"]["curve"] for ph in photos], longest + 1)
    x = crossing(curve, net["total"])
    lo, hi = JOHNSON_RANGE
    over = f"mean over {n} photo{'s' if n != 1 else ''}"
    if x is None:
        shortest = min(ph["gatys"]["iterations"] for ph in photos)
        cut = (f" (L-BFGS stopped after {shortest} iterations on some photo)"
               if shortest < max(steps) else "")
        versus = (f"beyond the roughly {lo}–{hi} steps Johnson et al. report for their "
                  "networks" if max(steps) >= hi else
                  f"too few steps recorded to place it against the roughly {lo}–{hi} steps "
                  "Johnson et al. report for their networks")
        sentence = (f"Ours lands at more than {max(steps)} steps: the {result['name']} "
                    f"network's total loss ({fmt(net['total'])}, {over}) is lower than the "
                    f"Gatys L-BFGS total after all {longest} recorded steps "
                    f"({fmt(curve[-1])}){cut}, {versus}.")
    elif x == 0:
        sentence = (f"Ours lands at 0 steps: the unmodified photo, where the Gatys L-BFGS run "
                    f"starts, already has a lower total ({fmt(curve[0])}, {over}) than the "
                    f"{result['name']} network's output ({fmt(net['total'])}), below the "
                    f"roughly {lo}–{hi} steps Johnson et al. report for their networks.")
    else:
        where = ("below" if x < lo else "above" if x > hi else "within")
        sentence = (f"Ours lands at about {x:.0f} steps: the Gatys L-BFGS total ({over}) first "
                    f"drops below the {result['name']} network's total "
                    f"({fmt(net['total'])}) at step {x:.1f} (interpolated over the per-step "
                    f"curve), {where} the roughly {lo}–{hi} steps Johnson et al. report "
                    "for their networks.")
    per = [f"{ph['photo']}: " + (f"{ph['crossing']:.1f}" if ph["crossing"] is not None
                                 else f"> {ph['gatys']['iterations']}") for ph in photos]
    checks = [abs(r["callback_total"] - r["terms"]["total"]) / max(abs(r["terms"]["total"]), 1e-30)
              for ph in photos for r in ph["gatys"]["rows"].values()
              if r["callback_total"] is not None]
    lines = [f"### {result['name']}", "",
             f"Network `{result['source']}`; style image `{Path(result['style_image']).name}` "
             f"at {result['style_size']} px long side; loss: content "
             f"{', '.join(result['loss_config']['content_layers'])}, style "
             f"{', '.join(result['loss_config']['style_layers'])}, weights content "
             f"{result['loss_config']['content_weight']:g} / style "
             f"{result['loss_config']['style_weight']:g} / TV "
             f"{result['loss_config']['tv_weight']:g}, reduction "
             f"{result['loss_config']['reduction']}, Gram normalization "
             f"{result['loss_config']['gram_normalization']}. Means over {n} photo(s); the "
             f"content, style and tv columns are weighted terms that add up to total.", "",
             table, "", sentence, "",
             "Per photo, steps at which Gatys first beats the network: " + "; ".join(per) + ".",
             "",
             f"Network: first call (tf.function trace) {result['trace_seconds']:.2f} s, not in "
             "the table. Gatys seconds include the loss-and-gradient trace of each run. "
             + (f"Scoring check: the optimizer's own callback totals agree with the rescored "
                f"snapshots to {max(checks):.1e} relative." if checks else "")]
    summary = {"network_total": net["total"], "mean_gatys_curve": curve,
               "crossing_steps": x, "stopped_early_rows": stopped}
    return "\n".join(lines), summary


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Perceptual loss (the network's training loss) of each style "
                           "network's output on held-out photos, next to Gatys L-BFGS "
                           "optimization with the same loss after N steps; prints Markdown.")
    p.add_argument("--networks", nargs="+", default=None,
                   help="shipped network names or path prefixes of NAME.json + "
                        "NAME.weights.h5; when not given, every shipped style network")
    add_held_out_arguments(p, REPO, limit=0, size=512)
    p.add_argument("--gatys-steps", type=positive_int, nargs="+", default=[50, 100, 300],
                   help="L-BFGS iteration counts to report (one run of the largest)")
    p.add_argument("--style-dir", type=Path, default=STYLES,
                   help="folder holding each network's style image (by the JSON's "
                        "\"style_image\" name; keras_style/assets is the fallback)")
    p.add_argument("--save-images", type=Path, default=None, metavar="DIR",
                   help="also save every network output and Gatys result compared, as "
                        "PHOTO_NETWORK_network.jpg and PHOTO_NETWORK_gatysSTEPS.jpg (a Gatys "
                        "run shared by several networks is saved under the first one's name)")
    p.add_argument("--gatys-cache", type=Path, default=None, metavar="DIR",
                   help="keep every finished Gatys run in DIR (created if missing) and reuse "
                        "a run whose loss, style image, photo, --size and --gatys-steps are "
                        "all the same, instead of optimizing again")
    p.add_argument("--json", type=Path, default=None,
                   help="also write every number (per photo, per-step curves) to this file")
    return p


def check_output_folders(args):
    """--json, --save-images and --gatys-cache checked (folders made) before any work."""
    if args.json is not None and not args.json.parent.is_dir():
        raise UsageError(f"--json {args.json}: folder {args.json.parent} does not exist.")
    if args.save_images is not None:
        if args.save_images.exists() and not args.save_images.is_dir():
            raise UsageError(f"--save-images {args.save_images}: exists and is not a folder.")
        args.save_images.mkdir(parents=True, exist_ok=True)
    if args.gatys_cache is not None:
        if args.gatys_cache.exists() and not args.gatys_cache.is_dir():
            raise UsageError(f"--gatys-cache {args.gatys_cache}: exists and is not a folder.")
        args.gatys_cache.mkdir(parents=True, exist_ok=True)
        args.gatys_cache = GatysStore(args.gatys_cache)


def load_contents(args, specs) -> dict:
    """The held-out photos at --size, those too small for the networks skipped."""
    from keras_style import image as im
    from keras_style.networks import min_side, read_metadata, resolve

    need = im.MIN_SIZE
    for spec in specs:  # fail now, not after an hour of optimization
        meta = read_metadata(resolve(spec)[0])
        if meta.get("task", "style") == "style":
            need = max(need, min_side(meta))
    return load_photos(PROG, holdout_photos(PROG, args.photos, args.holdout), args.size, need,
                       f"the networks and VGG19 need {need} px per side", args.limit)


def write_report(args, results, photos, load_start, t_all):
    print(f"## Perceptual loss on held-out photos at {args.size} px: network vs Gatys "
          "L-BFGS\n")
    print(f"Photos: {', '.join(p.name for p in photos)} (from `{args.holdout.name}`).\n")
    summaries = {}
    for r in results:
        text, summaries[r["name"]] = report_network(r, args.gatys_steps)
        print(text)
        print()
    print(machine_line(tensorflow_info(), args.threads, load_start))
    log(f"Total wall time {time.perf_counter() - t_all:.0f} s.")
    if args.json is not None:
        payload = {"size": args.size, "gatys_steps": args.gatys_steps,
                   "photos": [p.name for p in photos], "machine": cpu_description(),
                   **tensorflow_info(), "networks": results, "summary": summaries}
        write_json(PROG, args.json, payload, default=str)


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    args.gatys_steps = sorted(set(args.gatys_steps))
    from keras_style import image as im

    if args.size < im.MIN_SIZE:
        raise UsageError(f"--size must be at least {im.MIN_SIZE} px (VGG19 pools five times).")
    check_output_folders(args)
    load_start = os.getloadavg()
    setup_tensorflow(args.threads)
    from keras_style.networks import available_networks

    specs = args.networks if args.networks is not None else available_networks("style")
    if not specs:
        raise UsageError("no shipped networks (keras_style.networks.available_networks() is "
                         "empty); pass --networks PATH_PREFIX ...")
    contents = load_contents(args, specs)
    photos = list(contents)
    log(f"{PROG}: {len(specs)} network(s) × {len(photos)} photo(s) at {args.size} px; "
        f"Gatys L-BFGS {max(args.gatys_steps)} steps per photo and style")
    args.gatys_runs_total = len(specs) * len(photos)  # fewer when networks share a style
    t_all = time.perf_counter()
    optimizers, gatys_cache, results = {}, {}, []
    for spec in specs:
        log(f"{spec}:")
        results.append(evaluate_network(spec, args, photos, contents, optimizers, gatys_cache))
    write_report(args, results, photos, load_start, t_all)
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
