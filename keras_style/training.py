"""The training library: :func:`fit` trains one network as a :class:`TrainConfig` says and
returns it with its metadata.  ``python -m keras_style.train``, the benchmarks and the
notebooks all use it.

Small parts, each usable alone: :func:`check_inputs` (everything that can be refused before
work), :func:`build_network` (the network: a Johnson-style or super-resolution network, or
one started from a pretrained network, ``init``), :func:`make_objective` (the perceptual or
pixel loss), :func:`make_train_step` (one optimizer step under a ``tf.distribute`` strategy:
the global batch split across replicas), :class:`Checkpoints` (resumable state) and
:class:`Reporter` (progress bar or log lines, TensorBoard, the caller's callback).
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from keras_style.errors import UsageError
from keras_style.nets import SR_UPSAMPLINGS  # noqa: F401 (train --sr-upsampling offers them)

PROG = "python -m keras_style.train"
TASKS = ("style", "super-resolution")
# Johnson et al. used VGG16 relu1_2, relu2_2, relu3_3, relu4_3 for style and relu2_2 for
# content; these are the same-named layers of VGG19.
JOHNSON_STYLE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
JOHNSON_CONTENT_LAYERS = ("block2_conv2",)
STYLE_LR, STYLE_TV = 1e-3, 1e-2
# Super-resolution networks start as bicubic (a zero-initialized residual on a bicubic
# skip); at Adam's 1e-3 the first steps overshoot and the loss oscillates around
# bicubic, at 1e-4 it falls steadily (100 steps on two 64² patches: 3.5e-3 -> 2.0e-3 MSE).
SR_LR, SR_TV = 1e-4, 0.0
# --init: the recipe the shipped networks were fine-tuned with, chosen by a measured
# comparison (weights/README.md); from scratch, Johnson et al.'s weights
FINETUNE_DEFAULTS = {"content_weight": 0.5, "style_weight": 2.0, "laplacian_weight": 3e6,
                     "trainable": "norms", "style_size": 256}
SCRATCH_DEFAULTS = {"content_weight": 1.0, "style_weight": 10.0, "laplacian_weight": 0.0,
                    "trainable": "all", "style_size": None}
TRAINABLE = ("all", "norms")
# --lr-decay without --lr-final ends at this fraction of --lr
LR_FINAL_FRACTION = 0.1
DISTRIBUTE = ("default", "mirrored")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run.  ``lr`` and ``tv_weight`` left at ``None`` take the
    task's defaults (style: 1e-3 and 1e-2; super-resolution: 1e-4 and 0); the loss weights,
    ``trainable`` and ``style_size`` left at ``None`` take :data:`FINETUNE_DEFAULTS` with
    ``init`` (the measured fine-tuning recipe) and :data:`SCRATCH_DEFAULTS` without; the same
    from Python as from the command line.  Impossible values raise :class:`UsageError`."""

    style: str | None
    data: str
    task: str = "style"
    factor: int = 4
    sr_upsampling: str = "nearest"
    sr_blocks: int = 4
    pixel_loss: bool = False
    blur_sigma: float = 1.0
    out: str = "style_net"
    steps: int = 2000
    batch_size: int = 4
    image_size: int = 256
    style_size: int | None = None
    lr: float | None = None
    lr_decay: int = 0
    lr_final: float | None = None
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float | None = None
    content_layers: tuple = JOHNSON_CONTENT_LAYERS
    style_layers: tuple = JOHNSON_STYLE_LAYERS
    style_tiles: int = 1
    laplacian_weight: float | None = None
    pixel_weight: float = 0.0
    loss_jitter: int = 0
    arch: str = "johnson"
    init: str | None = None
    trainable: str | None = None
    checkpoint_dir: str | None = None
    checkpoint_every: int = 100
    resume: bool = False
    log_dir: str | None = None
    log_every: int = 10
    sample_every: int = 200
    seed: int = 0
    device: str = "auto"
    distribute: str = "default"
    mixed_precision: bool = False
    holdout: str | None = None
    min_scale: float = 0.5
    threads: int = 0
    progress: bool = True

    def __post_init__(self):
        if self.task not in TASKS:
            raise UsageError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}.")
        sr = self.task == "super-resolution"
        defaults = {"lr": SR_LR if sr else STYLE_LR, "tv_weight": SR_TV if sr else STYLE_TV,
                    **(FINETUNE_DEFAULTS if self.init and not sr else SCRATCH_DEFAULTS)}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        for name in ("content_layers", "style_layers"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("steps", "batch_size", "image_size", "checkpoint_every", "log_every",
                     "sample_every", "style_tiles", "sr_blocks"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{_flag(name)} must be a positive integer, got "
                                 f"{getattr(self, name)}.")
        for name in ("lr", "content_weight", "style_weight", "tv_weight", "blur_sigma",
                     "laplacian_weight", "pixel_weight"):
            if not getattr(self, name) >= 0:
                raise UsageError(f"{_flag(name)} must not be negative, got "
                                 f"{getattr(self, name)}.")
        if not 0 < self.min_scale <= 1:
            raise UsageError("--min-scale must be at most 1 and above 0 (a fraction of the "
                             "photo's short side).")
        if self.trainable not in TRAINABLE:
            raise UsageError(f"--trainable must be one of {', '.join(TRAINABLE)}.")
        if self.distribute not in DISTRIBUTE:
            raise UsageError(f"--distribute must be one of {', '.join(DISTRIBUTE)}.")
        if not sr and self.sr_blocks != TrainConfig.sr_blocks:
            raise UsageError("--sr-blocks is for --task super-resolution.")
        if sr and self.trainable != "all":
            raise UsageError("--trainable norms is for style networks; a super-resolution "
                             "network has no normalization layers to train alone.")
        if int(self.lr_decay) < 0:
            raise UsageError(f"--lr-decay must be 0 (off) or a number of steps, got "
                             f"{self.lr_decay}.")
        if self.lr_final is not None:
            if not self.lr_decay:
                raise UsageError("--lr-final needs --lr-decay STEPS (the steps over which "
                                 "the learning rate falls to it).")
            if not 0 <= self.lr_final <= self.lr:
                raise UsageError(f"--lr-final must be between 0 and --lr ({self.lr:g}), got "
                                 f"{self.lr_final:g}.")
        elif self.lr_decay:
            object.__setattr__(self, "lr_final", self.lr * LR_FINAL_FRACTION)
        if not 0 <= int(self.loss_jitter) <= self.image_size // 4:
            raise UsageError(f"--loss-jitter must be between 0 and a quarter of --image-size "
                             f"({self.image_size // 4}), got {self.loss_jitter}.")

    def learning_rate(self):
        """Adam's learning rate: ``lr``, or with ``lr_decay`` a half-cosine from ``lr`` at
        this run's first step to ``lr_final`` at step ``lr_decay`` (and ``lr_final`` after).
        The schedule counts the optimizer's own steps, which a checkpoint keeps, so a
        resumed run goes on where it stopped."""
        if not self.lr_decay:
            return self.lr
        import keras

        return keras.optimizers.schedules.CosineDecay(
            self.lr, decay_steps=int(self.lr_decay),
            alpha=self.lr_final / self.lr if self.lr else 0.0)

    @property
    def ckpt_dir(self) -> Path:
        return Path(self.checkpoint_dir or f"{self.out}_ckpt")

    def loss_config(self):
        """The :class:`~keras_style.losses.LossConfig` this run trains with."""
        from keras_style.losses import LossConfig, equal_weights

        sr = self.task == "super-resolution"
        return LossConfig(content_layers=equal_weights(self.content_layers),
                          style_layers={} if sr else equal_weights(self.style_layers),
                          content_weight=self.content_weight, style_weight=self.style_weight,
                          tv_weight=self.tv_weight, reduction="mean", gram_normalization="chw",
                          pooling="max", style_tiles=self.style_tiles,
                          laplacian_weight=self.laplacian_weight,
                          pixel_weight=self.pixel_weight)


# What a run may change when it resumes: where it writes, how long it runs, how it logs and
# which hardware it uses. Every other TrainConfig field defines the training itself.
RESUMABLE_CHANGES = ("out", "steps", "checkpoint_dir", "checkpoint_every", "resume", "log_dir",
                     "log_every", "sample_every", "device", "distribute", "threads", "progress")


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
    # a setting that did not exist when the checkpoint was written had its default value
    # (resolved for the saved run's task and start network)
    defaults = run_identity(TrainConfig(style=saved.get("style"), data=saved.get("data", ""),
                                        task=saved.get("task", cfg.task),
                                        init=saved.get("init")))
    now = run_identity(cfg)
    saved = {**{k: defaults[k] for k in now if k in defaults}, **saved}
    changed = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if changed:
        flags = ", ".join(f"--{k.replace('_', '-')} (was {saved.get(k)!r}, now {now.get(k)!r})"
                          for k in changed)
        raise UsageError(f"--resume with different settings than the checkpointed run in "
                         f"{ckpt_dir}: {flags}. Resume with the original settings, or start a "
                         "new run in another --checkpoint-dir.")
    return previous


# --- before any work ------------------------------------------------------------------------

def check_outputs(cfg: TrainConfig):
    """``--out`` is a path prefix in a writable folder whose network files, if any, are a
    network's; the checkpoint and log folders are writable (folders that do not exist yet
    are created: ``--out runs/mine`` on a fresh clone works); nothing of the inputs is
    written.  See :func:`keras_style.outputs.plan_training_outputs`."""
    from keras_style.outputs import plan_training_outputs

    inputs = [p for p in (cfg.style, cfg.data, cfg.holdout) if p]
    return plan_training_outputs(cfg.out, cfg.checkpoint_dir, cfg.log_dir, inputs=inputs)


def saved_network(previous: dict) -> dict | None:
    """The description of the network being trained (``family``, ``architecture``,
    ``init``, ...) that a resumed run's progress (:func:`check_resume`) keeps, or ``None``
    (no checkpoint yet, or one written before runs kept it).  A run that has it resumes
    without its ``--init`` network: the checkpoint holds every weight, so a committed
    training state needs no copy of the network it started from."""
    record = previous.get("network") if isinstance(previous, dict) else None
    return record if isinstance(record, dict) and "architecture" in record else None


def check_inputs(cfg: TrainConfig, record: dict | None = None):
    """Everything that can be refused before training; returns the style image (or None).
    ``record`` is the resumed network's description (:func:`saved_network`): with it, the
    ``--init`` network is not read, as the run no longer needs it."""
    from keras_style import image as im
    from keras_style.nets.johnson import ARCHITECTURES, min_input_size
    from keras_style.vgg import canonical_layer_name

    if cfg.task == "style":
        if not cfg.style:
            raise UsageError("--style PAINTING is required to train a style network.")
        if cfg.init is None and cfg.arch not in ARCHITECTURES:
            raise UsageError(f"unknown --arch {cfg.arch!r}; choose one of "
                             f"{', '.join(ARCHITECTURES)}.")
        smallest = 32 if cfg.init else min_input_size(cfg.arch)
        if cfg.image_size < smallest:
            raise UsageError(f"--image-size must be at least {smallest} for this network.")
    else:
        if cfg.style:
            raise UsageError("--style is for --task style; super-resolution needs no painting.")
        if cfg.image_size < 8 * cfg.factor:
            raise UsageError(f"--image-size must be at least {8 * cfg.factor} for --factor "
                             f"{cfg.factor} (low-resolution patches of 8 px or more).")
        if cfg.init and record is None:
            _sr_init_metadata(cfg)
    for name in (*cfg.content_layers, *cfg.style_layers):
        try:
            canonical_layer_name(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if cfg.holdout and not Path(cfg.holdout).is_file():
        raise UsageError(f"--holdout {cfg.holdout}: no such file.")
    if cfg.task != "style":
        return None
    from keras_style.cli import check_style_tiles

    check_style_tiles(cfg.style_tiles, cfg.style_layers, cfg.image_size, cfg.image_size,
                      what="training crop")
    return im.load_image(cfg.style, max_size=cfg.style_size or cfg.image_size)


def load_data(cfg: TrainConfig):
    """The training photos (minus ``holdout``); refuses a folder in which nothing decodes."""
    from keras_style.data import ImageFolder, read_list
    from keras_style.errors import DataError

    exclude = read_list(cfg.holdout) if cfg.holdout else ()
    data = ImageFolder(cfg.data, size=cfg.image_size, seed=cfg.seed, min_scale=cfg.min_scale,
                       exclude=exclude)
    try:
        data.sample(0)  # decodes files until one works: fails here, not inside tf.data
    except DataError as exc:
        raise UsageError(f"--data {cfg.data}: {exc} (corrupt, or all smaller than 16 px)") \
            from None
    return data, list(exclude)


# --- the parts of a run -----------------------------------------------------------------------

def build_network(cfg: TrainConfig, style_image=None):
    """The network to train and the JSON entries describing it: ``family``,
    ``architecture``, ``architecture_name`` and, when started from a pretrained network,
    ``init`` (what it was and where it came from)."""
    if cfg.task == "super-resolution":
        from keras_style.nets.superres import build_super_resolution

        architecture = _sr_target(cfg)
        record = {"family": "superres", "architecture": architecture,
                  "architecture_name": f"sr_x{cfg.factor}"}
        if cfg.init:
            return _sr_start(cfg, record)
        return build_super_resolution(**architecture), record
    if cfg.init:
        from keras_style.finetune import initial_network

        return initial_network(cfg.init, style_image, cfg.trainable)
    from keras_style.nets.johnson import build_transformer, get_architecture

    model = build_transformer(cfg.arch)
    if cfg.trainable == "norms":
        from keras_style.finetune import train_only_norms

        train_only_norms(model)
    return model, {"family": "johnson", "architecture": get_architecture(cfg.arch).to_dict(),
                   "architecture_name": cfg.arch}


def _sr_target(cfg: TrainConfig) -> dict:
    """The ``architecture`` entry of the super-resolution network ``cfg`` trains."""
    from keras_style.nets.superres import sr_architecture

    return sr_architecture(cfg.factor, upsampling=cfg.sr_upsampling,
                           residual_blocks=cfg.sr_blocks)


def _check_sr_init(cfg: TrainConfig, meta: dict) -> dict:
    """``meta``, the JSON of ``--task super-resolution --init NET``, refused unless it
    describes a network of the run's architecture or one it can grow from (a smaller factor
    or fewer residual blocks: :func:`~keras_style.nets.superres.grow_super_resolution`)."""
    from keras_style.nets import family_of
    from keras_style.nets.superres import growth_problem

    if family_of(meta) != "superres":
        raise UsageError(f"--init {cfg.init}: not a super-resolution network.")
    problem = growth_problem(meta.get("architecture") or {}, _sr_target(cfg))
    if problem:
        raise UsageError(f"--init {cfg.init}: not a super-resolution network this run can "
                         f"start from (x{cfg.factor}, --sr-upsampling {cfg.sr_upsampling}, "
                         f"--sr-blocks {cfg.sr_blocks}): {problem}.")
    return meta


def _sr_init_metadata(cfg: TrainConfig) -> dict:
    """The checked JSON of the ``--init`` network, read before any folder is made."""
    from keras_style.errors import WeightsError
    from keras_style.networks import read_metadata, resolve

    try:
        meta = read_metadata(resolve(cfg.init)[0])
    except WeightsError as exc:
        raise UsageError(f"--init {cfg.init}: {exc}") from None
    return _check_sr_init(cfg, meta)


def _sr_start(cfg: TrainConfig, record: dict):
    """``--task super-resolution --init NET``: continue a trained super-resolution network of
    the run's architecture (for example a snapshot of a long run, with changed settings), or
    grow one of a smaller factor or with fewer residual blocks into it."""
    from keras_style.finetune import load_trained
    from keras_style.nets.superres import grow_super_resolution

    model, meta, init = load_trained(cfg.init)
    _check_sr_init(cfg, meta)
    init["loss"] = meta.get("loss_config")
    if meta["architecture"] != record["architecture"]:
        model, grown = grow_super_resolution(model, meta["architecture"], record["architecture"])
        init.update(architecture=meta["architecture"], grown=grown)
        print(f"{PROG}: --init {cfg.init}: grown from x{meta['architecture']['factor']} with "
              f"{meta['architecture']['residual_blocks']} residual blocks; added "
              f"{', '.join(grown['added'])}.", file=sys.stderr)
    return model, {**record, "init": init}


def loss_view(cfg: TrainConfig):
    """``view()`` for one training step: a function cropping images (the network's output
    and the photos, ``(N, H, W, C)``) to what the loss compares.  With ``loss_jitter = J``
    each step drops the same random ``0 … J`` rows and columns at the top left (and the
    rest up to ``J`` at the bottom right) of both, so the loss network's pooling grid meets
    the output at a random phase: a pattern the network draws in step with its upsampling
    stages cannot hide where VGG19's stride-2 pooling does not see it.  ``J = 0``: the
    whole image."""
    import tensorflow as tf

    jitter = int(cfg.loss_jitter)

    def view():
        if not jitter:
            return lambda images: images
        dy, dx = tf.unstack(tf.random.uniform([2], 0, jitter + 1, dtype=tf.int32))

        def crop(images):
            h, w = tf.shape(images)[1] - jitter, tf.shape(images)[2] - jitter
            return images[:, dy:dy + h, dx:dx + w]
        return crop
    return view


def make_objective(cfg: TrainConfig, loss, style_targets):
    """``objective(output, photos, targets) -> terms`` (``content``, ``style``, ``tv``,
    ``total``), with ``objective.targets(photos)``: what the loss compares the output with,
    computed once per batch and outside the gradient tape (no gradient flows through the
    photos' own VGG features, so the tape need not keep that pass)."""
    import tensorflow as tf

    from keras_style.losses import total_variation_loss

    pixel = cfg.task == "super-resolution" and cfg.pixel_loss

    def objective(out, batch, targets):
        if pixel:
            content = cfg.content_weight * tf.reduce_mean(tf.square(out - batch))
            tv = cfg.tv_weight * total_variation_loss(out)
            return {"content": content, "style": tf.constant(0.0), "tv": tv,
                    "total": content + tv}
        return loss(out, targets, style_targets)

    objective.targets = (lambda batch: batch) if pixel else loss.content_targets
    objective.view = loss_view(cfg)
    return objective


def make_model_input(cfg: TrainConfig):
    """What the network sees of a batch of photos: the photos, or their low-resolution
    versions (blur, then bicubic downsampling) for super-resolution."""
    from keras_style.data import degrade

    if cfg.task == "super-resolution":
        return lambda batch: degrade(batch, cfg.factor, cfg.blur_sigma)
    return lambda batch: batch


def make_train_step(model, optimizer, objective, model_input, strategy=None):
    """One training step as a ``tf.function`` of a (distributed) batch.

    Under ``strategy`` each replica computes the loss of its share of the global batch,
    scaled by ``1 / replicas``; the optimizer sums the replicas' gradients, so the update is
    the gradient of the global batch's mean loss, the same as on one device.  Returns the
    loss terms averaged over the replicas.  This is the step ``fit`` runs and
    ``benchmarks/fast.py`` times.
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync

    view_of = objective.view  # make_objective sets it: the loss view of each step

    def replica_step(batch):
        inputs = model_input(batch)
        view = view_of()  # the loss's crop of this step (see loss_view)
        seen = view(batch)
        targets = objective.targets(seen)
        with tf.GradientTape() as tape:
            out = model(inputs, training=True)
            terms = objective(view(out), seen, targets)
            scaled = terms["total"] / replicas
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return terms

    @tf.function(reduce_retracing=True)
    def step(batch):
        terms = strategy.run(replica_step, args=(batch,))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                for k, v in terms.items()}
    return step


def make_strategy(cfg: TrainConfig):
    """``tf.distribute`` strategy: the default one (one device, as chosen by ``device``) or
    ``MirroredStrategy`` over every GPU (every logical CPU when there is none)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if cfg.device == "gpu" and not gpus:
        raise UsageError("--device gpu: TensorFlow sees no GPU on this machine.")
    if cfg.distribute == "mirrored":
        devices = [d.name for d in (gpus if gpus and cfg.device != "cpu" else
                                    tf.config.list_logical_devices("CPU"))]
        if cfg.batch_size % len(devices):
            raise UsageError(f"--batch-size {cfg.batch_size} does not split evenly over "
                             f"{len(devices)} devices.")
        return tf.distribute.MirroredStrategy(devices), devices[0]
    device = "/GPU:0" if gpus and cfg.device != "cpu" else "/CPU:0"
    return tf.distribute.OneDeviceStrategy(device), device


def batch_stream(strategy, dataset):
    """Global batches from ``dataset``, each split into one share per replica.

    Not ``strategy.experimental_distribute_dataset``: its multi-device iterator, over a
    dataset fed by a Python generator, can deadlock when it is destroyed (its prefetch thread
    waits for the interpreter lock the destroying thread holds; seen after the last step of a
    run).  With one replica the batches pass through untouched.
    """
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    for batch in dataset:
        if replicas == 1:
            yield batch
            continue
        shares = tf.split(batch, replicas)
        yield strategy.experimental_distribute_values_from_function(
            lambda ctx, shares=shares: shares[ctx.replica_id_in_sync_group])


class Checkpoints:
    """The resumable state of a run: network, optimizer and step (``tf.train.Checkpoint``,
    the last two kept) plus ``progress.json`` (wall time, last terms, the run's settings)."""

    def __init__(self, cfg: TrainConfig, model, optimizer, network: dict | None = None):
        import tensorflow as tf

        self.cfg, self.dir, self.network = cfg, cfg.ckpt_dir, network
        self.step = tf.Variable(0, dtype=tf.int64, name="step")
        self.ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=self.step)
        self.manager = tf.train.CheckpointManager(self.ckpt, str(self.dir), max_to_keep=2)

    def restore(self) -> int:
        """Load the latest checkpoint (``--resume``) and return its step; a damaged one is
        named, with the older checkpoint that can be resumed instead."""
        from keras_style.outputs import restore_checkpoint

        if not self.cfg.resume:
            if self.manager.latest_checkpoint:
                raise UsageError(f"{self.dir} already holds checkpoints; pass --resume to "
                                 "continue or choose another --checkpoint-dir.")
            return 0
        self.restored = restore_checkpoint(self.ckpt, self.manager)
        return int(self.step.numpy())

    def save(self, wall: float, last: dict):
        from keras_style.files import atomic_path, write_error

        step = int(self.step.numpy())
        try:
            self.manager.save(checkpoint_number=step)
        except OSError as exc:
            raise write_error(self.dir / f"ckpt-{step}", exc) from None
        with atomic_path(self.dir / "progress.json") as tmp:
            tmp.write_text(json.dumps({"step": step, "wall_seconds": wall, "last_terms": last,
                                       "config": run_identity(self.cfg),
                                       "network": self.network}, default=str))


class Reporter:
    """Where each step's loss terms go: the caller's callback, a progress bar (or log lines),
    TensorBoard scalars and validation images."""

    def __init__(self, cfg: TrainConfig, start: int, callback=None, val_images=None,
                 model=None):
        import tensorflow as tf

        self.cfg, self.callback, self.model, self.val = cfg, callback, model, val_images
        self.writer = tf.summary.create_file_writer(cfg.log_dir) if cfg.log_dir else None
        self.bar = None
        if cfg.progress:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=cfg.steps, initial=start, desc="train", unit="step",
                            dynamic_ncols=True)

    def step(self, step: int, values: dict, wall: float):
        import tensorflow as tf

        cfg = self.cfg
        if self.callback is not None:
            self.callback(step, values, wall)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
        elif step % cfg.log_every == 0 or step == cfg.steps:
            print(f"step {step}/{cfg.steps} " + " ".join(
                f"{k}={v:.4g}" for k, v in values.items()) + f" wall={wall:.0f}s", flush=True)
        if self.writer is not None and step % cfg.log_every == 0:
            with self.writer.as_default(step=step):
                for k, v in values.items():
                    tf.summary.scalar(f"loss/{k}", v)
        if self.writer is not None and self.val is not None and step % cfg.sample_every == 0:
            with self.writer.as_default(step=step):
                tf.summary.image("validation", self.model(self.val, training=False),
                                 max_outputs=len(self.val))

    def close(self):
        if self.bar is not None:
            self.bar.close()


