"""Plumbing shared by the benchmark scripts: memory, machine description, Markdown tables.
Imports nothing heavy (no TensorFlow, no PyTorch), so every script can use it."""

import os
import resource
import sys


def peak_rss_mib() -> float:
    """The process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def cpu_description() -> str:
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
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    isa = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512"),
                                   ("avx512_bf16", "AVX512-BF16"), ("amx_tile", "AMX"))
           if flag in flags]
    if "avx512f" not in flags:
        isa.append("no AVX-512 in /proc/cpuinfo")
    return f"{model} ({', '.join(isa)}), {os.cpu_count()} logical cores, {usable} usable"


def machine_line(child: dict, threads: int, load_start) -> str:
    load_now = os.getloadavg()
    return (f"Machine: {cpu_description()}; Python {sys.version.split()[0]}, TensorFlow "
            f"{child.get('tensorflow', '?')}, Keras {child.get('keras', '?')}; "
            f"TF_ENABLE_ONEDNN_OPTS={child.get('onednn', '?')}; TF threads "
            f"{threads if threads else 'default'}; 1-min load average {load_start[0]:.2f} at "
            f"start, {load_now[0]:.2f} at end")


def markdown_table(headers, rows) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_s(value, digits=3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}g}" if value < 100 else f"{value:.0f}"


def spread(values) -> str:
    return f"{fmt_s(min(values))}–{fmt_s(max(values))}" if values else "–"
