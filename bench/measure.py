"""Timing helpers: medians and percentiles of repeated runs, import time in fresh interpreters."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _fresh_interpreter(code: str) -> str:
    """Run ``code`` in a new interpreter with a bare environment; return its last printed line."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"POWERTOOLS_TRACE_DISABLED": "true", "PYDANTIC_DISABLE_PLUGINS": "__all__", "PATH": ""},
    )
    return out.stdout.strip().splitlines()[-1]


def _import_once(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(_fresh_interpreter(code))


def import_seconds(module: str, repeat: int = 5) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter (what a cold start pays)."""
    return median([_import_once(module) for _ in range(repeat)])


def paired_import_seconds(module: str, baseline: str, repeat: int = 5) -> tuple[float, float]:
    """Medians of importing ``module`` and ``baseline``, alternately in fresh interpreters, so both see the same
    load on a shared machine (a baseline taken once, minutes earlier, moved ratios by 0.3 between runs)."""
    pairs = [(_import_once(module), _import_once(baseline)) for _ in range(repeat)]
    return median([m for m, _ in pairs]), median([b for _, b in pairs])


def import_rss_mb(module: str) -> float:
    """Peak resident memory (MB) of a fresh interpreter of its own that imported ``module``: its cold start.

    VmHWM of the child, read by the child: the high-water mark of its own address space, which exec starts
    anew. Not ru_maxrss: Linux carries the pre-exec high-water mark into it (subprocess forks this bench, whose
    RSS is far larger), so the child's getrusage and the parent's wait4 both report this process's peak.
    """
    code = f"import {module}; print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    return int(_fresh_interpreter(code)) / 1024


def line(name: str, value: str, note: str = "") -> str:
    return f"  {name:<58} {value:>14}  {note}".rstrip()
