"""Train a fast style transfer network (Johnson et al. 2016).

    python -m keras_style.train --style painting.jpg --data photos/ --out runs/mine --steps 2000

Writes ``runs/mine.weights.h5`` and ``runs/mine.json`` (load with
``keras_style.load_model("runs/mine")`` or ``python -m keras_style.stylize photo.jpg --model
runs/mine``).  Checkpoints go to ``--checkpoint-dir`` (default ``PREFIX_ckpt/``) every
``--checkpoint-every`` steps; ``--resume`` continues a killed run from its last checkpoint with
the same step, optimizer state and position in the data stream.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from keras_style.cli import (Parser, UsageError, formatter, non_negative_float, positive_float,
                             positive_int, quiet_tensorflow, run)

PROG = "python -m keras_style.train"

# Johnson et al. used VGG16 relu1_2, relu2_2, relu3_3, relu4_3 for style and relu2_2 for
# content; these are the same-named layers of VGG19.
JOHNSON_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
JOHNSON_CONTENT_LAYERS = ("block2_conv2",)


TASKS = ("style", "super-resolution")


@dataclass(frozen=True)
class TrainConfig:
    style: str | None
    data: str
    task: str = "style"
    factor: int = 4
    pixel_loss: bool = False
    blur_sigma: float = 1.0
    out: str = "style_net"
    steps: int = 2000
    batch_size: int = 4
    image_size: int = 256
    style_size: int | None = None
    lr: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 1e-2
    content_layers: tuple = JOHNSON_CONTENT_LAYERS
    style_layers: tuple = JOHNSON_STYLE_LAYERS
    style_tiles: int = 1
    arch: str = "johnson"
    checkpoint_dir: str | None = None
    checkpoint_every: int = 100
    resume: bool = False
    log_dir: str | None = None
    log_every: int = 10
    sample_every: int = 200
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = False
    holdout: str | None = None
    min_scale: float = 0.5
    threads: int = 0
    progress: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def ckpt_dir(self) -> Path:
        return Path(self.checkpoint_dir or f"{self.out}_ckpt")


# Super-resolution networks start as bicubic (a zero-initialized residual on a bicubic
# skip); at Adam's 1e-3 the first steps overshoot and the loss oscillates around
# bicubic, at 1e-4 it falls steadily (100 steps on two 64² patches: 3.5e-3 -> 2.0e-3 MSE).
SR_LR = 1e-4


def build_parser() -> Parser:
    d = TrainConfig(style="", data="")
    p = Parser(prog=PROG, formatter_class=formatter,
               description="Train a feed-forward style transfer network, or a super-resolution "
                           "network, with perceptual losses (Johnson et al. 2016) on a folder "
                           "of photos.")
    p.add_argument("--task", choices=TASKS, default=d.task,
                   help="style transfer, or super-resolution (then --factor, no --style)")
    p.add_argument("--style", default=None, help="the style image (a painting; --task style)")
    p.add_argument("--factor", type=int, choices=(2, 4, 8), default=d.factor,
                   help="super-resolution: upscaling factor")
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
                   help="long side the style image is resized to, px (default: --image-size)")
    p.add_argument("--lr", type=positive_float, default=None,
                   help=f"Adam learning rate (default: {d.lr} for style, {SR_LR} for "
                        "super-resolution)")
    p.add_argument("--content-weight", type=non_negative_float, default=d.content_weight)
    p.add_argument("--style-weight", type=non_negative_float, default=d.style_weight)
    p.add_argument("--tv-weight", type=non_negative_float, default=None,
                   help=f"default: {d.tv_weight} for style, 0 for super-resolution")
    p.add_argument("--content-layers", nargs="+", default=list(d.content_layers),
                   help="VGG19 layers for the content loss")
    p.add_argument("--style-layers", nargs="+", default=list(d.style_layers),
                   help="VGG19 layers for the style loss (equally weighted)")
    p.add_argument("--style-tiles", type=positive_int, default=d.style_tiles,
                   help="compare the Gram matrices of an N x N grid of tiles of each style "
                        "layer with the painting's, instead of one Gram matrix per image: "
                        "every region must carry the style, so a few saturated blobs no "
                        "longer satisfy it (1: the papers' global Gram matrix)")
    p.add_argument("--arch", default=d.arch,
                   help="style network: johnson | johnson_in | johnson_up | light "
                        "(ignored for super-resolution)")
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
    p.add_argument("--mixed-precision", action="store_true",
                   help="bfloat16 on CPU / float16 on GPU for the network and VGG")
    p.add_argument("--threads", type=int, default=d.threads,
                   help="CPU threads for TensorFlow (0: all cores)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar (log lines instead)")
    return p


def parse_config(argv) -> TrainConfig:
    args = build_parser().parse_args(argv)
    kw = vars(args)
    if kw["tv_weight"] is None:
        kw["tv_weight"] = 0.0 if kw["task"] == "super-resolution" else TrainConfig.tv_weight
    if kw["lr"] is None:
        kw["lr"] = SR_LR if kw["task"] == "super-resolution" else TrainConfig.lr
    kw["content_layers"] = tuple(kw["content_layers"])
    kw["style_layers"] = tuple(kw["style_layers"])
    if kw["min_scale"] > 1:
        raise UsageError("--min-scale must be at most 1.")
    return TrainConfig(**kw)


# What a run may change when it resumes: where it writes, how long it runs, how it logs and
# which hardware it uses. Every other TrainConfig field defines the training itself.
RESUMABLE_CHANGES = ("out", "steps", "checkpoint_dir", "checkpoint_every", "resume", "log_dir",
                     "log_every", "sample_every", "device", "threads", "progress", "extra")


def run_identity(cfg: TrainConfig) -> dict:
    """The fields that define a training run, as JSON-ready values.  Paths stay as given, so
    the same command resumes in a clone moved elsewhere (or on another machine)."""
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(cfg).items() if key not in RESUMABLE_CHANGES}


def check_resume(cfg: TrainConfig, ckpt_dir: Path) -> dict:
    """The saved progress of the run to resume; refuses flags that would change the run (a
    network half trained with one loss and half with another, under the JSON of the last)."""
    path = ckpt_dir / "progress.json"
    if not path.exists():
        return {}
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable ({exc}); cannot resume from it.") from None
    saved = previous.get("config")
    if saved is None:  # written before runs recorded their settings
        return previous
    now = run_identity(cfg)
    changed = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if changed:
        flags = ", ".join(f"--{k.replace('_', '-')} (was {saved.get(k)!r}, now {now.get(k)!r})"
                          for k in changed)
        raise UsageError(f"--resume with different settings than the checkpointed run in "
                         f"{ckpt_dir}: {flags}. Resume with the original settings, or start a "
                         "new run in another --checkpoint-dir.")
    return previous


def _validate(cfg: TrainConfig):
    """Check the inputs before any training starts; return the style image (or None)."""
    from keras_style import image as im
    from keras_style.nets.johnson import ARCHITECTURES, min_input_size
    from keras_style.vgg import canonical_layer_name

    if cfg.task == "style":
        if not cfg.style:
            raise UsageError("--style PAINTING is required to train a style network.")
        if cfg.arch not in ARCHITECTURES:
            raise UsageError(f"unknown --arch {cfg.arch!r}; choose one of "
                             f"{', '.join(ARCHITECTURES)}.")
        if cfg.image_size < min_input_size(cfg.arch):
            raise UsageError(f"--image-size must be at least {min_input_size(cfg.arch)} "
                             f"for {cfg.arch}.")
    else:
        if cfg.style:
            raise UsageError("--style is for --task style; super-resolution needs no painting.")
        if cfg.image_size < 8 * cfg.factor:
            raise UsageError(f"--image-size must be at least {8 * cfg.factor} for --factor "
                             f"{cfg.factor} (low-resolution patches of 8 px or more).")
    for name in (*cfg.content_layers, *cfg.style_layers):
        try:
            canonical_layer_name(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    out = Path(cfg.out)
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"cannot write {out}.*: folder {parent} does not exist.")
    if cfg.holdout and not Path(cfg.holdout).is_file():
        raise UsageError(f"--holdout {cfg.holdout}: no such file.")
    if cfg.task != "style":
        return None
    return im.load_image(cfg.style, max_size=cfg.style_size or cfg.image_size)


def _select_device(choice: str) -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if choice == "gpu" and not gpus:
        raise UsageError("--device gpu: TensorFlow sees no GPU on this machine.")
    return "/GPU:0" if gpus and choice != "cpu" else "/CPU:0"


def train(cfg: TrainConfig, argv=None, callback=None) -> int:
    """Train one network as ``cfg`` says; return the exit code (0 when it was written).

    ``callback(step, terms, wall_seconds)``, when given, is called after every step with
    the step number, the loss terms of that step's batch (floats: ``content``, ``style``,
    ``tv``, ``total``) and the training wall time so far, e.g. to plot the loss live.
    """
    quiet_tensorflow()
    style_image = _validate(cfg)
    from keras_style.data import ImageFolder, read_list

    exclude = read_list(cfg.holdout) if cfg.holdout else ()
    data = ImageFolder(cfg.data, size=cfg.image_size, seed=cfg.seed, min_scale=cfg.min_scale,
                       exclude=exclude)
    ckpt_dir = cfg.ckpt_dir
    previous = check_resume(cfg, ckpt_dir) if cfg.resume else {}
    if cfg.resume and not (ckpt_dir / "checkpoint").exists():
        raise UsageError(f"--resume: no checkpoint in {ckpt_dir}.")

    import keras
    import numpy as np
    import tensorflow as tf

    from keras_style.data import degrade
    from keras_style.losses import (LossConfig, PerceptualLoss, equal_weights,
                                    total_variation_loss)
    from keras_style.networks import save_network
    from keras_style.nets.johnson import build_transformer, get_architecture
    from keras_style.nets.superres import build_super_resolution, sr_architecture

    if cfg.threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
        tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
    device = _select_device(cfg.device)
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy(
            "mixed_float16" if device.startswith("/GPU") else "mixed_bfloat16")
    keras.utils.set_random_seed(cfg.seed)

    sr = cfg.task == "super-resolution"
    loss_cfg = LossConfig(content_layers=equal_weights(cfg.content_layers),
                          style_layers={} if sr else equal_weights(cfg.style_layers),
                          content_weight=cfg.content_weight, style_weight=cfg.style_weight,
                          tv_weight=cfg.tv_weight, reduction="mean", gram_normalization="chw",
                          pooling="max", style_tiles=cfg.style_tiles)
    with tf.device(device):
        if sr:
            architecture = sr_architecture(cfg.factor)
            model = build_super_resolution(**architecture)
        else:
            architecture = get_architecture(cfg.arch).to_dict()
            model = build_transformer(cfg.arch)
        loss = PerceptualLoss(loss_cfg)
        style_targets = {} if sr else loss.style_targets(style_image)
        optimizer = keras.optimizers.Adam(learning_rate=cfg.lr)
        optimizer.build(model.trainable_variables)
        step_var = tf.Variable(0, dtype=tf.int64, name="step")
        ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
        manager = tf.train.CheckpointManager(ckpt, str(ckpt_dir), max_to_keep=2)
        if cfg.resume:
            ckpt.restore(manager.latest_checkpoint).expect_partial()
            print(f"{PROG}: resumed from {manager.latest_checkpoint} at step "
                  f"{int(step_var.numpy())}.", file=sys.stderr)
        elif manager.latest_checkpoint:
            raise UsageError(f"{ckpt_dir} already holds checkpoints; pass --resume to continue "
                             "or choose another --checkpoint-dir.")

        def model_input(batch):
            """What the network sees: the photo, or its degraded low-resolution version."""
            return degrade(batch, cfg.factor, cfg.blur_sigma) if sr else batch

        def objective(out, batch):
            if sr and cfg.pixel_loss:
                content = cfg.content_weight * tf.reduce_mean(tf.square(out - batch))
                tv = cfg.tv_weight * total_variation_loss(out)
                return {"content": content, "style": tf.constant(0.0), "tv": tv,
                        "total": content + tv}
            return loss(out, loss.content_targets(batch), style_targets)

        @tf.function(reduce_retracing=True)
        def train_step(batch):
            inputs = model_input(batch)
            with tf.GradientTape() as tape:
                out = model(inputs, training=True)
                terms = objective(out, batch)
            grads = tape.gradient(terms["total"], model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return terms

        start_step = int(step_var.numpy())
        if start_step >= cfg.steps:
            print(f"{PROG}: the checkpoint is already at step {start_step} >= --steps "
                  f"{cfg.steps}; writing the network.", file=sys.stderr)
        stream = iter(data.dataset(cfg.batch_size, start=start_step * cfg.batch_size))
        writer = tf.summary.create_file_writer(cfg.log_dir) if cfg.log_dir else None
        val_images = None
        if writer is not None:
            val_images = model_input(np.stack([data.sample(10_000_000 + i) for i in range(3)]))

        meta_path = Path(f"{cfg.out}.json")
        wall = float(previous.get("wall_seconds", 0.0))
        bar = None
        if cfg.progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=cfg.steps, initial=start_step, desc="train", unit="step",
                       dynamic_ncols=True)

        stop = {"flag": False}

        def on_term(signum, frame):
            stop["flag"] = True

        old_handler = signal.signal(signal.SIGTERM, on_term)

        def save_checkpoint():
            manager.save(checkpoint_number=int(step_var.numpy()))
            tmp = ckpt_dir / "progress.json.tmp"
            tmp.write_text(json.dumps({"step": int(step_var.numpy()), "wall_seconds": wall,
                                       "last_terms": last, "config": run_identity(cfg)}))
            tmp.replace(ckpt_dir / "progress.json")

        last = previous.get("last_terms", {})
        t_prev = time.perf_counter()
        try:
            for step in range(start_step + 1, cfg.steps + 1):
                batch = next(stream)
                terms = train_step(batch)
                values = {k: float(v) for k, v in terms.items()}
                if not all(math.isfinite(v) for v in values.values()):
                    print(f"{PROG}: error: the loss became {values['total']} at step {step}; "
                          f"stopping. The last good checkpoint in {ckpt_dir} is kept "
                          "(try a lower --lr).", file=sys.stderr)
                    return 3
                step_var.assign(step)
                now = time.perf_counter()
                wall += now - t_prev
                t_prev = now
                last = values
                if callback is not None:
                    callback(step, values, wall)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
                elif step % cfg.log_every == 0 or step == cfg.steps:
                    print(f"step {step}/{cfg.steps} " + " ".join(
                        f"{k}={v:.4g}" for k, v in values.items()) + f" wall={wall:.0f}s",
                        flush=True)
                if writer is not None and step % cfg.log_every == 0:
                    with writer.as_default(step=step):
                        for k, v in values.items():
                            tf.summary.scalar(f"loss/{k}", v)
                if writer is not None and step % cfg.sample_every == 0:
                    with writer.as_default(step=step):
                        tf.summary.image("validation", model(val_images, training=False),
                                         max_outputs=len(val_images))
                if step % cfg.checkpoint_every == 0 or step == cfg.steps or stop["flag"]:
                    save_checkpoint()
                if stop["flag"]:
                    print(f"{PROG}: stopped by SIGTERM at step {step}; resume with --resume.",
                          file=sys.stderr)
                    return 143
        finally:
            signal.signal(signal.SIGTERM, old_handler)
            if bar is not None:
                bar.close()

        metadata = {
            "name": Path(cfg.out).name,
            "task": cfg.task,
            "architecture_name": f"sr_x{cfg.factor}" if sr else cfg.arch,
            "architecture": architecture,
            "style_image": Path(cfg.style).name if cfg.style else None,
            "data": str(cfg.data),
            "training_images": len(data),
            "held_out": list(exclude),
            "skipped_files": sorted(str(p) for p in data.skipped),
            "steps": int(step_var.numpy()),
            "wall_seconds": round(wall, 1),
            "final_loss": last,
            "loss": {"kind": "pixel" if (sr and cfg.pixel_loss) else "perceptual",
                     "content_layers": list(cfg.content_layers),
                     "style_layers": [] if sr else list(cfg.style_layers),
                     "reduction": loss_cfg.reduction,
                     "gram_normalization": loss_cfg.gram_normalization,
                     "style_tiles": loss_cfg.style_tiles},
            "hyperparameters": {k: v for k, v in asdict(cfg).items()
                                if k not in ("progress", "extra", "resume")},
            "command": PROG + " " + " ".join(sys.argv[1:] if argv is None else argv),
            "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__,
        }
        save_network(model, cfg.out, metadata)
    if data.skipped:
        print(f"{PROG}: skipped {len(data.skipped)} unreadable file(s): "
              + ", ".join(str(p) for p in sorted(data.skipped)[:5]), file=sys.stderr)
    print(f"{PROG}: wrote {cfg.out}.weights.h5 and {meta_path} "
          f"({int(step_var.numpy())} steps, {wall:.0f} s).", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    return run(PROG, lambda a: train(parse_config(a), a), argv)


if __name__ == "__main__":
    sys.exit(main())
