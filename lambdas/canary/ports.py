"""What the canary controller needs from the outside world; adapters/ implement these on AWS, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lambdas.canary.domain import Weights
from lambdas.core.tollgate_events import TollgateEvent


@dataclass(frozen=True)
class ServiceTargets:
    """The service's two target groups as CloudWatch names them: which serves production now, which is new."""

    original: str
    replacement: str


@dataclass(frozen=True)
class DeploymentFacts:
    deployment_group: str
    application: str
    creator: str
    description: str
    version: str


class Traffic(Protocol):
    def targets(self, service: str) -> ServiceTargets: ...

    def shift(self, service: str, weights: Weights) -> str:
        """Point Tollgate's own rule for the service at the given split; returns the rule's ARN."""
        ...

    def restore(self, service: str) -> bool:
        """Remove Tollgate's rule for the service (100% back to what CodeDeploy routes); True if one was there."""
        ...


class Metrics(Protocol):
    def series(
        self, target_group: str, *, start: datetime, end: datetime, period_seconds: int
    ) -> dict[str, list[float | None]]:
        """RequestCount, HTTPCode_Target_5XX_Count, TargetResponseTime_p99: one value per period, oldest first."""
        ...


class Judge(Protocol):
    def judge(self, analysis: Mapping[str, Any]) -> dict[str, Any]:
        """The judgement's verdict JSON (verdict, reason, checks, more_traffic_needed) for ANALYSIS.json."""
        ...


class HookReporter(Protocol):
    def report(self, deployment_id: str, execution_id: str, *, succeeded: bool) -> str:
        """'reported' or 'already_completed' (CodeDeploy had a status: the report is done)."""
        ...


class Announcer(Protocol):
    def announce(self, event: TollgateEvent) -> None: ...


class Records(Protocol):
    """Tollgate's state table: plain records under ``<kind>#<id>`` / ``<record>``."""

    def get(self, kind: str, identifier: str, record: str) -> dict[str, str] | None: ...

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
        """False when ``only_if_absent`` found a record there already, unless ``writer`` wrote it (its own retry)."""
        ...


class Executions(Protocol):
    def start(self, name: str, payload: Mapping[str, str]) -> tuple[str, bool]:
        """Start the canary execution; (arn, False) when one of that name already runs or ran."""
        ...

    def succeed_task(self, token: str, output: Mapping[str, str]) -> bool:
        """Release a waiting task; False when the wait is already over (token unknown or timed out)."""
        ...

    def fail_task(self, token: str, *, error: str, cause: str) -> bool: ...


class Deployments(Protocol):
    def describe(self, deployment_id: str) -> DeploymentFacts: ...


class Flows(Protocol):
    def run(self, service: str) -> dict[str, Any]:
        """Run the service's production synthetic flows once: {passed: bool, reason: str, checks: [...]}."""
        ...
