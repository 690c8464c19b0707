"""Per function: cold import time as a ratio to ``import boto3`` (imported alternately with it), and memory.

Memory is each function's own: the peak RSS (VmHWM) of a fresh interpreter that imported only that
function's handler, shown with what it adds to a fresh interpreter that imported only boto3. The functions
share boto3, Powertools, pydantic and the environment config, so their footprints lie within a few MB.
"""

from __future__ import annotations

import math

from bench.measure import import_rss_mb, import_seconds, line, paired_import_seconds
from lambdas.core.config import ENVIRONMENT_NAMES
from tollgate.local.template import load_stack_template

LAMBDA_MEMORY_STEP_MB = 64


def _handler_modules() -> dict[str, str]:
    modules: dict[str, str] = {}
    for environment in ENVIRONMENT_NAMES:
        for spec in load_stack_template(environment).functions.values():
            module = spec.handler.rpartition(".")[0]
            modules.setdefault(module, spec.name)
    return modules


def function_lines() -> list[str]:
    boto3_seconds = import_seconds("boto3")
    boto3_rss = import_rss_mb("boto3")
    out = [
        line("baseline: import boto3", f"{boto3_seconds * 1000:.0f} ms", f"(peak RSS {boto3_rss:.1f} MB)"),
    ]
    modules = _handler_modules()
    if not modules:
        out.append(line("no functions in the synthesized stacks yet", "-"))
    for module in sorted(modules):
        seconds, boto3_then = paired_import_seconds(module, "boto3")
        rss = import_rss_mb(module)
        # Lambda memory: the import footprint with 2x headroom for the work, in 64 MB steps (128 MB at least).
        suggested = max(128, math.ceil(rss * 2 / LAMBDA_MEMORY_STEP_MB) * LAMBDA_MEMORY_STEP_MB)
        note = f"(peak RSS {rss:.1f} MB, boto3 +{rss - boto3_rss:.1f} MB -> {suggested} MB)"
        out.append(line(f"import {module}", f"{seconds / boto3_then:.2f} x boto3", note))
    return out
