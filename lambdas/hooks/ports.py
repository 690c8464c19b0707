"""The hooks' ports: everything the use case needs from AWS and the outside world, as Protocols.

Adapters in ``adapters/`` implement them; ``tests/unit/hooks/fakes.py`` has an in-memory fake of each.
Every AWS-facing method takes the ``Deadline`` its call (with its retries) must finish by.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.core.state_table import Claim
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.hooks.adapters.codedeploy import DeploymentTarget, ReportOutcome
from lambdas.hooks.adapters.secrets import SyntheticUser
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.metric_gate import TargetGroupMetrics
from lambdas.hooks.model import ReportStatus
from lambdas.hooks.policy import Approval


class HookReporter(Protocol):
    """PutLifecycleEventHookExecutionStatus; raises ReportError."""

    def report(
        self, deployment_id: str, execution_id: str, status: ReportStatus, *, deadline: Deadline
    ) -> ReportOutcome: ...


class DeploymentLookup(Protocol):
    """GetDeployment; raises DeploymentLookupError."""

    def describe(self, deployment_id: str, *, deadline: Deadline) -> DeploymentTarget: ...


class TrafficReader(Protocol):
    """The CloudWatch dimension of the target group carrying the new release; raises TrafficError."""

    def replacement_target_group(
        self, config: EnvironmentConfig, hook: Hook, service: str, *, deadline: Deadline
    ) -> str: ...


class MetricsReader(Protocol):
    """GetMetricData for one target group over [start, end); raises MetricsError."""

    def target_group_metrics(
        self, *, load_balancer: str, target_group: str, start: datetime, end: datetime, deadline: Deadline
    ) -> TargetGroupMetrics: ...


class SecretsReader(Protocol):
    """GetSecretValue of the synthetic user; raises SyntheticUserError."""

    def synthetic_user(self, secret_name: str, *, deadline: Deadline) -> SyntheticUser: ...


class ApprovalReader(Protocol):
    def find_approval(self, table: str, deployment_id: str) -> Approval | None: ...


class ReportClaims(Protocol):
    """Leases on "this execution is being / was reported"; every method raises StateTableError."""

    def find(self, deployment_id: str, execution_id: str, *, deadline: Deadline) -> dict[str, str] | None:
        """The done record's attributes, or None when there is none (or only an unfinished lease)."""
        ...

    def claim(
        self,
        deployment_id: str,
        execution_id: str,
        *,
        owner: str,
        lease: timedelta,
        now: datetime,
        attributes: dict[str, str],
        deadline: Deadline,
    ) -> Claim: ...

    def complete(self, claim: Claim, *, now: datetime, attributes: dict[str, str], deadline: Deadline) -> bool: ...

    def release(self, claim: Claim, *, deadline: Deadline) -> None: ...


class AfterShiftWatch(Protocol):
    """StartExecution of the post-shift watch (a Wait, then this hook again with ``ShiftedAt``); raises WatchError."""

    def start(self, deployment_id: str, execution_id: str, *, shifted_at: datetime, deadline: Deadline) -> bool:
        """True when this call started it, False when an execution for the deployment exists already."""
        ...


class Announcer(Protocol):
    """PutEvents on Tollgate's bus; raises AnnounceFailedError."""

    def announce(self, event: TollgateEvent, *, deadline: Deadline) -> None: ...


Clock = Callable[[], datetime]
