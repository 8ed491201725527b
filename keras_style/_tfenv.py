"""Configure and import TensorFlow quietly (see :func:`quiet_tensorflow`)."""

import os
import sys
from contextlib import contextmanager

# Start-up lines TensorFlow's C++ runtime prints on every import (CPU-only machines with the
# full wheel add the CUDA ones); they say nothing the user can act on.
_NOISE = ("All log messages before absl::InitializeLog", "oneDNN custom operations are on",
          "Could not find cuda drivers on your machine", "cpu_feature_guard.cc",
          "To enable the following instructions", "rebuild TensorFlow with the appropriate",
          "failed call to cuInit")


def quiet_tensorflow():
    """Configure and import TensorFlow without its start-up chatter.

    Sets ``TF_CPP_MIN_LOG_LEVEL=2`` and ``TF_ENABLE_ONEDNN_OPTS=1`` (unless already set:
    this TensorFlow build leaves oneDNN off on some x86 CPUs, and on the 2-core machine
    we measured convolution backward passes 4-20x faster with it on), then imports
    TensorFlow with the C++ stderr captured; only lines that are not known start-up
    noise are passed on.  Safe to call more than once.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if "tensorflow" in sys.modules:
        return
    with stderr_without(_NOISE):
        import tensorflow
        # the runtime probes for GPUs (and logs, at error level, that a CPU-only machine
        # has no CUDA driver) on first device listing: do it here, captured
        tensorflow.config.list_physical_devices()


def _flush_stderr():
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # replaced or closed by the host program
        pass


@contextmanager
def stderr_without(noise):
    """Run the block with file descriptor 2 captured (TensorFlow's C++ logging writes there,
    below Python's ``sys.stderr``), then pass on every line that holds none of the strings
    ``noise``: real errors stay visible."""
    import tempfile

    _flush_stderr()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 at all
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines():
                if line.strip() and not any(n in line for n in noise):
                    print(line, file=sys.stderr)
