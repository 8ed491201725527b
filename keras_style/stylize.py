"""Stylize photos from the command line.

    python -m keras_style.stylize                                    # the bundled demo
    python -m keras_style.stylize photo.jpg --style painting.jpg     # any painting, one pass
    python -m keras_style.stylize photo.jpg --style painting.jpg --method gatys   # optimize
    python -m keras_style.stylize photo.jpg --method multistyle --style-index 3:0.5,12:0.5
    python -m keras_style.stylize photos/ --model starry_night       # a trained network

``--method arbitrary`` (the default with ``--style``) runs Magenta's arbitrary-style network
(Ghiasi et al. 2017): any painting, seconds, at full resolution.  ``--method gatys``
optimizes the pixels (Gatys et al.; minutes, the most faithful).  ``--method multistyle``
uses one of 26 learned styles or a blend (Dumoulin et al. 2017).  ``--model`` applies a
trained one-style network (Johnson et al.).  With no arguments at all it stylizes the
bundled photo of the Colosseum like the bundled Starry Night and writes the result into the
current folder.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from keras_style.cli import (Parser, UsageError, formatter, non_negative_float,
                             non_negative_int, positive_float, positive_int, quiet_tensorflow,
                             run)

PROG = "python -m keras_style.stylize"
ASSETS = Path(__file__).resolve().parent / "assets"
DEMO_CONTENT = ASSETS / "colosseum.jpg"
DEMO_STYLE = ASSETS / "starry_night.jpg"

METHODS = ("arbitrary", "gatys", "multistyle")
# flags that only mean something to the optimization, with their "not given" values
GATYS_ONLY = {"steps": None, "optimizer": None, "preset": "tutorial", "init": None,
              "content_weight": None, "style_weight": None, "tv_weight": None,
              "style_tiles": None, "style_scale": 1.0, "lr": None, "seed": 0, "save_every": 0}


DEFAULT_TILE = 1024  # px: networks run images up to this size in one piece


@dataclass(frozen=True)
class StylizeConfig:
    content: tuple
    style: tuple = ()
    style_weights: tuple | None = None
    method: str | None = None
    strength: float = 1.0
    style_index: str | None = None
    sheet: bool = False
    model: str | None = None
    output: str | None = None
    size: int | None = None
    steps: int | None = None
    optimizer: str | None = None
    preset: str = "tutorial"
    init: str | None = None
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    style_tiles: int | None = None
    style_scale: float = 1.0
    lr: float | None = None
    preserve_color: str | None = None
    seed: int = 0
    save_every: int = 0
    tile: int = DEFAULT_TILE
    progress: bool = True
    overwrite: bool = False


def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Stylize photos like any painting (--style; in one pass with "
                           "--method arbitrary, by optimization with --method gatys), with one "
                           "of 26 learned styles (--method multistyle) or with a trained "
                           "network (--model). With no arguments, stylizes a bundled sample "
                           "photo.")
    p.add_argument("content", nargs="*",
                   help="photos or folders of photos (default: the bundled sample photo)")
    p.add_argument("--style", action="append", default=[],
                   help="painting; repeat to blend several")
    p.add_argument("--method", choices=METHODS, default=None,
                   help="arbitrary: Magenta's arbitrary-style network, any painting in one "
                        "pass (seconds); gatys: optimize the pixels (minutes); multistyle: "
                        "the 26-style network, see --style-index (default: arbitrary with "
                        "--style)")
    p.add_argument("--blend", dest="style_weights", type=non_negative_float, nargs="+",
                   default=None, help="blend weights, one per --style (default: equal)")
    # the flag's first name, kept working; hidden because --style-weight is a loss weight
    p.add_argument("--style-weights", dest="style_weights", type=non_negative_float,
                   nargs="+", default=None, help=argparse.SUPPRESS)
    p.add_argument("--strength", type=non_negative_float, default=1.0,
                   help="arbitrary: from the photo's own style (0) to the painting's (1); "
                        "multistyle: fade from the photo (0) to the styled result (1)")
    p.add_argument("--style-index", default=None,
                   help="multistyle: a style 0-25 or a blend such as 3:0.5,12:0.5")
    p.add_argument("--sheet", action="store_true",
                   help="multistyle: write all 26 styles on the photo as one contact sheet")
    p.add_argument("--model", default=None,
                   help="a trained network: a shipped name or a path prefix of "
                        "NAME.json + NAME.weights.h5")
    p.add_argument("-o", "--output", default=None,
                   help="output file (one input), folder (several inputs; created when "
                        "written with a trailing /) or - for standard output (PNG); "
                        "default: CONTENT_STYLE.jpg in the current folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output even if it is not an image (an "
                        "existing image is always replaced; an input never is)")
    p.add_argument("--size", type=positive_int, default=None,
                   help="long side of the output in px (default: gatys, the preset's; "
                        "arbitrary and multistyle, the photo's own size up to 1024; --model, "
                        "the photo's own size); photos are never enlarged except by gatys")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="optimization steps (default: the preset's)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=None,
                   help="default: the preset's")
    p.add_argument("--preset", default="tutorial", help="gatys2016 | tutorial")
    p.add_argument("--init", choices=("content", "noise", "style", "arbitrary"), default=None,
                   help="starting image; arbitrary: the arbitrary network's result "
                        "(default: the preset's)")
    p.add_argument("--content-weight", type=non_negative_float, default=None,
                   help="default: the preset's")
    p.add_argument("--style-weight", type=non_negative_float, default=None,
                   help="default: the preset's")
    p.add_argument("--tv-weight", type=non_negative_float, default=None,
                   help="default: the preset's")
    p.add_argument("--style-tiles", type=positive_int, default=None,
                   help="match the painting's Gram matrices on an N x N grid of tiles, not "
                        "once per image: the style spreads over the whole picture instead of "
                        "gathering in a few patches (default: 1, the papers' global loss)")
    p.add_argument("--style-scale", type=positive_float, default=1.0,
                   help="style image size relative to --size")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="Adam learning rate (default: the preset's)")
    p.add_argument("--preserve-color", choices=("luminance", "histogram"), default=None,
                   help="keep the photo's colours")
    p.add_argument("--seed", type=int, default=0, help="random seed (noise start)")
    p.add_argument("--save-every", type=non_negative_int, default=0,
                   help="also save the image every N steps (0: never)")
    p.add_argument("--tile", type=positive_int, default=DEFAULT_TILE,
                   help="networks (arbitrary, multistyle, --model): tile size for large "
                        "images, px")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar")
    return p


def parse_config(argv) -> StylizeConfig:
    args = build_parser().parse_args(argv)
    kw = vars(args)
    kw["content"] = tuple(kw["content"])
    kw["style"] = tuple(kw["style"])
    if kw["style_weights"] is not None:
        kw["style_weights"] = tuple(kw["style_weights"])
    return StylizeConfig(**kw)


def _default_output(content: Path, tag: str, suffix: str | None = None) -> Path:
    return Path(f"{content.stem}_{tag}{suffix or '.jpg'}")


def _plan_outputs(cfg: StylizeConfig, contents: list[Path], tag: str) -> list[Path]:
    """Every file this run writes, checked before any work (see keras_style.outputs): one
    per photo, and the --save-every intermediates beside each."""
    from keras_style.files import STDOUT
    from keras_style.outputs import check_file, is_stream, plan_files

    protect = [Path(s) for s in cfg.style]
    if cfg.model is not None:
        from keras_style.networks import resolve

        protect.extend(resolve(cfg.model))
    outs = plan_files(contents, cfg.output, lambda c: _default_output(c, tag), kind="image",
                      protect=protect, overwrite=cfg.overwrite, verb="stylize")
    if cfg.save_every and cfg.method == "gatys":
        if any(is_stream(o) for o in outs):
            raise UsageError(f"--save-every writes files beside -o; give -o a file name, not "
                             f"{'-' if str(outs[0]) == STDOUT else outs[0]}.")
        steps = cfg.steps or _preset(cfg).steps
        inputs = [*contents, *protect]
        for out in outs:
            for step in range(cfg.save_every, steps, cfg.save_every):
                check_file(out.with_name(f"{out.stem}_step{step:04d}{out.suffix}"), "image",
                           inputs=inputs, overwrite=cfg.overwrite, flag="--save-every")
    return outs


def _preset(cfg: StylizeConfig):
    from keras_style.gatys import get_preset

    try:
        return get_preset(cfg.preset)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_limits(cfg: StylizeConfig, method: str | None, contents: list[Path]) -> None:
    """Limits that follow from the network or the image, checked before any work."""
    from keras_style import image as im
    from keras_style.cli import check_style_tiles, check_tile

    if cfg.model is not None or method in ("arbitrary", "multistyle"):
        import inspect

        from keras_style.networks import apply

        check_tile(cfg.tile, inspect.signature(apply).parameters["margin"].default)
    if method != "gatys":
        return
    if cfg.size is not None and cfg.size < im.MIN_SIZE:
        raise UsageError(f"--size {cfg.size} is too small for --method gatys: VGG19 needs at "
                         f"least {im.MIN_SIZE} px on each side.")
    if cfg.style_tiles and cfg.style_tiles > 1:
        preset = _preset(cfg)
        size = cfg.size or preset.size
        for content in contents:
            w, h = im.image_size(content)
            scale = size / max(w, h)
            w, h = max(1, round(w * scale)), max(1, round(h * scale))
            check_style_tiles(cfg.style_tiles, list(preset.loss.style_layers), h, w,
                              what=f"image ({content.name} at --size {size})")


def _method(cfg: StylizeConfig, demo: bool) -> str | None:
    """The method asked for, with every flag checked against it before any work."""
    method = cfg.method
    if cfg.model is not None:
        if method is not None:
            raise UsageError("--method chooses how a painting is applied; --model applies a "
                             "trained network: give one of them.")
        if cfg.style:
            raise UsageError("give either --style (a painting) or --model (trained network), "
                             "not both.")
    elif method is None and (cfg.style or demo):
        method = "arbitrary"
    if method == "gatys":
        for flag in ("style_index", "sheet"):
            if getattr(cfg, flag) not in (None, False):
                raise UsageError(f"--{flag.replace('_', '-')} belongs to --method multistyle.")
        if cfg.strength != 1.0:
            raise UsageError("--strength belongs to --method arbitrary or multistyle; with "
                             "gatys, weigh the style with --style-weight.")
        if cfg.tile != DEFAULT_TILE:
            raise UsageError("--tile belongs to the networks (arbitrary, multistyle, --model); "
                             "--method gatys optimizes the whole image at --size.")
        return method
    given = [f"--{k.replace('_', '-')}" for k, unset in GATYS_ONLY.items()
             if getattr(cfg, k) != unset]
    if given:
        kind = "is an optimization flag" if len(given) == 1 else "are optimization flags"
        raise UsageError(f"{', '.join(given)} {kind}; add --method gatys to optimize the "
                         "pixels.")
    if cfg.strength > 1.0:
        raise UsageError(f"--strength must be between 0 and 1, got {cfg.strength}.")
    if method == "multistyle":
        if cfg.style:
            raise UsageError("--method multistyle uses its own 26 styles (--style-index); "
                             "for a painting of yours use --method arbitrary.")
        if (cfg.style_index is None) == (not cfg.sheet):
            raise UsageError("--method multistyle needs --style-index N (or a blend such as "
                             "3:0.5,12:0.5) or --sheet.")
    elif cfg.style_index is not None or cfg.sheet:
        raise UsageError("--style-index and --sheet belong to --method multistyle.")
    if method == "arbitrary" and not cfg.style and not demo:
        raise UsageError("--method arbitrary needs a painting: --style PAINTING.")
    return method


def _check_inputs(cfg: StylizeConfig, contents: list[Path]) -> list[Path]:
    from keras_style import image as im

    if cfg.style_weights is not None and len(cfg.style_weights) != len(cfg.style):
        raise UsageError(f"--blend has {len(cfg.style_weights)} values for "
                         f"{len(cfg.style)} --style images.")
    if cfg.style_weights is not None and sum(cfg.style_weights) <= 0:
        raise UsageError("--blend weights must not all be zero.")
    for c in contents:  # validate every input before doing any work
        im.load_image(c)
    styles = [Path(s) for s in cfg.style]
    for s in styles:
        im.load_image(s)
    return styles


def _tag(cfg: StylizeConfig, method: str | None, model_name, styles) -> str:
    if model_name:
        return Path(model_name).name
    if method == "multistyle":
        if cfg.sheet:
            return "multistyle26_sheet"
        from keras_style.pretrained import parse_styles

        weights = parse_styles(cfg.style_index)  # refuses a spec that does not parse
        return "style" + "_".join(f"{i}" if w == 1 else f"{i}-{w:.2g}"
                                  for i, w in enumerate(weights) if w > 0)
    return "_".join(s.stem for s in styles)


def stylize_main(cfg: StylizeConfig) -> int:
    from keras_style import image as im

    with im.decoding_once():  # every input is checked first, then used, decoded once
        return _stylize(cfg)


def _stylize(cfg: StylizeConfig) -> int:
    from keras_style import image as im

    demo = not cfg.content and not cfg.style and cfg.model is None and cfg.method is None
    contents = im.list_images(cfg.content) if cfg.content else [DEMO_CONTENT]
    if cfg.content and not contents:
        raise UsageError("no images found in " + ", ".join(cfg.content) + ".")
    method = _method(cfg, demo)
    styles = _check_inputs(cfg, contents)
    if demo:
        styles = [DEMO_STYLE]
        print(f"keras_style demo: stylizing {DEMO_CONTENT.name} like {DEMO_STYLE.name} with "
              "the pretrained arbitrary-style network (python -m keras_style.stylize --help "
              "for more).", file=sys.stderr)
    if cfg.model is None and method is None:
        raise UsageError("give a painting (--style PAINTING), --method multistyle or a "
                         "trained network (--model NAME).")
    _check_limits(cfg, method, contents)
    outputs = _plan_outputs(cfg, contents, _tag(cfg, method, cfg.model, styles))
    quiet_tensorflow()
    if cfg.model is not None:
        return _with_network(cfg, cfg.model, contents, outputs)
    if method == "gatys":
        return _with_optimization(cfg, contents, styles, outputs)
    return _with_pretrained(cfg, method, contents, styles, outputs)


def _with_pretrained(cfg, method, contents, styles, outputs) -> int:
    from keras_style import image as im
    from keras_style import pretrained as pt

    size = cfg.size or pt.DEFAULT_SIZE
    for content, out in zip(contents, outputs):
        photo = im.load_image(content)
        if method == "arbitrary":
            result = pt.arbitrary_stylize(photo, styles, weights=cfg.style_weights,
                                          strength=cfg.strength, size=size,
                                          preserve_color=cfg.preserve_color, tile=cfg.tile)
        elif cfg.sheet:
            result = pt.multistyle_sheet(photo, tile=cfg.size or 256)
        else:
            result = pt.multistyle_stylize(photo, cfg.style_index, strength=cfg.strength,
                                           size=size, preserve_color=cfg.preserve_color,
                                           tile=cfg.tile)
        im.save_image(result, out)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _with_network(cfg, model_name, contents, outputs) -> int:
    from keras_style import image as im
    from keras_style.networks import apply, load_model, min_side

    model, meta = load_model(model_name, with_metadata=True)
    if meta.get("task", "style") != "style":
        raise UsageError(f"{model_name} is a {meta.get('task')} network; use "
                         "python -m keras_style.upscale for it.")
    smallest = min_side(meta)
    for content, out in zip(contents, outputs):
        photo = im.load_image(content, max_size=cfg.size)
        if min(photo.shape[:2]) < smallest:
            raise UsageError(f"{content} is smaller than {smallest} px on a side, too small for "
                             f"this network; pass --size to enlarge it.")
        result = apply(model, photo, tile=cfg.tile)
        if cfg.preserve_color == "luminance":
            result = im.luminance_transfer(result, photo)
        elif cfg.preserve_color == "histogram":
            result = im.match_color(result, photo)
        im.save_image(result, out)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _with_optimization(cfg, contents, styles, outputs) -> int:
    from keras_style import image as im
    from keras_style.gatys import style_transfer
    from keras_style.gatys import get_preset
    from keras_style.vgg import loss_network

    try:
        preset = get_preset(cfg.preset)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    size, steps, optimizer = cfg.size, cfg.steps, cfg.optimizer
    network = loss_network(preset.loss.layers, pooling=preset.loss.pooling)
    for content, out in zip(contents, outputs):
        def save_intermediate(info, out=out):
            if info.step % cfg.save_every == 0 and info.step < info.steps:
                im.save_image(info.image, out.with_name(
                    f"{out.stem}_step{info.step:04d}{out.suffix}"))

        callback = save_intermediate if cfg.save_every else None
        result = style_transfer(
            content, list(styles), preset=cfg.preset, size=size, steps=steps,
            optimizer=optimizer, init=cfg.init, style_blend=cfg.style_weights,
            style_scale=cfg.style_scale, content_weight=cfg.content_weight,
            style_weight=cfg.style_weight, tv_weight=cfg.tv_weight,
            style_tiles=cfg.style_tiles, learning_rate=cfg.lr,
            preserve_color=cfg.preserve_color, seed=cfg.seed, callback=callback,
            progress=cfg.progress, network=network)
        im.save_image(result, out)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, lambda a: stylize_main(parse_config(a)), argv)


if __name__ == "__main__":
    sys.exit(main())
