"""Ports: what the rollback use cases need from AWS, as Protocols. Adapters live in ``adapters/``,
in-memory fakes in ``tests/unit/rollback/fakes.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from lambdas.core.observability import logger
from lambdas.core.state_table import Claim
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.rollback.models import DeploymentState, RollbackRecord
from lambdas.rollback.operator import DatabaseRestore, DatabaseState


class DeploymentsPort(Protocol):
    """CodeDeploy (blue/green) and ECS (rolling) deployments of the LMS services."""

    def state(self, service: str, *, is_tollgate_rollback: Callable[[str], bool] | None = None) -> DeploymentState: ...

    def status(self, deployment_id: str) -> str | None:
        """CodeDeploy's status of a deployment (InProgress, Stopped, ...); None when it is unknown."""
        ...

    def stop_with_rollback(self, deployment_id: str) -> str: ...

    def redeploy(self, service: str, task_definition: str, *, rolled_back: str, why: str) -> str: ...

    def update_service(self, service: str, task_definition: str) -> str: ...

    def rollback_in_progress(self, service: str, task_definition: str, *, rolled_back: str) -> str | None:
        """The deployment an earlier (killed) attempt already started towards ``task_definition``, if any."""
        ...

    def resolve_task_definition(self, service: str, revision: str) -> str: ...

    def rollback_triggered_by(self, deployment_id: str) -> str | None: ...


class LedgerPort(Protocol):
    """Leases and records in Tollgate's state table (pk prefix ``rollback#``)."""

    def claim(
        self, record: RollbackRecord, *, owner: str, lease: timedelta, now: datetime, reclaim_own: bool = False
    ) -> Claim: ...

    def complete(self, claim: Claim, record: RollbackRecord, *, now: datetime, result: str | None = None) -> bool: ...

    def release(self, claim: Claim) -> None: ...

    def remember_rollback(self, record: RollbackRecord, now: datetime) -> None: ...

    def find_claim(self, deployment_id: str) -> RollbackRecord | None: ...

    def find_rollback(self, rollback_deployment_id: str) -> RollbackRecord | None: ...

    def is_rollback(self, deployment_id: str) -> bool: ...

    def mark_restored(self, deployment_id: str, kind: str, restored_at: datetime, *, writer: str) -> bool:
        """Record the restore once: False when another invocation recorded it (``writer``'s own retry is True)."""
        ...

    def announced(self, deployment_id: str) -> bool:
        """Whether "Rollback Started" for this deployment's rollback reached the bus."""
        ...

    def mark_announced(self, deployment_id: str, now: datetime) -> None: ...

    def claim_event(self, event_id: str, *, owner: str, lease: timedelta, now: datetime) -> Claim:
        """The once-per-event lease of an event that does not act (its announcement is sent once)."""
        ...

    def complete_event(self, claim: Claim, *, now: datetime, result: str) -> None: ...


class StepsPort(Protocol):
    """Leases on the steps of one operator request (the database restore), so a retry resumes."""

    def claim(
        self, request_id: str, step: str, *, owner: str, lease: timedelta, now: datetime, attributes: dict[str, str]
    ) -> Claim: ...

    def complete(self, claim: Claim, *, now: datetime, attributes: dict[str, str]) -> None: ...

    def release(self, claim: Claim) -> None: ...

    def keep_plan(self, request_id: str, plan: str, *, now: datetime) -> str:
        """Keep the request's plan (JSON) unless an earlier attempt kept one; returns the kept plan."""
        ...

    def kept_plan(self, request_id: str) -> str | None: ...


class DatabasePort(Protocol):
    def state(self, cluster: str) -> DatabaseState: ...

    def restore(self, restore: DatabaseRestore) -> str: ...


class AnnouncerPort(Protocol):
    def __call__(self, event: TollgateEvent) -> str:
        """Put ``event`` on Tollgate's bus; returns its id, raises when the bus did not accept it."""
        ...


class AlarmTagsPort(Protocol):
    def __call__(self, alarm_arn: str) -> dict[str, str]:
        """The alarm's tags; raises ``AlarmTagsError`` when CloudWatch does not give them."""
        ...


class TrafficRestorer(Protocol):
    """Puts 100% of production traffic back on blue before a canary deployment is stopped.

    Tollgate's own canary sets the listener weights itself (10% -> 50% -> 100%), so stopping the
    CodeDeploy deployment alone could leave the weights where the canary put them.
    """

    def restore_blue(self, *, environment: str, service: str, deployment_id: str) -> bool:
        """Return True when weights were changed, False when there was nothing to restore."""
        ...


class NoCanaryController:
    """The stand-in until the canary controller provides a TrafficRestorer: changes nothing."""

    def restore_blue(self, *, environment: str, service: str, deployment_id: str) -> bool:
        # Debug, not info: this runs between the lease and StopDeployment, where formatting and writing a JSON
        # line costs the alarm -> stop path time; the "rollback started" line after the stop records
        # ``restored_blue_first: false`` for every rollback this stand-in leaves to CodeDeploy.
        logger.debug(
            "no canary controller wired: listener weights left to CodeDeploy's rollback",
            extra={"environment": environment, "lms_service": service, "deployment_id": deployment_id},
        )
        return False