# --- the run ------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What :func:`fit` returns: the network, the JSON record to save with it, and the exit
    status (0 finished, 3 the loss became NaN, 143 stopped by SIGTERM; on 3 and 143 the last
    checkpoint is the state to keep)."""

    model: object
    metadata: dict
    status: int = 0
    message: str = ""
    history: list = field(default_factory=list)


def _setup_tensorflow(cfg: TrainConfig):
    import keras
    import tensorflow as tf

    from keras_style.cli import quiet_tensorflow

    quiet_tensorflow()
    if cfg.threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
            tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
        except RuntimeError:  # a second run in this process: its pools are already fixed
            pass
    strategy, device = make_strategy(cfg)
    if cfg.mixed_precision:
        keras.mixed_precision.set_global_policy(
            "mixed_float16" if device.startswith("/GPU") else "mixed_bfloat16")
    keras.utils.set_random_seed(cfg.seed)
    return strategy


def _totals(init, steps: int, wall: float) -> dict:
    """``total_steps`` and ``total_wall_seconds`` of a run that continued a trained network
    (``--init NET``): its own plus what the start network had seen in all; nothing for a
    run from scratch or from a pretrained Magenta network (whose training is not ours)."""
    if not init or "total_steps" not in init:
        return {}
    return {"total_steps": steps + int(init["total_steps"]),
            "total_wall_seconds": round(wall + float(init["total_wall_seconds"]), 1)}


def _metadata(cfg, network_record, data, held_out, steps, wall, last, loss_cfg, argv):
    import keras
    import tensorflow as tf

    sr = cfg.task == "super-resolution"
    return {
        "name": Path(cfg.out).name, "task": cfg.task, **network_record,
        "style_image": Path(cfg.style).name if cfg.style else None,
        "data": str(cfg.data), "training_images": len(data), "held_out": held_out,
        "skipped_files": sorted(str(p) for p in data.skipped),
        "steps": steps, "wall_seconds": round(wall, 1),
        **_totals(network_record.get("init"), steps, wall), "final_loss": last,
        "loss": {"kind": "pixel" if (sr and cfg.pixel_loss) else "perceptual",
                 "content_layers": list(cfg.content_layers),
                 "style_layers": [] if sr else list(cfg.style_layers),
                 "reduction": loss_cfg.reduction,
                 "gram_normalization": loss_cfg.gram_normalization,
                 "style_tiles": loss_cfg.style_tiles},
        "loss_config": loss_cfg.to_dict(),
        "hyperparameters": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in asdict(cfg).items() if k not in ("progress", "resume")},
        "command": PROG + " " + " ".join(sys.argv[1:] if argv is None else map(str, argv)),
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
    }


def _loop(cfg, step_fn, stream, checkpoints, reporter, start, wall, last):
    """Run steps ``start + 1 .. cfg.steps``; returns ``(status, message, wall, last)``."""
    stop = {"flag": False}
    old_handler = signal.signal(signal.SIGTERM, lambda signum, frame: stop.update(flag=True))
    t_prev = time.perf_counter()
    try:
        for step in range(start + 1, cfg.steps + 1):
            values = {k: float(v) for k, v in step_fn(next(stream)).items()}
            if not all(math.isfinite(v) for v in values.values()):
                return 3, (f"the loss became {values['total']} at step {step}; stopping. The "
                           f"last good checkpoint in {checkpoints.dir} is kept (try a lower "
                           "--lr)."), wall, last
            checkpoints.step.assign(step)
            now = time.perf_counter()
            wall, t_prev, last = wall + now - t_prev, now, values
            reporter.step(step, values, wall)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps or stop["flag"]:
                checkpoints.save(wall, last)
            if stop["flag"]:
                return 143, f"stopped by SIGTERM at step {step}; resume with --resume.", \
                    wall, last
    finally:
        signal.signal(signal.SIGTERM, old_handler)
        reporter.close()
    return 0, "", wall, last


def _rebuild(cfg: TrainConfig, record: dict):
    """The untrained network ``record`` describes, with the run's trainable weights."""
    from keras_style.networks import build_from_metadata

    model = build_from_metadata(record)
    if cfg.trainable == "norms":
        from keras_style.finetune import train_only_norms

        train_only_norms(model)
    return model


