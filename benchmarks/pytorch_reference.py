"""PyTorch reference figures for the same work, measured on this machine (benchmark-only tool).

    pip install torch==2.13.0                            # CPU build; NOT a dependency of the package
    python benchmarks/pytorch_reference.py               # full size, 1 thread (about 5 minutes)
    python benchmarks/pytorch_reference.py --sizes 64 --net-sizes 64 --train-size 64 \
        --batch-size 1 --repeats 2                       # a smoke test
    python benchmarks/pytorch_reference.py --works train-sr --sr-factor 4   # SR step only

GUIDE §4's PyTorch figures were measured on a CPU with AVX-512; the tables of ``gatys.py`` and
``fast.py`` (also its ``--sr-factors`` rows) need PyTorch measured on the machine they run on,
side by side.  This script measures, with PyTorch only (no torchvision, no TensorFlow; of
keras_style only the light command-line helpers of ``keras_style.cli``):

``gatys``  a Gatys step: VGG19 (conv stack defined here: 3×3 convs, padding 1, ReLU, max
           pooling) up to conv5_2 (= Keras ``block5_conv2``), forward on a 1×3×S×S input that
           requires grad, a scalar loss, backward to the input.  Two losses (``--gatys-losses``):
           ``gram`` = sum of the mean Gram-matrix entries of conv1_1…conv5_1 + mean of conv5_2;
           ``bare`` = mean(conv5_2²), exactly the loss of ``gatys.py``'s ``vgg`` row;
``infer``  the talk's Johnson transformation network (TALK.md §6, as ``keras_style``'s
           ``johnson`` architecture: reflection pad 40, 9×9/32 (reflection pad 4), 3×3/64 s2,
           3×3/128 s2, five residual blocks of unpadded 3×3 convs with centre-cropped shortcut,
           transposed convs 64 and 32 (stride 2, padding 1, output_padding 1), 9×9/3
           (reflection pad 4), batch norm, (tanh + 1) / 2), eval mode, under
           ``torch.inference_mode()``, batch 1;
``train``  a Johnson training step: the network in train mode, VGG19 to conv4_3 forward on its
           output and (under ``no_grad``) on the batch for the content targets, style Gram loss
           (C·H·W-normalised) on relu1_2, relu2_2, relu3_3, relu4_3, content loss on relu2_2,
           total variation, weights 1 / 10 / 1e-2 (``keras_style.train``'s defaults), Adam
           (lr 1e-3) step, then ``loss.item()`` (``train.py`` reads its losses with ``float``);
``train-sr`` a super-resolution training step, as ``python -m keras_style.train --task
           super-resolution --factor F --sr-upsampling bilinear --loss-jitter 3
           --pixel-weight 1e6`` runs it: the network of ``keras_style``'s
           ``build_super_resolution(**sr_architecture(F, upsampling="bilinear"))``
           (reflection pad 4, 9×9/64, ReLU; four residual blocks of two reflection-padded
           3×3/64 convs, ReLU between, identity shortcut; log2(F) stages of ×2 bilinear
           upsampling (half-pixel centres) + reflection-padded 3×3/64 + ReLU; reflection pad
           4, 9×9/3 initialised to zero, plus the bicubic ×F enlargement of the input; linear
           output; no normalization), in train mode.  Each step degrades the batch of HR
           crops (``--train-size``², default 128) under ``no_grad`` as
           ``keras_style.data.degrade`` does (Gaussian blur σ=1, 7 taps, reflected borders,
           then bicubic downsampling by F), runs the network, crops output and HR batch alike
           by a random 0–3 px (the loss jitter), VGG19 to conv2_2 on the output and (under
           ``no_grad``) on the HR batch, loss = MSE(relu2_2) + 1e6 × pixel MSE, an Adam
           (lr 1e-4, eps 1e-7 as Keras's) step, then ``loss.item()``.  The table's sanity
           column gives the network's parameter count (= the Keras network's
           ``count_params()``: 400,451 for ×4).

Weights are random (He-normal for VGG19, PyTorch's default init for the Johnson net, Keras's
Glorot-uniform for the super-resolution net): speed does not depend on their values.  Every
configuration runs in a fresh subprocess (this script re-invokes itself with a hidden
``--one``), so each row's peak RSS is its own.  Each row is the median (and min–max) of
``--repeats`` timed calls after ``--warmup`` untimed ones.  Threads: ``--threads N`` (default
1) sets ``torch.set_num_threads`` and ``set_num_interop_threads`` and OMP/MKL_NUM_THREADS in
the child before torch is imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

from keras_style.cli import Parser, formatter, non_negative_int, positive_int

from _common import (SR_FACTORS, SR_RECIPE, TRAIN_SIZES, cpu_description, current_rss_mib,
                     emit_result, fmt_s, log, markdown_table, run_child, run_jobs, spread)

PROG = "python benchmarks/pytorch_reference.py"
WORKS = ("gatys", "infer", "train", "train-sr")
SR_JITTER, SR_PIXEL_WEIGHT, SR_LR = (SR_RECIPE[k] for k in ("loss_jitter", "pixel_weight", "lr"))
GATYS_LOSSES = ("gram", "bare")

# VGG19's convolutional stack ("M" = 2×2 max pooling), and the layer names after each ReLU.
VGG19_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # what keras.applications.vgg19 subtracts


# --- the networks (built only in the children, after torch is imported) --------------------

def build_vgg19(torch, last_layer: str):
    """VGG19's conv stack up to ``last_layer`` (e.g. "conv5_2"), He-normal weights.

    Returns a callable ``features(x, names) -> dict`` giving the post-ReLU activations of the
    requested layers (names "conv{block}_{i}"), computed in one pass that stops after
    ``last_layer``.
    """
    nn = torch.nn
    layers, names = [], []  # parallel lists: a module and the name of its output (or None)
    block, index, cin = 1, 0, 3
    for item in VGG19_PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
            names.append(None)
            block, index = block + 1, 0
            continue
        index += 1
        conv = nn.Conv2d(cin, item, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        layers += [conv, nn.ReLU(inplace=True)]
        names += [None, f"conv{block}_{index}"]
        cin = item
        if f"conv{block}_{index}" == last_layer:
            break
    else:
        raise ValueError(f"no VGG19 layer {last_layer!r}")
    net = nn.Sequential(*layers).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    mean = torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)

    def features(x, wanted):
        # [0, 1] RGB → Caffe-style BGR minus the ImageNet mean, as keras.applications.vgg19.
        h = x.flip(1) * 255.0 - mean
        out = {}
        for layer, name in zip(net, names):
            h = layer(h)
            if name in wanted:
                out[name] = h
                if len(out) == len(wanted):
                    break
        return out

    features.net = net
    return features


def gram(torch, f, normalization="chw"):
    b, c, h, w = f.shape
    x = f.reshape(b, c, h * w)
    g = torch.bmm(x, x.transpose(1, 2))
    return g / (c * h * w if normalization == "chw" else h * w)


def build_johnson(torch):
    """The talk's (TALK.md §6) transformation network, as keras_style's ``johnson`` arch."""
    nn = torch.nn

    def conv_block(cin, cout, k, stride):
        pad = [nn.ReflectionPad2d(k // 2)] if stride == 1 else []
        conv = nn.Conv2d(cin, cout, k, stride=stride, padding=0 if stride == 1 else k // 2)
        return pad + [conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    class ResidualBlock(nn.Module):
        """Two unpadded 3×3 convs (each shaves 1 px per side), centre-cropped shortcut."""

        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c, c, 3), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                      nn.Conv2d(c, c, 3), nn.BatchNorm2d(c))

        def forward(self, x):
            return self.body(x) + x[:, :, 2:-2, 2:-2]

    class ScaledTanh(nn.Module):
        def forward(self, x):
            return (torch.tanh(x) + 1.0) * 0.5

    def up(cin, cout):
        return [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1),
                nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    return nn.Sequential(
        nn.ReflectionPad2d(40),
        *conv_block(3, 32, 9, 1), *conv_block(32, 64, 3, 2), *conv_block(64, 128, 3, 2),
        *[ResidualBlock(128) for _ in range(5)],
        *up(128, 64), *up(64, 32),
        nn.ReflectionPad2d(4), nn.Conv2d(32, 3, 9), ScaledTanh())


def build_super_resolution(torch, factor: int, width: int = 64, residual_blocks: int = 4):
    """keras_style's ``build_super_resolution(**sr_architecture(factor, upsampling="bilinear"))``.

    Layer for layer (Keras name → here): ``in_pad``/``in_conv``/``in_relu`` → ``head``;
    ``residual1..4`` (reflection-padded, no normalization) → ``blocks``; ``up{i}_conv``
    (``UpsampleConv2D``, bilinear) + ``up{i}_relu`` → ``ups``; ``out_pad``/``out_conv``
    (``HalvesConv2D``: numerically a plain convolution, zero-initialised) → ``tail``;
    ``bicubic`` (``ResizeBy``) + ``add_bicubic`` → ``forward``; ``to_pixels``
    (``LinearPixels(1, 0)``, unclipped while training) is the identity.  The
    normalization layers are ``Identity`` (``normalization="none"``).  Convolutions are
    Glorot-uniform with zero biases, as Keras initialises them.
    """
    nn = torch.nn
    functional = torch.nn.functional

    def conv(cin, cout, k, zero=False):
        layer = nn.Conv2d(cin, cout, k)  # "valid": the padding is a ReflectionPad2d before it
        (nn.init.zeros_ if zero else nn.init.xavier_uniform_)(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    class ResidualBlock(nn.Module):
        """pad 1 → 3×3 → ReLU → pad 1 → 3×3, plus the input (no ReLU after the sum)."""

        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(nn.ReflectionPad2d(1), conv(c, c, 3), nn.ReLU(inplace=True),
                                      nn.ReflectionPad2d(1), conv(c, c, 3))

        def forward(self, x):
            return self.body(x) + x

    class SuperResolution(nn.Module):
        def __init__(self):
            super().__init__()
            self.factor = factor
            self.head = nn.Sequential(nn.ReflectionPad2d(4), conv(3, width, 9),
                                      nn.ReLU(inplace=True))
            self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(residual_blocks)])
            stages = []
            for _ in range(factor.bit_length() - 1):  # log2(factor) ×2 stages
                # bilinear, half-pixel centres, edges clamped = tf.image.resize "bilinear"
                stages += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                           nn.ReflectionPad2d(1), conv(width, width, 3), nn.ReLU(inplace=True)]
            self.ups = nn.Sequential(*stages)
            self.tail = nn.Sequential(nn.ReflectionPad2d(4), conv(width, 3, 9, zero=True))

        def skip(self, x):
            """The bicubic enlargement of the input.  PyTorch's bicubic is Keys a = -0.75 with
            clamped border taps; tf.image.resize's is a = -0.5 with out-of-range taps dropped
            and the rest renormalised: other values, the same work."""
            return functional.interpolate(x, scale_factor=self.factor, mode="bicubic",
                                          align_corners=False)

        def forward(self, x):
            return self.skip(x) + self.tail(self.ups(self.blocks(self.head(x))))

    return SuperResolution()


def gaussian_kernel(torch, sigma: float):
    """keras_style.data.gaussian_kernel: radius ceil(3σ) (at least 1), normalised to sum 1."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).float()


