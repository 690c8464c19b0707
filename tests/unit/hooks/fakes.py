"""In-memory fakes of every hook port (lambdas/hooks/ports.py): the unit tests use these, never moto."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.core.errors import StateTableError
from lambdas.core.state_table import Claim, ClaimState, StateItem, StateKey, key
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.hooks.adapters.codedeploy import DeploymentTarget, ReportOutcome
from lambdas.hooks.adapters.secrets import SyntheticUser
from lambdas.hooks.checks import CheckPorts
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import (
    AnnounceFailedError,
    DeploymentLookupError,
    MetricsError,
    ReportError,
    SyntheticUserError,
    TrafficError,
)
from lambdas.hooks.http_client import HttpRequest, HttpResponse
from lambdas.hooks.metric_gate import TargetGroupMetrics
from lambdas.hooks.model import ReportStatus
from lambdas.hooks.policy import Approval
from lambdas.hooks.run_hook import HookPorts


class Kill(BaseException):
    """The function died here (a Lambda timeout)."""


@dataclass
class FakeReporter:
    """CodeDeploy's hook status: the first accepted status wins, later ones are 'already completed'."""

    errors: list[ReportError | BaseException] = field(default_factory=list)
    statuses: dict[tuple[str, str], ReportStatus] = field(default_factory=dict)
    calls: list[tuple[str, str, ReportStatus]] = field(default_factory=list)
    deadlines: list[float] = field(default_factory=list)
    kill_after: bool = False

    def report(
        self, deployment_id: str, execution_id: str, status: ReportStatus, *, deadline: Deadline
    ) -> ReportOutcome:
        self.calls.append((deployment_id, execution_id, status))
        self.deadlines.append(deadline.remaining_seconds())
        if self.errors:
            raise self.errors.pop(0)
        if (deployment_id, execution_id) in self.statuses:
            return "already_completed"
        self.statuses[(deployment_id, execution_id)] = status
        if self.kill_after:
            self.kill_after = False
            raise Kill("after the report")
        return "reported"

    def accepted(self) -> list[ReportStatus]:
        return list(self.statuses.values())


@dataclass
class FakeDeployments:
    targets: dict[str, DeploymentTarget] = field(default_factory=dict)

    def describe(self, deployment_id: str, *, deadline: Deadline) -> DeploymentTarget:
        if deployment_id not in self.targets:
            raise DeploymentLookupError(f"GetDeployment {deployment_id}: DeploymentDoesNotExistException")
        return self.targets[deployment_id]


@dataclass
class FakeTraffic:
    target_group: str | None = None
    missing_reason: str = "the production listener forwards to none of a, b"

    def replacement_target_group(
        self, config: EnvironmentConfig, hook: Hook, service: str, *, deadline: Deadline
    ) -> str:
        if self.target_group is None:
            raise TrafficError(self.missing_reason)
        return self.target_group


@dataclass
class FakeMetrics:
    metrics: TargetGroupMetrics | None = None
    asked: list[dict[str, Any]] = field(default_factory=list)

    def target_group_metrics(
        self, *, load_balancer: str, target_group: str, start: datetime, end: datetime, deadline: Deadline
    ) -> TargetGroupMetrics:
        self.asked.append({"target_group": target_group, "start": start, "end": end})
        if self.metrics is None:
            raise MetricsError(f"GetMetricData for {target_group}: InternalFailure")
        return self.metrics


@dataclass
class FakeSecrets:
    user: SyntheticUser | None = None

    def synthetic_user(self, secret_name: str, *, deadline: Deadline) -> SyntheticUser:
        if self.user is None:
            raise SyntheticUserError(f"secret {secret_name}: ResourceNotFoundException")
        return self.user


@dataclass
class FakeApprovals:
    approvals: dict[str, Approval] = field(default_factory=dict)

    def find_approval(self, table: str, deployment_id: str) -> Approval | None:
        return self.approvals.get(deployment_id)


