"""Plumbing shared by the benchmark scripts: paths, child processes, memory, the machine
line, Markdown reports, held-out photos, picture sheets.

Imports nothing heavy at module level (no TensorFlow, no PyTorch, no keras_style), so every
script can use it.  The scripts import ``keras_style.cli`` before anything else that could
load TensorFlow; importing the package sets ``TF_CPP_MIN_LOG_LEVEL`` and
``TF_ENABLE_ONEDNN_OPTS`` (unless already set), so the scripts need not."""

import os
import resource
import sys
import time
from pathlib import Path

from keras_style._machine import cpu_description, cpu_info  # noqa: F401 (re-exported)

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "keras_style" / "assets"
PHOTOS = REPO.parent / "shared" / "data" / "photos"
"""The shared photo folder beside the repository."""
STYLES = REPO.parent / "shared" / "data" / "styles"
"""The shared painting folder beside the repository."""
HOLDOUT = REPO / "weights" / "holdout.txt"
"""The photos the shipped networks never trained on, one name per line."""

# Shared by the benchmarks that train or time super-resolution networks (fast.py,
# pytorch_reference.py, super_resolution.py); not imported from keras_style.nets.superres,
# which loads TensorFlow (tests/test_training.py checks they agree with the package).
SR_FACTORS = (2, 4, 8)
SR_RECIPE = {"sr_upsampling": "bilinear", "loss_jitter": 3, "pixel_weight": 1e6, "lr": 1e-4}
"""The shipped ``sr_x4``'s training flags, as ``TrainConfig`` fields."""
TRAIN_SIZES = {"train": 256, "train-sr": 128}
"""``--train-size``'s default for a style-network and a super-resolution training step."""


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


MARK = "@@keras_style_benchmark@@ "
"""Prefix of the one JSON line a child process prints for its parent."""


def run_child(script: str, job: dict, extra_args=(), env=None) -> dict:
    """Run one configuration of ``script`` in a fresh interpreter (``--one JOB``), so its
    peak memory is its own; return the JSON result the child printed (or an error)."""
    import json
    import subprocess

    cmd = [sys.executable, str(script), "--one", json.dumps(job), *map(str, extra_args)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    return {"error": f"exit code {proc.returncode}"}


def run_jobs(jobs: list, child, describe) -> list:
    """Run every job through ``child(job) -> dict`` (usually a :func:`run_child` call), with
    one progress line before and one after each on stderr (``describe(job)`` names it).
    Returns ``{**job, **result}`` per job; a failed child's result is ``{"error": ...}``."""
    results = []
    for i, job in enumerate(jobs, 1):
        log(f"[{i}/{len(jobs)}] {describe(job)} ...")
        t = time.perf_counter()
        res = {**job, **child(job)}
        res["wall"] = time.perf_counter() - t
        log(f"      done in {res['wall']:.0f} s" + (f" ({res['error']})" if "error" in res
                                                 else ""))
        results.append(res)
    return results


def emit_result(result: dict):
    """In a child: add the peak RSS and print the line :func:`run_child` reads."""
    import json

    result.update(peak_rss_mib=peak_rss_mib())
    print(MARK + json.dumps(result), flush=True)


def emit_tensorflow_result(result: dict):
    """In a child: add the TensorFlow/Keras versions, oneDNN flag and peak RSS; print."""
    emit_result({**result, **tensorflow_info()})


def setup_tensorflow(threads: int):
    """Import TensorFlow quietly (through keras_style) and pin its thread pools."""
    from keras_style.cli import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already running (a test suite, a notebook): pools are fixed
            pass
    return tf


def machine_line(child: dict, threads: int, load_start) -> str:
    load_now = os.getloadavg()
    return (f"Machine: {cpu_description()}; Python {sys.version.split()[0]}, TensorFlow "
            f"{child.get('tensorflow', '?')}, Keras {child.get('keras', '?')}; "
            f"TF_ENABLE_ONEDNN_OPTS={child.get('onednn', '?')}; TF threads "
            f"{threads if threads else 'default'}; 1-min load average {load_start[0]:.2f} at "
            f"start, {load_now[0]:.2f} at end")


def markdown_table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def print_report(intro: str, headers, rows, threads, load_start, versions=None):
    """The report most scripts print: ``intro`` (one paragraph), the Markdown table, then the
    machine line (``versions``: a child's result, default this process's TensorFlow)."""
    print(intro + "\n")
    print(markdown_table(headers, rows))
    print()
    print(machine_line(tensorflow_info() if versions is None else versions, threads,
                       load_start))


def write_json(prog: str, path, payload, **options):
    """``payload`` as indented JSON in ``path``, written atomically; ``options`` go to
    ``json.dumps`` (``default=str``, ``allow_nan=False`` ...)."""
    import json

    from keras_style.files import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1, **options) + "\n")
    log(f"{prog}: wrote {path}")


