"""Configure and import TensorFlow quietly (see :func:`quiet_tensorflow`)."""

import os
import sys

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
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow
            # the runtime probes for GPUs (and logs, at error level, that a CPU-only machine
            # has no CUDA driver) on first device listing: do it here, captured
            tensorflow.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines():
                if line.strip() and not any(n in line for n in _NOISE):
                    print(line, file=sys.stderr)