def fit(cfg: TrainConfig, callback=None, argv=None) -> TrainResult:
    """Train the network ``cfg`` describes; return it with its metadata and status.

    ``callback(step, terms, wall_seconds)`` is called after every step with the step
    number, the loss terms of that step's batch (floats: ``content``, ``style``, ``tv``,
    ``total``) and the training wall time so far, e.g. to plot the loss live.  Bad settings
    raise :class:`UsageError` before any work; nothing is written but the checkpoints.
    """
    previous = check_resume(cfg, cfg.ckpt_dir) if cfg.resume else {}
    record = saved_network(previous)
    style_image = check_inputs(cfg, record)
    data, held_out = load_data(cfg)
    check_outputs(cfg)  # after the inputs: a refused run leaves no folder behind
    strategy = _setup_tensorflow(cfg)
    import keras

    from keras_style.losses import PerceptualLoss

    loss_cfg = cfg.loss_config()
    with strategy.scope():
        if record is None:
            model, record = build_network(cfg, style_image)
        else:  # resuming: the checkpoint restores every weight over this
            model = _rebuild(cfg, record)
        loss = PerceptualLoss(loss_cfg)
        style_targets = {} if cfg.task != "style" else loss.style_targets(style_image)
        optimizer = keras.optimizers.Adam(learning_rate=cfg.learning_rate())
        optimizer.build(model.trainable_variables)
        checkpoints = Checkpoints(cfg, model, optimizer, record)
    start = checkpoints.restore()
    if cfg.resume:
        print(f"{PROG}: resumed from {checkpoints.restored} at step {start}.", file=sys.stderr)
    if start >= cfg.steps:
        print(f"{PROG}: the checkpoint is already at step {start} >= --steps {cfg.steps}; "
              "writing the network.", file=sys.stderr)
    model_input = make_model_input(cfg)
    step_fn = make_train_step(model, optimizer, make_objective(cfg, loss, style_targets),
                              model_input, strategy)
    stream = batch_stream(strategy, data.dataset(cfg.batch_size, start=start * cfg.batch_size))
    val = None
    if cfg.log_dir:
        import numpy as np
        val = model_input(np.stack([data.sample(10_000_000 + i) for i in range(3)]))
    reporter = Reporter(cfg, start, callback, val, model)
    status, message, wall, last = _loop(cfg, step_fn, stream, checkpoints, reporter, start,
                                        float(previous.get("wall_seconds", 0.0)),
                                        previous.get("last_terms", {}))
    metadata = _metadata(cfg, record, data, held_out, int(checkpoints.step.numpy()), wall,
                         last, loss_cfg, argv)
    return TrainResult(model, metadata, status, message)
