"""Shared plumbing of the command-line tools: quiet TensorFlow, argument types, errors.

Each tool is ``main(argv=None) -> int``: argparse → a frozen dataclass config → work.
User errors (:class:`UsageError` and the package's one-sentence errors) print one line on
stderr and return exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys

from keras_style._tfenv import quiet_tensorflow  # noqa: F401 (re-exported)
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


def run(prog: str, body, argv) -> int:
    """Run ``body(argv)``; turn user errors and Ctrl-C into one line and an exit code."""
    try:
        return body(argv)
    except KerasStyleError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted.", file=sys.stderr)
        return 130