@dataclass
class FakeClaims:
    """The state table's lease semantics in memory, with scripted failures per operation."""

    items: dict[StateKey, StateItem] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)  # operation -> how many next calls fail
    kill: set[str] = field(default_factory=set)  # operations that kill the function after succeeding
    calls: list[str] = field(default_factory=list)

    def _step(self, operation: str) -> None:
        self.calls.append(operation)
        if self.fail.get(operation, 0) > 0:
            self.fail[operation] -= 1
            raise StateTableError(f"state table: {operation}: InternalFailure")

    def _killed(self, operation: str) -> None:
        if operation in self.kill:
            self.kill.discard(operation)
            raise Kill(f"after {operation}")

    def find(self, deployment_id: str, execution_id: str, *, deadline: Deadline) -> dict[str, str] | None:
        self._step("find")
        item = self.items.get(key("hook-report", deployment_id, execution_id))
        return dict(item.attributes) if item is not None and item.done else None

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
    ) -> Claim:
        self._step("claim")
        state_key = key("hook-report", deployment_id, execution_id)
        previous = self.items.get(state_key)
        if previous is not None and (previous.done or (previous.lease_until or 0) >= now.timestamp()):
            state = ClaimState.DONE if previous.done else ClaimState.HELD
            return Claim(state=state, key=state_key, owner=owner, previous=previous)
        self.items[state_key] = StateItem(
            status="leased", owner=owner, lease_until=(now + lease).timestamp(), attributes=dict(attributes)
        )
        self._killed("claim")
        state = ClaimState.TAKEN_OVER if previous is not None else ClaimState.WON
        return Claim(state=state, key=state_key, owner=owner, previous=previous)

    def complete(self, claim: Claim, *, now: datetime, attributes: dict[str, str], deadline: Deadline) -> bool:
        self._step("complete")
        item = self.items.get(claim.key)
        if item is None or item.owner != claim.owner:
            return False
        self.items[claim.key] = StateItem(
            status="done", owner=item.owner, lease_until=None, attributes={**item.attributes, **attributes}
        )
        self._killed("complete")
        return True

    def release(self, claim: Claim, *, deadline: Deadline) -> None:
        self._step("release")
        item = self.items.get(claim.key)
        if item is not None and item.owner == claim.owner and not item.done:
            del self.items[claim.key]


@dataclass
class FakeAnnouncer:
    events: list[TollgateEvent] = field(default_factory=list)
    failing: bool = False

    def announce(self, event: TollgateEvent, *, deadline: Deadline) -> None:
        if self.failing:
            raise AnnounceFailedError("InternalFailure")
        self.events.append(event)


@dataclass
class FakeLms:
    """A stand-in LMS as a Sender: signs in, echoes the bearer token it is sent, answers health."""

    token: str = "tok-0123456789abcdef"
    echo_token: bool = True
    health_status: str = "ok"
    hang: bool = False
    requests: list[HttpRequest] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)

    def __call__(self, request: HttpRequest, timeout: float) -> HttpResponse:
        import json  # noqa: PLC0415
        import time  # noqa: PLC0415

        self.requests.append(request)
        self.timeouts.append(timeout)
        if self.hang:
            time.sleep(timeout)
            from lambdas.hooks.http_client import HttpRequestError  # noqa: PLC0415

            raise HttpRequestError(f"no response within {timeout:.1f} s")
        path = request.url.split("//", 1)[-1].split("/", 1)[-1]
        auth = request.headers.get("Authorization", "")
        status = 200
        body: dict[str, Any]
        if path.startswith("api/auth"):
            body = {"access_token": self.token, "token_type": "bearer"}
        elif path.startswith("api/health"):
            body = {"status": self.health_status}
        elif path.startswith("api/loan-applications/"):
            # Echoes the bearer token back where the flow expects the status: the token reaches the reason.
            body = {"id": "app-42424242", "status": auth if self.echo_token else "submitted"}
        else:
            status, body = 201, {"id": "app-42424242", "synthetic": True}
        return HttpResponse(status=status, body=json.dumps(body).encode(), elapsed_ms=1.0)


@dataclass
class FakeWatch:
    """The post-shift watch: started executions by deployment, or a refusal."""

    started: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    error: Exception | None = None

    def start(self, deployment_id: str, execution_id: str, *, shifted_at: datetime, deadline: Deadline) -> bool:
        if self.error is not None:
            raise self.error
        if deployment_id in self.started:
            return False
        self.started[deployment_id] = (execution_id, shifted_at)
        return True


@dataclass
class World:
    reporter: FakeReporter = field(default_factory=FakeReporter)
    deployments: FakeDeployments = field(default_factory=FakeDeployments)
    traffic: FakeTraffic = field(default_factory=FakeTraffic)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    approvals: FakeApprovals = field(default_factory=FakeApprovals)
    claims: FakeClaims | None = field(default_factory=FakeClaims)
    announcer: FakeAnnouncer = field(default_factory=FakeAnnouncer)
    lms: FakeLms = field(default_factory=FakeLms)
    watch: FakeWatch | None = None

    def ports(self) -> HookPorts:
        return HookPorts(
            checks=CheckPorts(
                deployments=self.deployments,
                traffic=self.traffic,
                metrics=self.metrics,
                secrets=self.secrets,
                approvals=self.approvals,
                send=self.lms,
            ),
            reporter=self.reporter,
            claims=self.claims,
            announcer=self.announcer,
            watch=self.watch,
        )
