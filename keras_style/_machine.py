"""What machine this is, in one line: the CPU model, the instruction sets that matter for
TensorFlow's kernels, and the cores this process may use. Benchmarks and notebooks print it
beside every time they report."""

from __future__ import annotations

import os


def cpu_info():
    """``(model name, set of flags)`` from /proc/cpuinfo (``"unknown CPU"``, ``set()`` elsewhere)."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown CPU":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return model, flags


def cpu_description() -> str:
    """For example ``AMD EPYC (AVX2, FMA, no AVX-512 in /proc/cpuinfo), 2 logical cores, 1 usable``."""
    model, flags = cpu_info()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    isa = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512"),
                                   ("avx512_bf16", "AVX512-BF16"), ("amx_tile", "AMX"))
           if flag in flags]
    if "avx512f" not in flags:
        isa.append("no AVX-512 in /proc/cpuinfo")
    return f"{model} ({', '.join(isa)}), {os.cpu_count()} logical cores, {usable} usable"
