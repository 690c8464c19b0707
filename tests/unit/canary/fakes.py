"""In-memory fakes of every port of the canary controller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdas.canary.controller import ControllerPorts
from lambdas.canary.domain import Weights
from lambdas.canary.ports import DeploymentFacts, ServiceTargets
from lambdas.core.tollgate_events import TollgateEvent

BLUE = "targetgroup/lms-prod-backend-blue/3a2b3c4d5e6f7a80"
GREEN = "targetgroup/lms-prod-backend-green/3a2b3c4d5e6f7a81"


class Fault(Exception):  # noqa: N818 - the name an injected error shows as
    """An injected failure of a port call."""


@dataclass
class FakeTraffic:
    splits: dict[str, Weights] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail_on:
            raise Fault(f"{name} failed")

    def targets(self, service: str) -> ServiceTargets:
        self._call("targets")
        return ServiceTargets(original=BLUE, replacement=GREEN)

    def shift(self, service: str, weights: Weights) -> str:
        self._call("shift")
        self.splits[service] = weights
        return f"rule/{service}"

    def restore(self, service: str) -> bool:
        self._call("restore")
        return self.splits.pop(service, None) is not None


@dataclass
class FakeMetrics:
    canary_errors: float = 0.0
    requests: float = 1000.0
    fail: bool = False
    calls: list[str] = field(default_factory=list)
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def series(self, target_group: str, *, start: datetime, end: datetime, period_seconds: int) -> dict[str, Any]:
        self.calls.append(target_group)
        self.windows.append((start, end))
        if self.fail:
            raise Fault("GetMetricData failed")
        errors = self.canary_errors if target_group == GREEN else 0.0
        return {
            "RequestCount": [self.requests],
            "HTTPCode_Target_5XX_Count": [errors],
            "TargetResponseTime_p99": [0.05],
        }


@dataclass
class FakeJudge:
    """Stands in for lambdas.canary.judgement: fails a canary with any 5xx, inconclusive under 10 requests."""

    forced: dict[str, Any] | None = None
    seen: list[Mapping[str, Any]] = field(default_factory=list)
    fail: bool = False

    def judge(self, analysis: Mapping[str, Any]) -> dict[str, Any]:
        self.seen.append(analysis)
        if self.fail:
            raise Fault("judgement failed")
        if self.forced is not None:
            return self.forced
        canary = analysis["canary"]
        if sum(v or 0 for v in canary["RequestCount"]) < 10:
            return {"verdict": "inconclusive", "reason": "too few requests", "checks": [], "more_traffic_needed": True}
        if sum(v or 0 for v in canary["HTTPCode_Target_5XX_Count"]) > 0:
            return {
                "verdict": "fail",
                "reason": "canary 5xx rate above baseline",
                "checks": [],
                "more_traffic_needed": False,
            }
        return {"verdict": "pass", "reason": "canary matches baseline", "checks": [], "more_traffic_needed": False}


@dataclass
class FakeReporter:
    reports: list[tuple[str, str, bool]] = field(default_factory=list)
    fail_times: int = 0

    def report(self, deployment_id: str, execution_id: str, *, succeeded: bool) -> str:
        if self.fail_times:
            self.fail_times -= 1
            raise Fault("PutLifecycleEventHookExecutionStatus failed")
        already = any(r[:2] == (deployment_id, execution_id) for r in self.reports)
        self.reports.append((deployment_id, execution_id, succeeded))
        return "already_completed" if already else "reported"

    def first_reports(self) -> list[tuple[str, str, bool]]:
        """What CodeDeploy keeps: the first report of each hook execution."""
        seen: dict[tuple[str, str], bool] = {}
        for deployment_id, execution_id, succeeded in self.reports:
            seen.setdefault((deployment_id, execution_id), succeeded)
        return [(d, e, s) for (d, e), s in seen.items()]


@dataclass
class FakeAnnouncer:
    events: list[TollgateEvent] = field(default_factory=list)

    def announce(self, event: TollgateEvent) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.detail_type.value for e in self.events]


@dataclass
class FakeRecords:
    items: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    writers: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def get(self, kind: str, identifier: str, record: str) -> dict[str, str] | None:
        found = self.items.get((kind, identifier, record))
        return dict(found) if found is not None else None

    def put(
        self,
        kind: str,
        identifier: str,
        record: str,
        attributes: Mapping[str, str],
        *,
        now: datetime,
        only_if_absent: bool,
        writer: str | None = None,
    ) -> bool:
        reserved = {"pk", "sk", "status", "owner", "lease_until", "expires_at", "writer"} & set(attributes)
        assert not reserved, f"the state table reserves {reserved}"  # as lambdas/core/state_table.py does
        where = (kind, identifier, record)
        if only_if_absent and where in self.items:
            return writer is not None and self.writers.get(where) == writer
        self.items[where] = dict(attributes)
        if writer:
            self.writers[where] = writer
        else:
            self.writers.pop(where, None)
        return True


@dataclass
class FakeExecutions:
    started: dict[str, Mapping[str, str]] = field(default_factory=dict)
    released: list[tuple[str, str, Mapping[str, str]]] = field(default_factory=list)
    open_tokens: set[str] = field(default_factory=set)

    def start(self, name: str, payload: Mapping[str, str]) -> tuple[str, bool]:
        arn = f"arn:aws:states:eu-west-1:333333333333:execution:canary:{name}"
        if name in self.started:
            return arn, False
        self.started[name] = dict(payload)
        return arn, True

    def succeed_task(self, token: str, output: Mapping[str, str]) -> bool:
        if token not in self.open_tokens:
            return False
        self.open_tokens.discard(token)
        self.released.append((token, "success", dict(output)))
        return True

    def fail_task(self, token: str, *, error: str, cause: str) -> bool:
        if token not in self.open_tokens:
            return False
        self.open_tokens.discard(token)
        self.released.append((token, error, {"cause": cause}))
        return True


@dataclass
class FakeDeployments:
    group: str = "lms-production-backend"
    application: str = "lms-production"
    creator: str = "user"
    description: str = "release v1.4.2 by octocat"

    def describe(self, deployment_id: str) -> DeploymentFacts:
        return DeploymentFacts(
            deployment_group=self.group,
            application=self.application,
            creator=self.creator,
            description=self.description,
            version="lms-production-backend:42",
        )


@dataclass
class FakeFlows:
    runs: list[str] = field(default_factory=list)

    def run(self, service: str) -> dict[str, Any]:
        self.runs.append(service)
        return {"passed": True, "reason": "2 flows passed", "checks": []}


@dataclass
class World:
    traffic: FakeTraffic = field(default_factory=FakeTraffic)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    judge: FakeJudge = field(default_factory=FakeJudge)
    reporter: FakeReporter = field(default_factory=FakeReporter)
    announcer: FakeAnnouncer = field(default_factory=FakeAnnouncer)
    records: FakeRecords = field(default_factory=FakeRecords)
    deployments: FakeDeployments = field(default_factory=FakeDeployments)
    flows: FakeFlows = field(default_factory=FakeFlows)
    executions: FakeExecutions = field(default_factory=FakeExecutions)

    @property
    def ports(self) -> ControllerPorts:
        return ControllerPorts(
            traffic=self.traffic,
            metrics=self.metrics,
            judge=self.judge,
            reporter=self.reporter,
            announcer=self.announcer,
            records=self.records,
            deployments=self.deployments,
            flows=self.flows,
            executions=self.executions,
        )
