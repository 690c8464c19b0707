"""``make bench``: every section prints ratios against a baseline measured in the same run."""

from __future__ import annotations

import importlib
import os
import sys
import time

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

# (title, module, function returning printable lines)
SECTIONS = [
    ("Synth", "bench.foundation_bench", "synth_lines"),
    (
        "Replay latency per event (ratio to one bare boto3 call on the same embedded AWS)",
        "bench.foundation_bench",
        "replay_lines",
    ),
    (
        "Cold imports and peak memory per function (targets: hooks, rollback, notifier <= 2 x boto3)",
        "bench.functions_bench",
        "function_lines",
    ),
    ("Hooks: concurrent synthetic flows", "bench.capabilities_bench", "hook_flow_lines"),
    ("Rollback: alarm to StopDeployment, and a storm", "bench.capabilities_bench", "rollback_lines"),
    ("Notifier: per event", "bench.capabilities_bench", "notifier_lines"),
    ("Canary judge: 1,000 recorded steps (ratio to reading them)", "bench.canary_bench", "judge_lines"),
    ("Canary analysis: one live decision (ratio to one bare GetMetricData)", "bench.canary_bench", "analysis_lines"),
    ("Canary: a whole live release (ratio to a blue/green release)", "bench.canary_bench", "live_canary_lines"),
    ("Ledger: pipeline metrics over 10,000 deployments (ratio to reading them)", "bench.ledger_bench", "ledger_lines"),
]


def main() -> int:
    started = time.perf_counter()
    failures = 0
    for title, module, function in SECTIONS:
        print(f"\n{title}", flush=True)
        try:
            for text in getattr(importlib.import_module(module), function)():
                print(text, flush=True)
        except Exception as error:
            failures += 1
            print(f"  FAILED: {type(error).__name__}: {error}", flush=True)
    print(f"\nbench finished in {time.perf_counter() - started:.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
