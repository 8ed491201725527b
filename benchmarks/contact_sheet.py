"""Contact sheet for the README: photos × style networks in one image.

    python benchmarks/contact_sheet.py                      # every shipped style network
    python benchmarks/contact_sheet.py --networks runs/a runs/b -o /tmp/sheet.jpg

One row per photo, the original in the first column, then one column per network, under a
header row with each network's name (Pillow's default font).  Each photo is resized to
``--size`` px on its long side, stylized at that size (``--work-size`` stylizes at another
size and resizes the result to the cell) with :func:`keras_style.networks.apply`, and
centred in a ``size × row height`` cell.  The sheet is written atomically with
:func:`keras_style.image.save_image`; the output folder is created.

Default photos: the first four photos of ``weights/holdout.txt`` (never trained on) found in
``../shared/data/photos``, or the bundled ``keras_style/assets/colosseum.jpg`` when none is.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from keras_style.cli import (Parser, UsageError, formatter, non_negative_int, positive_int,
                             run)

from _common import (ASSETS, HOLDOUT, PHOTOS, REPO, add_threads_argument, default_font,
                     draw_centred, holdout_photos, log, setup_tensorflow)

PROG = "python benchmarks/contact_sheet.py"
DEFAULT_OUT = REPO / "docs" / "contact_sheet.jpg"
DEFAULT_COUNT = 4
GAP = 6          # px between cells and around the sheet
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)


def default_photos(count: int = DEFAULT_COUNT) -> list[Path]:
    """The first ``count`` held-out photos present in the shared photo folder (by file
    name, recursively), else the bundled Colosseum photo."""
    try:
        found = holdout_photos(PROG, PHOTOS, HOLDOUT, count)
    except UsageError:
        found = []
    if not found:
        log(f"{PROG}: note: no held-out photo found in {PHOTOS}; using the bundled "
            "colosseum.jpg.")
        found = [ASSETS / "colosseum.jpg"]
    return found


def compose(columns: list[str], rows: list[list], size: int, font_size: int):
    """The sheet as a PIL image: a header row of ``columns`` names over ``rows`` of
    ``[0, 1]`` float images (each row's images share one shape)."""
    from PIL import Image, ImageDraw

    from keras_style import image as im

    font = default_font(font_size)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    _, top, _, bottom = probe.textbbox((0, 0), "Ag" + "".join(columns), font=font)
    header = (bottom - top) + GAP
    heights = [max(img.shape[0] for img in row) for row in rows]
    width = GAP + len(columns) * (size + GAP)
    height = GAP + header + sum(h + GAP for h in heights)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw_centred(draw, name, font, GAP + c * (size + GAP), size, GAP - top, TEXT)
    y = GAP + header
    for row, h in zip(rows, heights):
        for c, img in enumerate(row):
            x0 = GAP + c * (size + GAP)
            ih, iw = img.shape[:2]
            sheet.paste(im.to_pil(img), (x0 + (size - iw) // 2, y + (h - ih) // 2))
        y += h + GAP
    return sheet


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="A photos × style networks grid image for the README: originals "
                           "in the first column, one column per network under its name.")
    p.add_argument("--networks", nargs="+", default=None,
                   help="shipped network names or path prefixes of NAME.json + "
                        "NAME.weights.h5; when not given, every shipped style network")
    p.add_argument("--photos", nargs="+", type=Path, default=None,
                   help=f"photo files; when not given, the first {DEFAULT_COUNT} held-out "
                        f"photos of {HOLDOUT.name} found in {PHOTOS} "
                        "(else the bundled colosseum.jpg)")
    p.add_argument("--size", type=positive_int, default=256,
                   help="long side of each cell's image, px")
    p.add_argument("--work-size", type=non_negative_int, default=0,
                   help="long side the photos are stylized at, px (0: --size)")
    p.add_argument("--font-size", type=positive_int, default=None,
                   help="header text size, px (default: --size / 16, at least 11)")
    p.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT,
                   help="output image (folder created; .jpg, .png, .webp ...)")
    add_threads_argument(p)
    return p


def network_metadata(specs) -> list[dict]:
    """Each network's JSON, read (and checked to be a style network) before any work."""
    from keras_style.networks import read_metadata, resolve

    if not specs:
        raise UsageError("no shipped networks (keras_style.networks.available_networks() is "
                         "empty); pass --networks PATH_PREFIX ...")
    metas = [read_metadata(resolve(s)[0]) for s in specs]
    for spec, meta in zip(specs, metas):
        if meta.get("task", "style") != "style":
            raise UsageError(f"{spec}: not a style network (task {meta.get('task')!r}).")
    return metas


def stylize_columns(specs, metas, inputs, cells) -> tuple[list[str], list[list]]:
    """The sheet's column names and rows: each photo's cell, then each network's result
    resized to the cell."""
    from keras_style import image as im
    from keras_style.networks import apply, load_model, resolve

    rows, names = [[c] for c in cells], ["photo"]
    for spec, meta in zip(specs, metas):
        model = load_model(spec)
        # the file name (a shipped network's name); the JSON's "name" is the training --out
        names.append(Path(resolve(spec)[0]).name[: -len(".json")] or meta.get("name", "?"))
        t = time.perf_counter()
        for row, x, cell in zip(rows, inputs, cells):
            y = apply(model, x)
            if y.shape[:2] != cell.shape[:2]:
                y = im.resize(y, cell.shape[:2])
            row.append(y)
        log(f"{names[-1]}: {len(inputs)} photo(s) in {time.perf_counter() - t:.1f} s")
        del model
    return names, rows


def main_body(argv) -> int:
    args = build_parser().parse_args(argv)
    from keras_style import image as im

    work = args.work_size or args.size
    if min(args.size, work) < im.MIN_SIZE:
        raise UsageError(f"--size and --work-size must be at least {im.MIN_SIZE} px.")
    setup_tensorflow(args.threads)
    from keras_style.networks import available_networks, min_side

    specs = args.networks if args.networks is not None else available_networks("style")
    metas = network_metadata(specs)
    need = max(min_side(m) for m in metas)
    photos = args.photos if args.photos is not None else default_photos()
    # what the viewer sees in a cell, and what the networks get
    cells = [im.load_image(p, max_size=args.size) for p in photos]
    inputs = [c if work == args.size else im.load_image(p, max_size=work)
              for p, c in zip(photos, cells)]
    for p, x in zip(photos, inputs):
        if min(x.shape[:2]) < need:
            raise UsageError(f"{p} is {x.shape[1]}x{x.shape[0]} px at {work} px long side; "
                             f"the networks need {need} px per side (raise --size/--work-size).")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    im.check_output_path(out, inputs=photos)

    t_all = time.perf_counter()
    names, rows = stylize_columns(specs, metas, inputs, cells)
    sheet = compose(names, rows, args.size, args.font_size or max(11, args.size // 16))
    im.save_image(im.from_pil(sheet), out)
    log(f"{PROG}: wrote {out} ({sheet.width}x{sheet.height} px: {len(photos)} photo(s) × "
        f"{len(specs)} network(s)) in {time.perf_counter() - t_all:.0f} s.")
    return 0


def main(argv=None) -> int:
    return run(PROG, main_body, argv)


if __name__ == "__main__":
    sys.exit(main())
