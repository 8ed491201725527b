"""Train a fast style transfer network (Johnson et al. 2016), from scratch or from a
pretrained network, or a super-resolution network: the command line of
:mod:`keras_style.training`.

    python -m keras_style.train --style painting.jpg --data photos/ --out runs/mine --steps 2000
    python -m keras_style.train --style painting.jpg --data photos/ --init arbitrary --steps 300

Writes ``runs/mine.weights.h5`` and ``runs/mine.json`` (load with
``keras_style.load_model("runs/mine")`` or ``python -m keras_style.stylize photo.jpg --model
runs/mine``).  Checkpoints go to ``--checkpoint-dir`` (default ``PREFIX_ckpt/``) every
``--checkpoint-every`` steps; ``--resume`` continues a killed run from its last checkpoint with
the same step, optimizer state and position in the data stream.
"""

from __future__ import annotations

import sys
from pathlib import Path

from keras_style.cli import (Parser, UsageError, formatter,  # noqa: F401 (UsageError re-exported)
                             non_negative_float, positive_float, positive_int, run)
from keras_style.training import FINETUNE_DEFAULTS as FINETUNE
from keras_style.training import SCRATCH_DEFAULTS as SCRATCH
from keras_style.training import (DISTRIBUTE, JOHNSON_CONTENT_LAYERS,  # noqa: F401 (re-exported)
                                  JOHNSON_STYLE_LAYERS, LR_FINAL_FRACTION, PROG, SR_LR,
                                  SR_UPSAMPLINGS, STYLE_LR, STYLE_TV, TASKS, TRAINABLE,
                                  TrainConfig, check_resume, fit, run_identity)