def degrade(torch, images, factor: int, kernel):
    """keras_style.data.degrade on an NCHW batch: floor H, W to multiples of ``factor``,
    separable Gaussian blur (``kernel``, reflected borders), bicubic downsampling by
    ``factor`` (no antialiasing, as ``antialias=False``), clipped to [0, 1]."""
    functional = torch.nn.functional
    _, c, h, w = images.shape
    h, w = h // factor * factor, w // factor * factor
    x = images[:, :, :h, :w]
    r = kernel.numel() // 2
    x = functional.pad(x, (r, r, r, r), mode="reflect")
    x = functional.conv2d(x, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    x = functional.conv2d(x, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    low = functional.interpolate(x, size=(h // factor, w // factor), mode="bicubic",
                                 align_corners=False, antialias=False)
    return low.clamp(0.0, 1.0)


# --- the measurements (each runs in its own process) --------------------------------------

def setup_torch(threads: int):
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    torch.set_num_interop_threads(threads)
    torch.manual_seed(0)
    return torch


def layout(torch, job, *items):
    """Modules and tensors in the job's memory format (channels-last if asked, else as is)."""
    if not job["channels_last"]:
        return items if len(items) > 1 else items[0]
    fmt = torch.channels_last
    out = tuple(x.to(memory_format=fmt) if isinstance(x, torch.nn.Module)
                else x.contiguous(memory_format=fmt) for x in items)
    return out if len(out) > 1 else out[0]


def timed(fn, warmup, repeats):
    times = []
    for _ in range(warmup + repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def measure_gatys(torch, job) -> dict:
    size, loss_kind = job["size"], job["loss"]
    t = time.perf_counter()
    vgg = build_vgg19(torch, "conv5_2")
    setup = time.perf_counter() - t
    gram_layers = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
    wanted = set(gram_layers + ("conv5_2",)) if loss_kind == "gram" else {"conv5_2"}
    layout(torch, job, vgg.net)
    x = layout(torch, job, torch.rand(1, 3, size, size)).requires_grad_(True)
    values = []

    def step():
        x.grad = None
        feats = vgg(x, wanted)
        if loss_kind == "gram":
            loss = sum(gram(torch, feats[n], "hw").mean() for n in gram_layers)
            loss = loss + feats["conv5_2"].mean()
        else:
            loss = feats["conv5_2"].square().mean()
        loss.backward()
        values.append((loss.item(), x.grad.abs().mean().item()))

    rss_before = current_rss_mib()
    times = timed(step, job["warmup"], job["repeats"])
    loss, grad = values[-1]
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "rss_before": rss_before, "check": f"loss {loss:.3g}, mean abs grad {grad:.3g}"}


def measure_inference(torch, job) -> dict:
    size = job["size"]
    t = time.perf_counter()
    model = layout(torch, job, build_johnson(torch).eval())
    setup = time.perf_counter() - t
    x = layout(torch, job, torch.rand(1, 3, size, size))
    shapes = []

    def call():
        with torch.inference_mode():
            y = model(x)
        shapes.append(tuple(y.shape))

    rss_before = current_rss_mib()
    times = timed(call, job["warmup"], job["repeats"])
    if shapes[-1] != tuple(x.shape):
        raise SystemExit(f"output shape {shapes[-1]} != input shape {tuple(x.shape)}")
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "rss_before": rss_before,
            "params": sum(p.numel() for p in model.parameters()),
            "check": f"output {'×'.join(map(str, shapes[-1]))}"}


def random_batches(torch, job, batch_size: int, size: int) -> list:
    """One seeded random batch per call a training row makes (warm-up and timed)."""
    gen = torch.Generator().manual_seed(0)
    return [layout(torch, job, torch.rand(batch_size, 3, size, size, generator=gen))
            for _ in range(job["warmup"] + job["repeats"])]


def measure_training(torch, job) -> dict:
    size, batch_size = job["size"], job["batch_size"]
    style_layers = ("conv1_2", "conv2_2", "conv3_3", "conv4_3")  # relu1_2 … relu4_3
    content_layer = "conv2_2"
    content_weight, style_weight, tv_weight = 1.0, 10.0, 1e-2  # keras_style.train defaults
    t = time.perf_counter()
    model = layout(torch, job, build_johnson(torch).train())
    vgg = build_vgg19(torch, "conv4_3")
    layout(torch, job, vgg.net)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with torch.no_grad():  # style targets, computed once (as train.py does), not timed
        style_feats = vgg(layout(torch, job, torch.rand(1, 3, size, size)), set(style_layers))
        style_targets = {n: gram(torch, f) for n, f in style_feats.items()}
    setup = time.perf_counter() - t
    batches = random_batches(torch, job, batch_size, size)
    it = iter(batches)
    totals = []

    def step():
        batch = next(it)
        with torch.no_grad():
            content_target = vgg(batch, {content_layer})[content_layer]
        out = model(batch)
        feats = vgg(out, set(style_layers))
        content = (feats[content_layer] - content_target).square().mean()
        style = sum((gram(torch, feats[name]) - style_targets[name]).square().mean()
                    for name in style_layers) / len(style_layers)
        tv = ((out[:, :, 1:, :] - out[:, :, :-1, :]).abs().sum(dim=(1, 2, 3))
              + (out[:, :, :, 1:] - out[:, :, :, :-1]).abs().sum(dim=(1, 2, 3))).mean()
        total = content_weight * content + style_weight * style + tv_weight * tv
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        totals.append(total.item())

    rss_before = current_rss_mib()
    times = timed(step, job["warmup"], job["repeats"])
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "rss_before": rss_before,
            "params": sum(p.numel() for p in model.parameters()),
            "check": f"loss {totals[0]:.3g} → {totals[-1]:.3g}"}


def measure_sr_training(torch, job) -> dict:
    """One step of ``keras_style.training``'s super-resolution step (see the docstring)."""
    size, batch_size, factor = job["size"], job["batch_size"], job["factor"]
    layer = "conv2_2"  # relu2_2 = Keras block2_conv2, the SR content layer
    t = time.perf_counter()
    model = layout(torch, job, build_super_resolution(torch, factor).train())
    vgg = build_vgg19(torch, layer)
    layout(torch, job, vgg.net)
    optimizer = torch.optim.Adam(model.parameters(), lr=SR_LR, eps=1e-7)  # Keras's epsilon
    kernel = gaussian_kernel(torch, 1.0)  # TrainConfig.blur_sigma
    setup = time.perf_counter() - t
    batches = random_batches(torch, job, batch_size, size)
    it = iter(batches)
    totals, shapes = [], []

    def step():
        hr = next(it)
        with torch.no_grad():
            low = degrade(torch, hr, factor, kernel)  # make_model_input, outside the tape
        # loss_view: the same random 0..J rows and columns off both, at the top left
        dy, dx = torch.randint(0, SR_JITTER + 1, (2,)).tolist()
        h, w = hr.shape[2] - SR_JITTER, hr.shape[3] - SR_JITTER
        seen = hr[:, :, dy:dy + h, dx:dx + w]
        with torch.no_grad():  # objective.targets: the photos' relu2_2, outside the tape
            target = vgg(seen, {layer})[layer]
        out = model(low)
        view = out[:, :, dy:dy + h, dx:dx + w]
        content = (vgg(view, {layer})[layer] - target).square().mean()
        pixel = (view - seen).square().mean()
        total = content + SR_PIXEL_WEIGHT * pixel  # content_weight 1, tv_weight 0
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        totals.append(total.item())
        shapes.append((tuple(low.shape), tuple(out.shape)))

    rss_before = current_rss_mib()
    times = timed(step, job["warmup"], job["repeats"])
    (low_shape, out_shape) = shapes[-1]
    if out_shape != tuple(batches[0].shape):
        raise SystemExit(f"output shape {out_shape} != HR batch shape {tuple(batches[0].shape)}")
    params = sum(p.numel() for p in model.parameters())
    return {"times": times[job["warmup"]:], "first": times[0], "setup": setup,
            "rss_before": rss_before, "params": params,
            "check": f"{params:,} params; LR {low_shape[2]}², loss {totals[0]:.3g} → "
                     f"{totals[-1]:.3g}"}


def one(spec: str) -> int:
    job = json.loads(spec)
    torch = setup_torch(job["threads"])
    measure = {"gatys": measure_gatys, "infer": measure_inference,
               "train": measure_training, "train-sr": measure_sr_training}[job["work"]]
    result = measure(torch, job)
    result.update(torch=torch.__version__, mkldnn=bool(torch.backends.mkldnn.is_available()),
                  cpu_capability=torch.backends.cpu.get_cpu_capability(),
                  torch_threads=torch.get_num_threads(),
                  interop_threads=torch.get_num_interop_threads())
    emit_result({**job, **result})
    return 0


# --- the driver ----------------------------------------------------------------------------

def build_parser() -> Parser:
    p = Parser(prog=PROG, formatter_class=formatter,
               description="PyTorch (CPU) reference timings of the Gatys step, Johnson-net "
                           "inference, a Johnson training step and a super-resolution "
                           "training step, measured on this machine, "
                           "each configuration in a fresh process; prints a Markdown table. "
                           "Needs torch (pip install torch==2.13.0), which the package does "
                           "not depend on.")
    p.add_argument("--works", nargs="+", choices=WORKS, default=list(WORKS),
                   help="what to measure: Gatys step, Johnson inference, Johnson training "
                        "step, super-resolution training step (keras_style.train --task "
                        "super-resolution --sr-upsampling bilinear --loss-jitter 3 "
                        "--pixel-weight 1e6)")
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[256, 512],
                   help="Gatys-step image sides (square, batch 1), px")
    p.add_argument("--gatys-losses", nargs="+", choices=GATYS_LOSSES, default=list(GATYS_LOSSES),
                   help="Gatys-step scalar: gram = Gram means of conv1_1..conv5_1 + mean "
                        "conv5_2; bare = mean(conv5_2²), the loss of gatys.py's vgg row")
    p.add_argument("--net-sizes", type=positive_int, nargs="+", default=[256, 512, 1024],
                   help="Johnson-net inference image sides (square, batch 1), px")
    p.add_argument("--train-size", type=positive_int, default=None,
                   help="side of the square training batch (for train-sr: the HR crops), px "
                        "(default: 256 for train, 128 for train-sr)")
    p.add_argument("--batch-size", type=positive_int, default=4, help="training batch size")
    p.add_argument("--sr-factor", type=int, choices=SR_FACTORS, default=4,
                   help="train-sr: the super-resolution factor (keras_style.train --factor)")
    p.add_argument("--repeats", type=positive_int, default=5,
                   help="timed calls / steps per configuration (after the warm-up)")
    p.add_argument("--warmup", type=non_negative_int, default=1,
                   help="untimed leading calls / steps per configuration")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch intra-op and inter-op threads (and OMP/MKL_NUM_THREADS)")
    p.add_argument("--channels-last", action="store_true",
                   help="run every convolution on channels-last (NHWC) tensors instead of "
                        "PyTorch's default NCHW")
    p.add_argument("--one", help=argparse.SUPPRESS)
    return p


