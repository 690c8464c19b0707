"""Use case: compute the pipeline metrics over the ledger and publish them (on a schedule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from lambdas.core.config import EnvironmentConfig
from lambdas.ledger.metrics import MetricSet, Window, pipeline_metrics
from lambdas.ledger.ports import LedgerReader

PIPELINE_NAMESPACE = "Tollgate/Pipeline"


class MetricsSink(Protocol):
    def publish(self, *, environment: str, service: str, values: Mapping[str, tuple[str, float]]) -> None: ...


@dataclass(frozen=True)
class PublishResult:
    decision: str
    reason: str
    metrics: dict[str, dict[str, float]]

    def as_dict(self) -> dict[str, object]:
        return {"decision": self.decision, "reason": self.reason, "metrics": self.metrics}


def window_for(config: EnvironmentConfig, now: datetime) -> Window:
    records = config.records
    return Window(
        start=now - timedelta(days=records.metrics_lookback_days),
        end=now,
        change_failure_window=timedelta(minutes=records.change_failure_window_minutes),
    )


def compute(config: EnvironmentConfig, reader: LedgerReader, now: datetime) -> list[MetricSet]:
    window = window_for(config, now)
    # A deployment that finished in the window may have started before it (a long bake): read a day more.
    # Incidents after the window's start may point at a deployment from before it (one change window more).
    since = window.start - timedelta(days=1) - window.change_failure_window
    deployments = reader.deployments(config.name, since, now)
    decisions = reader.decisions(config.name, window.start, now)
    builds = reader.builds(config.name, window.start, now)
    return pipeline_metrics(config.name, deployments, decisions, builds, window)


def publish_pipeline_metrics(
    config: EnvironmentConfig, reader: LedgerReader, sink: MetricsSink, now: datetime
) -> PublishResult:
    sets = compute(config, reader, now)
    for metric_set in sets:
        sink.publish(
            environment=metric_set.environment,
            service=metric_set.service,
            values={v.name: (v.unit, v.value) for v in metric_set.values},
        )
    published = {s.service: s.as_dict() for s in sets}
    reason = f"{sum(len(s.values) for s in sets)} metrics for {len(sets)} series" if sets else "nothing in the window"
    return PublishResult("published", reason, published)
