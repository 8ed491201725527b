"""Shared plumbing of the command-line tools: quiet TensorFlow, argument types and limits,
errors.

Each tool is ``main(argv=None) -> int``: argparse → a frozen dataclass config → work.
User errors (:class:`UsageError` and the package's one-sentence errors) and failed writes
(disk full, read-only folder) print one line on stderr and return exit code 2; no traceback.
Ctrl-C returns 130 and SIGTERM 143, after the half-written temporary files are removed.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys

from keras_style._tfenv import quiet_tensorflow  # noqa: F401 (re-exported)
from keras_style import outputs
from keras_style.errors import KerasStyleError, UsageError  # noqa: F401 (re-exported)


class Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message (argparse's own convention)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to each flag's help, unless the help already states it or
    there is nothing to state (a default of None)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is None:
            return text
        return super()._get_help_string(action)


def formatter(prog):
    return _DefaultsFormatter(prog, max_help_position=32)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text}")
    return value


# --- limits derived from the network and the image ------------------------------------

def min_tile(margin: int) -> int:
    """Smallest ``tile`` :func:`keras_style.networks.tiles` accepts with ``margin``: the
    tile holds ``margin`` px of context on each side and a core of at least 4 px."""
    return 2 * (4 * (margin // 4)) + 4


def check_tile(tile: int | None, margin: int, flag: str = "--tile") -> None:
    """Refuse a tile too small for the network's context margin, before any work."""
    if tile is not None and tile < min_tile(margin):
        raise UsageError(f"{flag} {tile} is too small: each tile carries {margin} px of "
                         f"context on every side, so it must be at least {min_tile(margin)} "
                         "px.")


def _vgg_block(layer: str) -> tuple[int, bool]:
    """``(block, is_pool)`` of a VGG19 layer name (``block4_conv2``, ``conv4_2``,
    ``relu4_2``, ``pool4``, ``block4_pool``)."""
    m = (re.fullmatch(r"block(\d)_(conv\d|pool)", layer)
         or re.fullmatch(r"(?:conv|relu)(\d)_(\d)", layer) or re.fullmatch(r"pool(\d)()", layer))
    if not m:
        raise UsageError(f"unknown VGG19 layer {layer!r}; use names like block4_conv2 or "
                         "conv4_2.")
    return int(m.group(1)), m.group(2) in ("pool", "")


def feature_cells(layers, height: int, width: int) -> tuple[int, int, str]:
    """``(rows, columns, layer)`` of the coarsest of the VGG19 ``layers`` for an image of
    ``height`` x ``width`` px (each 2x2 pooling halves a side, rounding down)."""
    best = None
    for layer in layers:
        block, pool = _vgg_block(layer)
        pools = block if pool else block - 1
        cells = (height >> pools, width >> pools, layer)
        if best is None or min(cells[:2]) < min(best[:2]):
            best = cells
    if best is None:
        raise UsageError("no style layers.")
    return best


def check_style_tiles(tiles: int | None, layers, height: int, width: int,
                      flag: str = "--style-tiles", what: str = "image") -> None:
    """Refuse ``--style-tiles N`` when an N x N grid has more tiles than the coarsest style
    feature map has cells for an image of ``height`` x ``width`` px: such tiles share cells
    and the loss only grows slower (it had a 64-px image run for minutes)."""
    if tiles is None or tiles <= 1:
        return
    rows, cols, layer = feature_cells(layers, height, width)
    limit = max(1, min(rows, cols))
    if tiles > limit:
        raise UsageError(f"{flag} {tiles} is more than the {rows}x{cols} cells of style layer "
                         f"{layer} for a {width}x{height}-px {what}; use at most {limit} (or a "
                         "larger image).")


# --- running a tool -------------------------------------------------------------------

class Terminated(BaseException):
    """Raised by the SIGTERM handler of :func:`run`, so ``finally`` blocks (temporary files)
    run before the process exits with 143."""


def _on_sigterm(signum, frame):
    raise Terminated()


def run(prog: str, body, argv) -> int:
    """Run ``body(argv)``; turn user errors, failed writes, Ctrl-C and SIGTERM into one line
    and an exit code (2, 2, 130, 143)."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        previous = None
    outputs.forget_created_folders()
    succeeded = False  # until body returns 0 (or None, which exits 0 too)
    try:
        code = body(argv)
        succeeded = not code
        return code
    except KerasStyleError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the environment, not the code: a sentence, not a traceback
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        reason = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
        print(f"{prog}: error: {where}{reason}.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted.", file=sys.stderr)
        return 130
    except Terminated:
        print(f"{prog}: stopped by SIGTERM.", file=sys.stderr)
        return 143
    finally:
        if not succeeded:  # refused, failed or stopped: no empty output folder stays behind
            outputs.remove_created_folders()
        outputs.forget_created_folders()
        if previous is not None:
            try:
                signal.signal(signal.SIGTERM, previous)
            except (ValueError, OSError):
                pass
