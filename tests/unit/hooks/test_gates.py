"""Metric gate, policy gates and the verdict: pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.core.config import ChangeFreeze, InsufficientDataOutcome, Thresholds
from lambdas.hooks.metric_gate import TargetGroupMetrics, judge_target_group_health
from lambdas.hooks.model import CheckKind, CheckResult, ReportStatus, decide_verdict, failed_verdict
from lambdas.hooks.policy import Approval, judge_approval, judge_change_freeze

THRESHOLDS = Thresholds(error_rate_percent=1, p99_latency_ms=1000, min_requests=50)


def metrics(requests: float, errors: float, p99: float | None) -> TargetGroupMetrics:
    return TargetGroupMetrics(
        target_group="tg", requests=requests, errors_5xx=errors, p99_latency_ms=p99, window_minutes=5
    )


@given(
    requests=st.integers(min_value=50, max_value=10**6),
    error_fraction=st.floats(min_value=0, max_value=1),
    p99=st.floats(min_value=0, max_value=5000),
)
def test_metric_gate_passes_exactly_when_both_thresholds_hold(requests: int, error_fraction: float, p99: float) -> None:
    errors = round(requests * error_fraction)
    result = judge_target_group_health(metrics(requests, errors, p99), THRESHOLDS)
    expected = 100 * errors / requests <= THRESHOLDS.error_rate_percent and p99 <= THRESHOLDS.p99_latency_ms
    assert result.passed is expected


@given(requests=st.integers(min_value=0, max_value=49), outcome=st.sampled_from(list(InsufficientDataOutcome)))
def test_too_little_data_follows_the_configured_outcome(requests: int, outcome: InsufficientDataOutcome) -> None:
    thresholds = THRESHOLDS.model_copy(update={"insufficient_data": outcome})
    result = judge_target_group_health(metrics(requests, requests, 9999), thresholds)
    assert result.passed is (outcome is InsufficientDataOutcome.PASS)
    assert "too little data" in result.reason


@pytest.mark.parametrize(
    ("outcome", "passed"), [(InsufficientDataOutcome.FAIL, False), (InsufficientDataOutcome.PASS, True)]
)
def test_missing_latency_with_traffic_is_insufficient_data(outcome: InsufficientDataOutcome, passed: bool) -> None:
    thresholds = THRESHOLDS.model_copy(update={"insufficient_data": outcome})
    assert judge_target_group_health(metrics(100, 0, None), thresholds).passed is passed


FREEZE = ChangeFreeze(
    start=datetime(2026, 12, 24, tzinfo=UTC), end=datetime(2026, 12, 27, tzinfo=UTC), reason="holiday change freeze"
)


@given(offset_hours=st.integers(min_value=-200, max_value=200))
def test_change_freeze_blocks_exactly_inside_the_window(offset_hours: int) -> None:
    now = FREEZE.start + timedelta(hours=offset_hours)
    result = judge_change_freeze((FREEZE,), now=now)
    assert result.passed is not (FREEZE.start <= now < FREEZE.end)
    if not result.passed:
        assert "holiday change freeze" in result.reason


def test_approval_gate() -> None:
    approval = Approval(deployment_id="d-A", environment="production", approved_by="al", approved_at=datetime.now(UTC))
    assert not judge_approval(None, deployment_id="d-A", environment="production").passed
    assert judge_approval(approval, deployment_id="d-A", environment="production").passed
    assert not judge_approval(approval, deployment_id="d-B", environment="production").passed
    assert not judge_approval(approval, deployment_id="d-A", environment="staging").passed


@given(st.lists(st.booleans(), max_size=6))
def test_verdict_succeeds_only_when_every_check_passed(outcomes: list[bool]) -> None:
    checks = tuple(
        CheckResult(name=f"c{n}", kind=CheckKind.SYNTHETIC_FLOW, passed=ok, reason="why")
        for n, ok in enumerate(outcomes)
    )
    verdict = decide_verdict(checks)
    assert (verdict.status is ReportStatus.SUCCEEDED) is all(outcomes)
    for n, ok in enumerate(outcomes):
        assert (f"c{n}: why" in verdict.reason) is (not ok)


def test_failed_verdict_keeps_the_reason() -> None:
    verdict = failed_verdict("no config")
    assert verdict.status is ReportStatus.FAILED and verdict.reason == "no config"