def fmt(value, digits=4) -> str:
    """A report cell: ``digits`` significant digits; "–" for a missing or NaN value."""
    if value is None or value != value:
        return "–"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "-∞"
    return f"{value:.{digits}g}"


def mean(values) -> float:
    """Mean of the values that are present and not NaN (NaN when there are none)."""
    values = [v for v in values if v is not None and v == v]
    return sum(values) / len(values) if values else float("nan")


def log(message: str):
    """Progress for the person running a script: stderr, so stdout stays the report."""
    print(message, file=sys.stderr, flush=True)


def tensorflow_info() -> dict:
    """The versions ``machine_line`` reports, for a script that ran TensorFlow in-process."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")}


def fmt_s(value, digits=3) -> str:
    """Seconds: like :func:`fmt` with ``digits`` digits, but whole seconds from 100 s on."""
    return f"{value:.0f}" if value is not None and 100 <= value < float("inf") else \
        fmt(value, digits)


def spread(values) -> str:
    return f"{fmt_s(min(values))}–{fmt_s(max(values))}" if values else "–"


def default_font(size: int):
    """Pillow's default font at ``size`` px (Pillow >= 10.1; older: its fixed bitmap font)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def draw_centred(draw, text: str, font, x0: int, width: int, y: int, fill,
                 ellipsis: str = "…"):
    """``text``, shortened to ``width`` px (:func:`fit_text`), centred over the ``width`` px
    from ``x0``; ``y`` is where ``draw.text`` puts it."""
    label = fit_text(draw, text, font, width, ellipsis)
    left, _, right, _ = draw.textbbox((0, 0), label, font=font)
    draw.text((x0 + (width - (right - left)) // 2 - left, y), label, font=font, fill=fill)


def fit_text(draw, text: str, font, width: int, ellipsis: str = "…") -> str:
    """``text``, shortened with ``ellipsis`` until it fits in ``width`` pixels of ``draw``."""
    def w(t):
        left, _, right, _ = draw.textbbox((0, 0), t, font=font)
        return right - left

    if w(text) <= width:
        return text
    while len(text) > 1 and w(text + ellipsis) > width:
        text = text[:-1]
    return text + ellipsis


def photo_index(photos_dir) -> dict:
    """Image files under ``photos_dir`` (recursively) by file name; the first in sorted
    order wins when two folders hold the same name."""
    from keras_style import image as im

    by_name = {}
    for p in sorted(Path(photos_dir).rglob("*")):
        if p.is_file() and p.suffix.lower() in im.IMAGE_SUFFIXES:
            by_name.setdefault(p.name, p)
    return by_name


def holdout_photos(prog: str, photos_dir, holdout, limit: int = 0, by_name=None) -> list:
    """The photos named in ``holdout`` (one per line, as ``keras_style.data.read_list``
    reads it and ``train.py`` excludes them), found by file name under ``photos_dir``, in
    the holdout file's order, at most ``limit`` (0: all).  Missing names are reported on
    stderr as ``prog``'s note; a missing folder or file, or no photo found, is a
    ``UsageError``."""
    from keras_style.cli import UsageError
    from keras_style.data import read_list

    photos_dir, holdout = Path(photos_dir), Path(holdout)
    if not photos_dir.is_dir():
        raise UsageError(f"--photos {photos_dir}: no such folder.")
    if not holdout.is_file():
        raise UsageError(f"--holdout {holdout}: no such file.")
    if by_name is None:
        by_name = photo_index(photos_dir)
    names = [Path(n).name for n in read_list(holdout)]
    missing = [n for n in names if n not in by_name]
    if missing:
        log(f"{prog}: note: {len(missing)} held-out photo(s) not found under {photos_dir}: "
            + ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
    found = [by_name[n] for n in names if n in by_name]
    if not found:
        raise UsageError(f"none of the {len(names)} photos of {holdout} is under {photos_dir}.")
    return found[:limit] if limit else found


def load_photo(prog: str, path, size: int, need: int, why: str, enlarge: bool = True):
    """``path`` resized to ``size`` px on its long side (0: as it is; with ``enlarge=False``
    a smaller photo stays as it is too), or ``None`` with a note on stderr when its short
    side is then below ``need`` px (``why`` says who needs them)."""
    from keras_style import image as im

    with im.decoding_once():  # the size check and the load decode the file once
        if size and not enlarge and max(im.image_size(path)) <= size:
            size = 0
        photo = im.load_image(path, max_size=size or None)
    if min(photo.shape[:2]) < need:
        log(f"{prog}: note: skipping {Path(path).name}: {photo.shape[1]}x{photo.shape[0]} px at "
            f"--size {size}; {why}.")
        return None
    return photo


def load_photos(prog: str, paths, size: int, need: int, why: str, limit: int = 0,
                enlarge: bool = True) -> dict:
    """The first ``limit`` (0: all) of ``paths`` that :func:`load_photo` keeps, by path; none
    is a ``UsageError``."""
    from keras_style.cli import UsageError

    photos = {}
    for p in paths:
        image = load_photo(prog, p, size, need, why, enlarge)
        if image is not None:
            photos[p] = image
            if limit and len(photos) == limit:
                break
    if not photos:
        raise UsageError(f"no held-out photo is at least {need} px on its short side at "
                         f"--size {size}.")
    return photos


def add_held_out_arguments(parser, repo=REPO, limit: int = 4, size: int = 256,
                           keep_size: bool = False):
    """``--photos``, ``--holdout``, ``--limit``, ``--size`` and ``--threads`` as the scripts
    that run networks on the first held-out photos share them (defaults: the shared photo
    folder beside the repository ``repo`` and its ``weights/holdout.txt``).  ``limit=0``
    makes 0 mean every photo; ``keep_size`` lets ``--size 0`` keep the photos' own size."""
    from keras_style.cli import non_negative_int, positive_int

    parser.add_argument("--photos", type=Path, default=Path(repo).parent / "shared" / "data"
                        / "photos", help="folder of photos (searched recursively by file name)")
    parser.add_argument("--holdout", type=Path, default=Path(repo) / "weights" / "holdout.txt",
                        help="held-out photo names, one per line")
    parser.add_argument("--limit", type=positive_int if limit else non_negative_int,
                        default=limit, help="number of held-out photos (the first of --holdout"
                        + (")" if limit else "; 0: all)"))
    parser.add_argument("--size", type=non_negative_int if keep_size else positive_int,
                        default=size, help="long side of the photos, px"
                        + (" (0: keep their size)" if keep_size else ""))
    add_threads_argument(parser)


def add_threads_argument(parser):
    from keras_style.cli import non_negative_int

    parser.add_argument("--threads", type=non_negative_int, default=0,
                        help="TensorFlow intra/inter-op threads (0: TensorFlow's default)")


def structure_correlation(result, photo, size: int = 64) -> float:
    """Did the photo's structure survive?  The Pearson correlation of the Sobel edge
    magnitudes of ``photo`` and ``result`` (``(H, W, 3)`` ``[0, 1]`` arrays, any sizes),
    both turned to luminance and shrunk (box filter) so their long side is ``size`` px.

    Deep content losses barely move when a subject drowns in texture; this does: about
    0.6-0.85 when the subject is plain to see, 0.1-0.4 when it is lost (GUIDE.md §6).
    At 64 px brush strokes and fine texture average out and the layout of edges remains."""
    import numpy as np
    from PIL import Image

    def edges(image):
        y = np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114])
        h, w = y.shape
        s = size / max(h, w)
        small = Image.fromarray(y.astype(np.float32), mode="F").resize(
            (max(3, round(w * s)), max(3, round(h * s))), Image.BOX)
        a = np.pad(np.asarray(small, np.float64), 1, mode="reflect")
        gx = (a[:-2, 2:] + 2 * a[1:-1, 2:] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[1:-1, :-2]
                                                            + a[2:, :-2])
        gy = (a[2:, :-2] + 2 * a[2:, 1:-1] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[:-2, 1:-1]
                                                            + a[:-2, 2:])
        return np.hypot(gx, gy).ravel()

    a, b = edges(result), edges(photo)
    if a.shape != b.shape:
        raise ValueError("result and photo must have the same aspect ratio.")
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-12))
