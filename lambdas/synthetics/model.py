"""What a synthetics run measured, per LMS service (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.core.config import EnvironmentConfig
from lambdas.hooks.flows import FlowRun
from lambdas.hooks.model import CheckResult

SYNTHETICS_NAMESPACE = "Tollgate/Synthetics"
SUCCESS_METRIC = "SyntheticSuccess"  # 1 when every flow of the service passed this run, else 0
LATENCY_METRIC = "SyntheticLatency"  # ms: the slowest flow's total over its steps


@dataclass(frozen=True)
class ServiceOutcome:
    service: str
    passed: bool
    latency_ms: float
    failures: tuple[str, ...]


def plan_runs(config: EnvironmentConfig, base_url_override: str | None = None) -> list[FlowRun]:
    """Every configured synthetics flow against the service's production listener (what users reach)."""
    names = config.records.synthetics_flows
    chosen = names if names is not None else tuple(config.checks.flows)
    return [
        FlowRun(
            name=name,
            flow=config.checks.flows[name],
            base_url=base_url_override or config.lms.services[config.checks.flows[name].service].base_url,
        )
        for name in chosen
    ]


def _latency(result: CheckResult) -> float:
    steps = result.details.get("steps")
    if not isinstance(steps, list):
        return 0.0
    total = 0.0
    for step in steps:
        elapsed = step.get("elapsed_ms") if isinstance(step, dict) else None
        if isinstance(elapsed, int | float):
            total += float(elapsed)
    return total


def outcomes(results: Sequence[CheckResult]) -> list[ServiceOutcome]:
    by_service: dict[str, list[CheckResult]] = defaultdict(list)
    for result in results:
        by_service[str(result.details.get("service", "unknown"))].append(result)
    return [
        ServiceOutcome(
            service=service,
            passed=all(r.passed for r in checks),
            latency_ms=max(_latency(r) for r in checks),
            failures=tuple(f"{r.name}: {r.reason}" for r in checks if not r.passed),
        )
        for service, checks in sorted(by_service.items())
    ]