def build_parser() -> Parser:
    d = TrainConfig(style=None, data="")
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Train a feed-forward style transfer network, or a super-resolution "
                           "network, with perceptual losses (Johnson et al. 2016) on a folder "
                           "of photos.")
    p.add_argument("--task", choices=TASKS, default=d.task,
                   help="style transfer, or super-resolution (then --factor, no --style)")
    p.add_argument("--style", default=None, help="the style image (a painting; --task style)")
    p.add_argument("--factor", type=int, choices=(2, 4, 8), default=d.factor,
                   help="super-resolution: upscaling factor")
    p.add_argument("--sr-upsampling", choices=SR_UPSAMPLINGS, default=d.sr_upsampling,
                   help="super-resolution: the x2 upsampling stages: nearest- or "
                        "bilinear-upsample + conv, sub-pixel conv (pixel shuffle, "
                        "ICNR-initialized), or transposed conv")
    p.add_argument("--sr-blocks", type=positive_int, default=d.sr_blocks, metavar="N",
                   help="super-resolution: residual blocks at the low resolution (Johnson et "
                        "al.: 4); with --init, a network with fewer blocks or a smaller "
                        "--factor grows into this one (new blocks and stages start as "
                        "identities)")
    p.add_argument("--pixel-loss", action="store_true",
                   help="super-resolution: train on the per-pixel MSE instead of the feature "
                        "reconstruction loss (the paper's baseline)")
    p.add_argument("--blur-sigma", type=non_negative_float, default=d.blur_sigma,
                   help="super-resolution: Gaussian blur before bicubic downsampling")
    p.add_argument("--data", required=True,
                   help="folder of training photos (searched recursively: jpg, png, webp, bmp)")
    p.add_argument("--out", default=d.out,
                   help="output path prefix: writes PREFIX.weights.h5 and PREFIX.json")
    p.add_argument("--steps", type=positive_int, default=d.steps, help="total training steps")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--image-size", type=positive_int, default=d.image_size,
                   help="side of the square training crops, px")
    p.add_argument("--style-size", type=positive_int, default=None,
                   help="long side the style image is resized to, px (default: --image-size; "
                        "with --init: 256)")
    p.add_argument("--lr", type=positive_float, default=None,
                   help=f"Adam learning rate (default: {STYLE_LR} for style, {SR_LR} for "
                        "super-resolution)")
    p.add_argument("--lr-decay", type=int, default=d.lr_decay, metavar="STEPS",
                   help="lower the learning rate along a half cosine over this run's first "
                        "STEPS steps, to --lr-final (0: constant)")
    p.add_argument("--lr-final", type=non_negative_float, default=None,
                   help="the learning rate at the end of --lr-decay (default: "
                        f"{LR_FINAL_FRACTION:g} x --lr)")
    p.add_argument("--content-weight", type=non_negative_float, default=None,
                   help=f"default: {SCRATCH['content_weight']:g}; with --init: "
                        f"{FINETUNE['content_weight']:g}")
    p.add_argument("--style-weight", type=non_negative_float, default=None,
                   help=f"default: {SCRATCH['style_weight']:g}; with --init: "
                        f"{FINETUNE['style_weight']:g}")
    p.add_argument("--tv-weight", type=non_negative_float, default=None,
                   help=f"default: {STYLE_TV} for style, 0 for super-resolution")
    p.add_argument("--content-layers", nargs="+", default=list(d.content_layers),
                   help="VGG19 layers for the content loss")
    p.add_argument("--style-layers", nargs="+", default=list(d.style_layers),
                   help="VGG19 layers for the style loss (equally weighted)")
    p.add_argument("--laplacian-weight", type=non_negative_float, default=None,
                   help="weight of a Laplacian loss (Li et al. 2017): the mean squared "
                        "difference of the photo's and the result's Laplacian after 4x4 "
                        "average pooling, which keeps the photo's layout of edges while the "
                        "VGG losses repaint its texture (default: 0, off; with --init: "
                        f"{FINETUNE['laplacian_weight']:g})")
    p.add_argument("--pixel-weight", type=non_negative_float, default=d.pixel_weight,
                   help="weight of a per-pixel mean squared error added to the perceptual "
                        "loss (super-resolution: anchors colours and PSNR; 0: off)")
    p.add_argument("--loss-jitter", type=int, default=d.loss_jitter, metavar="PX",
                   help="crop the output and the photo by the same random 0..PX rows and "
                        "columns before each step's loss, so VGG19's pooling meets the "
                        "output at a random phase and cannot reward a pattern in step with "
                        "the upsampling stages (super-resolution: the grid; 0: off)")
    p.add_argument("--style-tiles", type=positive_int, default=d.style_tiles,
                   help="compare the Gram matrices of an N x N grid of tiles of each style "
                        "layer with the painting's, instead of one Gram matrix per image: "
                        "every region must carry the style, so a few saturated blobs no "
                        "longer satisfy it (1: the papers' global Gram matrix)")
    p.add_argument("--arch", default=d.arch,
                   help="style network: johnson | johnson_in | johnson_up | light | light_skip "
                        "(ignored for super-resolution and with --init)")
    p.add_argument("--init", default=None,
                   help="start from a pretrained network instead of random weights: "
                        "arbitrary (Magenta's arbitrary-style network with the painting's "
                        "predicted style), multistyle26:N (one of the 26 styles, or a blend "
                        "such as multistyle26:3:0.5,12:0.5), or the name or path of a trained "
                        "style network to continue (super-resolution: a trained network of "
                        "the same --sr-upsampling, and the same or a smaller factor and "
                        "--sr-blocks: see --sr-blocks)")
    p.add_argument("--trainable", choices=TRAINABLE, default=None,
                   help="what trains: all weights, or only the normalization scales and "
                        "shifts (with --init: the style code and its projections; the "
                        "default there, all without --init)")
    p.add_argument("--checkpoint-dir", default=None, help="default: PREFIX_ckpt")
    p.add_argument("--checkpoint-every", type=positive_int, default=d.checkpoint_every)
    p.add_argument("--resume", action="store_true",
                   help="continue from the last checkpoint in --checkpoint-dir")
    p.add_argument("--log-dir", default=None, help="TensorBoard log folder")
    p.add_argument("--log-every", type=positive_int, default=d.log_every,
                   help="steps between TensorBoard scalars")
    p.add_argument("--sample-every", type=positive_int, default=d.sample_every,
                   help="steps between TensorBoard validation images")
    p.add_argument("--holdout", default=None,
                   help="text file of photo names never to train on (one per line)")
    p.add_argument("--min-scale", type=positive_float, default=d.min_scale,
                   help="smallest random crop, as a fraction of the photo's short side")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default=d.device,
                   help="auto uses a GPU when TensorFlow sees one")
    p.add_argument("--distribute", choices=DISTRIBUTE, default=d.distribute,
                   help="default: one device; mirrored: tf.distribute.MirroredStrategy over "
                        "every GPU (the global --batch-size split across them; same "
                        "checkpoint format)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="bfloat16 on CPU / float16 on GPU for the network and VGG")
    p.add_argument("--threads", type=int, default=d.threads,
                   help="CPU threads for TensorFlow (0: all cores)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar (log lines instead)")
    return p


def parse_config(argv) -> TrainConfig:
    """The command line as a :class:`TrainConfig` (which fills in the task's defaults)."""
    return TrainConfig(**vars(build_parser().parse_args(argv)))


def train(cfg: TrainConfig, argv=None, callback=None) -> int:
    """Train as ``cfg`` says, write ``cfg.out``.weights.h5 + .json, return the exit code
    (0 written; 3 the loss became NaN; 143 SIGTERM; the last checkpoint is kept)."""
    from keras_style.errors import WriteError
    from keras_style.networks import save_network

    result = fit(cfg, callback=callback, argv=argv)
    if result.status != 0:
        print(f"{PROG}: {'error: ' if result.status == 3 else ''}{result.message}",
              file=sys.stderr)
        return result.status
    try:
        save_network(result.model, cfg.out, result.metadata)
    except WriteError as exc:
        raise UsageError(f"{str(exc).rstrip('.')}; the trained state (step "
                         f"{result.metadata['steps']}) is kept in {cfg.ckpt_dir}: run again "
                         "with --resume to write the network.") from None
    skipped = result.metadata["skipped_files"]
    if skipped:
        print(f"{PROG}: skipped {len(skipped)} unreadable file(s): " + ", ".join(skipped[:5]),
              file=sys.stderr)
    print(f"{PROG}: wrote {cfg.out}.weights.h5 and {Path(f'{cfg.out}.json')} "
          f"({result.metadata['steps']} steps, {result.metadata['wall_seconds']:.0f} s).",
          file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, lambda a: train(parse_config(a), a), argv)


if __name__ == "__main__":
    sys.exit(main())
