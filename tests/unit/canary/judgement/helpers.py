"""Builders for canary analyses in the judgement tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambdas.canary.judgement import CanaryAnalysis, MetricSeries
from lambdas.core.config import CanaryAnalysisPolicy, load_environment

REPO_ROOT = Path(__file__).resolve().parents[4]
SAMPLES_DIR = REPO_ROOT / "events" / "canary"

Values = Sequence[float | None]


def series(requests: Values, errors: Values, p99: Values) -> MetricSeries:
    return MetricSeries(
        request_count=tuple(None if v is None else float(v) for v in requests),
        errors_5xx=tuple(None if v is None else float(v) for v in errors),
        p99_seconds=tuple(p99),
    )


def analysis(baseline: MetricSeries, canary: MetricSeries, *, step: int = 10, period: int = 60) -> CanaryAnalysis:
    return CanaryAnalysis(service="backend", step_percent=step, period_seconds=period, baseline=baseline, canary=canary)


def steady(
    periods: int = 8,
    *,
    canary_requests: float = 100,
    baseline_requests: float = 900,
    canary_errors: float | None = None,
    baseline_errors: float | None = 2,
    canary_p99: float = 0.45,
    baseline_p99: float = 0.45,
) -> CanaryAnalysis:
    """Every period alike: a flat canary and baseline."""
    return analysis(
        series([baseline_requests] * periods, [baseline_errors] * periods, [baseline_p99] * periods),
        series([canary_requests] * periods, [canary_errors] * periods, [canary_p99] * periods),
    )


def production_policy() -> CanaryAnalysisPolicy:
    return load_environment("production").canary_analysis


def sample(name: str) -> Any:
    return json.loads((SAMPLES_DIR / f"{name}.json").read_text(encoding="utf-8"))
