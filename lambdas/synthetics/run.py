"""Use case: one scheduled synthetics run — lease, flows, metrics, release."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambdas.core.config import EnvironmentConfig
from lambdas.synthetics.model import LATENCY_METRIC, SUCCESS_METRIC, ServiceOutcome, outcomes, plan_runs
from lambdas.synthetics.ports import FlowRunner, MetricsSink, RunLease


@dataclass(frozen=True)
class SyntheticsPorts:
    lease: RunLease
    flows: FlowRunner
    metrics: MetricsSink


@dataclass(frozen=True)
class SyntheticsResult:
    decision: str  # ran | skipped
    reason: str
    services: list[ServiceOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "services": [
                {"service": s.service, "passed": s.passed, "latency_ms": s.latency_ms, "failures": list(s.failures)}
                for s in self.services
            ],
        }


def run_synthetics(
    config: EnvironmentConfig, ports: SyntheticsPorts, *, base_url_override: str | None = None
) -> SyntheticsResult:
    runs = plan_runs(config, base_url_override)
    if not runs:
        return SyntheticsResult("skipped", f"no synthetics flows configured for {config.name}")
    if not ports.lease.acquire():
        return SyntheticsResult("skipped", f"a synthetics run of {config.name} is already under way")
    try:
        measured = outcomes(ports.flows.run(runs))
        for outcome in measured:
            ports.metrics.publish(
                environment=config.name,
                service=outcome.service,
                values={
                    SUCCESS_METRIC: ("Count", 1.0 if outcome.passed else 0.0),
                    LATENCY_METRIC: ("Milliseconds", outcome.latency_ms),
                },
            )
    finally:
        # A killed run leaves the lease to expire (one function timeout); a finished one frees it now.
        ports.lease.release()
    failed = [o for o in measured if not o.passed]
    reason = "; ".join(f for o in failed for f in o.failures) or f"{len(runs)} flows passed"
    return SyntheticsResult("ran", reason, measured)