def run_torch_child(job: dict) -> dict:
    """Run one configuration in a fresh interpreter; return its JSON result (or an error)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(job["threads"]),
               MKL_NUM_THREADS=str(job["threads"]))
    return run_child(Path(__file__).resolve(), job, env=env)


def label(r) -> str:
    if r["work"] == "gatys":
        what = ("Gram means conv1_1..5_1 + mean conv5_2" if r["loss"] == "gram"
                else "mean(conv5_2²), as gatys.py's vgg row")
        return f"Gatys step: VGG19→conv5_2 fwd + input grad ({what})"
    if r["work"] == "infer":
        return "Johnson net inference, batch 1, eval, inference_mode"
    if r["work"] == "train-sr":
        return (f"SR ×{r['factor']} training step, bilinear stages, batch {r['batch_size']} "
                f"(degrade + net + VGG19→conv2_2, jitter {SR_JITTER}, pixel weight 1e6, Adam)")
    return f"Johnson training step, batch {r['batch_size']} (net + VGG19→conv4_3, Adam)"


def make_jobs(parser, args) -> list[dict]:
    """One job per configuration to measure; impossible sizes are parser errors."""
    if "gatys" in args.works and min(args.sizes) < 32:
        parser.error("--sizes must be at least 32 (VGG19 pools four times before conv5_2).")
    if "infer" in args.works and min(args.net_sizes) < 41:
        parser.error("--net-sizes must be at least 41 (the 40-px reflection padding).")
    train_size = {work: args.train_size or default for work, default in TRAIN_SIZES.items()}
    if "train" in args.works and train_size["train"] < 41:
        parser.error("--train-size must be at least 41 (the 40-px reflection padding).")
    for name, sides in (("--net-sizes", args.net_sizes if "infer" in args.works else []),
                        ("--train-size", [train_size["train"]] if "train" in args.works
                         else [])):
        if any(s % 4 for s in sides):
            parser.error(f"{name} must be multiples of 4 (two stride-2 convs and back).")
    if "train-sr" in args.works:
        f, side = args.sr_factor, train_size["train-sr"]
        if side < 8 * f or side % f:  # keras_style.training.check_inputs: LR patches >= 8 px
            parser.error(f"--train-size must be a multiple of --sr-factor {f} and at least "
                         f"{8 * f} for train-sr (low-resolution patches of 8 px or more).")
    common = {"threads": args.threads, "warmup": args.warmup, "repeats": args.repeats,
              "channels_last": args.channels_last}
    jobs = []
    if "gatys" in args.works:
        jobs += [{"work": "gatys", "size": s, "loss": loss, **common}
                 for s in args.sizes for loss in args.gatys_losses]
    if "infer" in args.works:
        jobs += [{"work": "infer", "size": s, **common} for s in args.net_sizes]
    if "train" in args.works:
        jobs.append({"work": "train", "size": train_size["train"],
                     "batch_size": args.batch_size, **common})
    if "train-sr" in args.works:
        jobs.append({"work": "train-sr", "size": train_size["train-sr"],
                     "batch_size": args.batch_size, "factor": args.sr_factor, **common})
    return jobs


def report(args, results, load_start):
    rows = []
    for r in results:
        if "error" in r:
            rows.append([label(r), f"{r['size']}²", r["threads"],
                         f"failed ({r['error']})"] + ["–"] * 5)
            continue
        rows.append([label(r), f"{r['size']}²", r["torch_threads"],
                     fmt_s(statistics.median(r["times"])), spread(r["times"]),
                     f"{r['peak_rss_mib']:.0f}", len(r["times"]), fmt_s(r["first"]),
                     r["check"]])
    memory = "channels-last (NHWC)" if args.channels_last else "NCHW (PyTorch's default)"
    print(f"## PyTorch reference on this machine, seconds (median of {args.repeats} after "
          f"{args.warmup} warm-up; float32, {memory}; RANDOM weights)\n")
    print(markdown_table(["work", "size", "torch threads", "s (median)", "min–max",
                          "peak RSS MiB", "n", "warm-up call s", "sanity"], rows))
    print()
    child = next((r for r in results if "error" not in r), {})
    print(f"Machine: {cpu_description()}; Python {sys.version.split()[0]}, torch "
          f"{child.get('torch', '?')}, torch.backends.mkldnn.is_available() = "
          f"{child.get('mkldnn', '?')}, CPU capability {child.get('cpu_capability', '?')}; "
          f"torch threads {child.get('torch_threads', '?')} intra-op / "
          f"{child.get('interop_threads', '?')} inter-op; 1-min load average "
          f"{load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    print()
    print("Notes: weights are random (He-normal VGG19, PyTorch-default Johnson net); speed does "
          "not depend on their values. 'warm-up call s' is the first, untimed call (oneDNN "
          "primitive creation). 'peak RSS' is the configuration's own process. Gatys 'gram' "
          "adds five Gram matrices (hw-normalised) to the 'bare' row's work. The training step "
          "includes the no-grad VGG pass for the content targets and loss.item(); style "
          "targets are computed once before timing. Compare with gatys.py's 'vgg' row and "
          "fast.py's johnson rows run with the same --threads."
          + (" The SR net is Glorot-initialised with a zero last convolution, as Keras "
             "initialises it. The SR training step includes the degradation of the HR batch "
             "(blur + bicubic downsampling, no_grad), the no-grad VGG pass on the HR crop and "
             "loss.item(); "
             "compare with fast.py --sr-factors rows run with the same --threads, "
             "--train-size and --batch-size." if "train-sr" in args.works else ""))


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.one:
        return one(args.one)
    if importlib.util.find_spec("torch") is None:
        log(f"{PROG}: error: PyTorch is not installed; this benchmark-only script needs it "
            "(pip install torch==2.13.0, a CPU build).")
        return 2
    jobs = make_jobs(parser, args)
    load_start = os.getloadavg()
    t_all = time.perf_counter()
    results = run_jobs(jobs, run_torch_child, lambda job: f"{job['work']} {job['size']}²"
                       + (f" ({job['loss']})" if "loss" in job else ""))
    total = time.perf_counter() - t_all
    report(args, results, load_start)
    log(f"\nTotal wall time {total:.0f} s.")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
