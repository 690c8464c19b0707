"""Pipeline metrics over the ledger (pure): DORA's four keys plus build success rate and build time.

For one environment over the window ``[now - lookback, now]``, per LMS service:

* ``DeploymentCount``: deployments (not rollbacks) that finished in the window.
* ``DeploymentFrequency``: successful deployments per day.
* ``LeadTimeSeconds``: median of commit time -> success, over successful deployments whose description
  names the commit time (in production: commit -> production).
* ``ChangeFailureRate``: percent of finished deployments that failed, were stopped, were rolled back, or
  were *the deployment live* when a critical alarm or rollback came within the configured window after
  it went live. An incident is attributed to one deployment only: the one it names, else the service's
  latest successful deployment that finished before it (the live one), not every deployment of the day.
* ``TimeToRestoreSeconds``: mean time to restore of the rolled-back deployments that were restored.
* ``RollbackCount``, ``CanaryStepCount``: rollbacks and canary steps (passed or failed) recorded.

Builds (environment-wide): ``BuildCount``, ``BuildSuccessRate`` (%), ``BuildDurationSeconds`` (mean).
A metric with no data (no successful deployment for a lead time) is left out rather than published as 0.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, median

from lambdas.core.tollgate_events import DetailType
from lambdas.ledger.model import BuildRecord, DecisionRecord, DeploymentRecord, Outcome

SECONDS_PER_DAY = 86_400
CANARY_STEPS = frozenset({DetailType.CANARY_STEP_PASSED.value, DetailType.CANARY_STEP_FAILED.value})
ROLLBACKS = frozenset({DetailType.ROLLBACK_STARTED.value})
INCIDENTS = frozenset({DetailType.ROLLBACK_STARTED.value, DetailType.ALARM_ANNOUNCED.value})
BUILDS = "builds"  # the "service" dimension value of the environment-wide build metrics


@dataclass(frozen=True)
class MetricValue:
    name: str
    unit: str  # a CloudWatch unit: Count, Seconds, Percent
    value: float


@dataclass(frozen=True)
class MetricSet:
    environment: str
    service: str
    values: tuple[MetricValue, ...]

    def as_dict(self) -> dict[str, float]:
        return {v.name: v.value for v in self.values}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    change_failure_window: timedelta

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / SECONDS_PER_DAY

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment <= self.end


def _is_incident(decision: DecisionRecord) -> bool:
    return decision.what in INCIDENTS and decision.severity == "critical"


def failed_changes(
    deployments: Sequence[DeploymentRecord], decisions: Iterable[DecisionRecord], window: timedelta
) -> set[str]:
    """Ids of the deployments that count as failed changes (see the module docstring)."""
    failed = {d.deployment_id for d in deployments if d.outcome in (Outcome.FAILED, Outcome.STOPPED) or d.rolled_back}
    live: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for d in deployments:
        if d.service and d.outcome is Outcome.SUCCEEDED and d.ended_at and not d.is_rollback:
            live[d.service].append((d.ended_at, d.deployment_id))
    for timeline in live.values():
        timeline.sort()
    known = {d.deployment_id for d in deployments}
    for decision in decisions:
        if not _is_incident(decision) or not decision.service:
            continue
        if decision.deployment_id in known:
            # The incident names its deployment (a rollback of a release in progress): that one failed.
            failed.add(str(decision.deployment_id))
            continue
        timeline = live.get(decision.service, [])
        index = bisect_right(timeline, (decision.occurred_at, "\uffff")) - 1
        if index >= 0 and decision.occurred_at - timeline[index][0] <= window:
            failed.add(timeline[index][1])
    return failed


def deployment_metrics(
    environment: str,
    deployments: Sequence[DeploymentRecord],
    decisions: Sequence[DecisionRecord],
    window: Window,
) -> list[MetricSet]:
    """One metric set per service that has a deployment or decision in the window."""
    changes = [d for d in deployments if not d.is_rollback]
    failed = failed_changes(changes, decisions, window.change_failure_window)
    by_service: dict[str, list[DeploymentRecord]] = defaultdict(list)
    for d in changes:
        if d.service and window.holds(d.ended_at):
            by_service[d.service].append(d)
    decided: dict[str, list[DecisionRecord]] = defaultdict(list)
    for decision in decisions:
        if decision.service and window.holds(decision.occurred_at):
            decided[decision.service].append(decision)
    sets = []
    for service in sorted(set(by_service) | set(decided)):
        finished = by_service.get(service, [])
        succeeded = [d for d in finished if d.outcome is Outcome.SUCCEEDED]
        values = [
            MetricValue("DeploymentCount", "Count", float(len(finished))),
            MetricValue("DeploymentFrequency", "Count", len(succeeded) / window.days),
            MetricValue("RollbackCount", "Count", float(sum(1 for x in decided[service] if x.what in ROLLBACKS))),
            MetricValue("CanaryStepCount", "Count", float(sum(1 for x in decided[service] if x.what in CANARY_STEPS))),
        ]
        lead_times = [(d.ended_at - d.committed_at).total_seconds() for d in succeeded if d.ended_at and d.committed_at]
        if lead_times:
            values.append(MetricValue("LeadTimeSeconds", "Seconds", float(median(lead_times))))
        if finished:
            failures = sum(1 for d in finished if d.deployment_id in failed)
            values.append(MetricValue("ChangeFailureRate", "Percent", 100.0 * failures / len(finished)))
        restores = [s for d in finished if d.rolled_back and (s := d.restore_seconds) is not None]
        if restores:
            values.append(MetricValue("TimeToRestoreSeconds", "Seconds", fmean(restores)))
        sets.append(MetricSet(environment, service, tuple(values)))
    return sets


def build_metrics(environment: str, builds: Sequence[BuildRecord], window: Window) -> MetricSet | None:
    latest: dict[tuple[str, int], BuildRecord] = {}
    for build in builds:
        if window.holds(build.completed_at):
            current = latest.get((build.repository, build.run_id))
            # A re-run attempt replaces the earlier attempt's result: one run is one build.
            if current is None or build.run_attempt > current.run_attempt:
                latest[(build.repository, build.run_id)] = build
    counted = [b for b in latest.values() if b.conclusion not in ("cancelled", "skipped")]
    if not counted:
        return None
    return MetricSet(
        environment,
        BUILDS,
        (
            MetricValue("BuildCount", "Count", float(len(counted))),
            MetricValue("BuildSuccessRate", "Percent", 100.0 * sum(b.succeeded for b in counted) / len(counted)),
            MetricValue("BuildDurationSeconds", "Seconds", fmean(b.duration_seconds for b in counted)),
        ),
    )


def pipeline_metrics(
    environment: str,
    deployments: Sequence[DeploymentRecord],
    decisions: Sequence[DecisionRecord],
    builds: Sequence[BuildRecord],
    window: Window,
) -> list[MetricSet]:
    sets = deployment_metrics(environment, deployments, decisions, window)
    builds_set = build_metrics(environment, builds, window)
    return [*sets, builds_set] if builds_set else sets


def as_table(sets: Sequence[MetricSet]) -> Mapping[str, Mapping[str, float]]:
    return {s.service: s.as_dict() for s in sets}
