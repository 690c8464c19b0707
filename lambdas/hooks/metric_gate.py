"""Metric gate: is the new target group healthy enough (pure decision)?"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from lambdas.core.config import InsufficientDataOutcome, Thresholds
from lambdas.hooks.model import CheckKind, CheckResult


class TargetGroupMetrics(BaseModel):
    """Raw numbers over the window; the ratio is computed here (moto does not evaluate metric math)."""

    model_config = ConfigDict(frozen=True)

    target_group: str
    requests: float
    errors_5xx: float
    p99_latency_ms: float | None
    window_minutes: int


def judge_target_group_health(metrics: TargetGroupMetrics, thresholds: Thresholds) -> CheckResult:
    details: dict[str, float | int | str | None] = {
        "target_group": metrics.target_group,
        "requests": metrics.requests,
        "errors_5xx": metrics.errors_5xx,
        "p99_latency_ms": metrics.p99_latency_ms,
        "window_minutes": metrics.window_minutes,
        "error_rate_threshold_percent": thresholds.error_rate_percent,
        "p99_threshold_ms": thresholds.p99_latency_ms,
        "min_requests": thresholds.min_requests,
    }
    name = "metric gate"
    if metrics.requests < thresholds.min_requests or metrics.requests <= 0:
        passed = thresholds.insufficient_data is InsufficientDataOutcome.PASS
        return CheckResult(
            name=name,
            kind=CheckKind.METRIC_GATE,
            passed=passed,
            reason=f"too little data: {metrics.requests:g} requests in {metrics.window_minutes} min "
            f"(fewer than {thresholds.min_requests}); configured outcome is {thresholds.insufficient_data.value}",
            details={**details, "insufficient_data": True},
        )
    error_rate = 100.0 * metrics.errors_5xx / metrics.requests
    details["error_rate_percent"] = round(error_rate, 3)
    problems = []
    if error_rate > thresholds.error_rate_percent:
        problems.append(f"5xx rate {error_rate:.2f}% > {thresholds.error_rate_percent:g}%")
    if metrics.p99_latency_ms is None:
        # Requests without latency data should not happen on an ALB; treat it like too little data.
        if thresholds.insufficient_data is InsufficientDataOutcome.FAIL:
            problems.append("no p99 latency data")
    elif metrics.p99_latency_ms > thresholds.p99_latency_ms:
        problems.append(f"p99 latency {metrics.p99_latency_ms:.0f} ms > {thresholds.p99_latency_ms} ms")
    if problems:
        reason = "; ".join(problems)
        return CheckResult(name=name, kind=CheckKind.METRIC_GATE, passed=False, reason=reason, details=details)
    latency = "no latency data" if metrics.p99_latency_ms is None else f"p99 {metrics.p99_latency_ms:.0f} ms"
    return CheckResult(
        name=name,
        kind=CheckKind.METRIC_GATE,
        passed=True,
        reason=f"5xx rate {error_rate:.2f}%, {latency} over {metrics.requests:g} requests",
        details=details,
    )
