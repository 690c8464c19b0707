"""What the rollback decision reads (a service's deployments) and what it decides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from lambdas.core.config import Severity


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class DeploymentPhase(StrEnum):
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


class DeploymentRecord(_Frozen):
    """One deployment of a service, from CodeDeploy (blue/green) or ECS (rolling)."""

    deployment_id: str
    phase: DeploymentPhase
    created_at: datetime
    completed_at: datetime | None = None
    # Created by a rollback: Tollgate's own, or CodeDeploy's (rollbackInfo / creator).
    is_rollback: bool = False
    task_definition: str | None = None
    # For a rollback deployment: the deployment it rolls back (CodeDeploy's rollbackInfo or Tollgate's description).
    rolls_back: str | None = None


class DeploymentState(_Frozen):
    """What the decision needs to know about one service's deployments."""

    service: str
    latest: DeploymentRecord | None = None
    # What the service runs now (its latest deployment's, or the ECS service's task definition).
    current_task_definition: str | None = None
    # The revision to go back to: the newest registered task definition older than the latest one's.
    previous_task_definition: str | None = None


class RollbackAction(StrEnum):
    STOP_DEPLOYMENT = "stop_deployment"  # CodeDeploy StopDeployment(autoRollbackEnabled=True)
    REDEPLOY_PREVIOUS = "redeploy_previous"  # CodeDeploy CreateDeployment of the previous task definition
    UPDATE_SERVICE = "update_service"  # ECS UpdateService to the previous task definition (rolling)
    NONE = "none"


class Outcome(StrEnum):
    ROLLBACK = "rollback"  # act, then announce Rollback Started
    SKIPPED = "skipped"  # a rollback was considered and not done: announce Rollback Skipped
    ANNOUNCED = "announced"  # nothing to roll back, but people should know: announce Alarm Announced
    IGNORED = "ignored"  # nothing to do and nothing to say (logged with the reason)
    JOINED = "joined"  # a rollback of this deployment is already under way: announce Alarm Joined Rollback (info)


class RollbackDecision(_Frozen):
    outcome: Outcome
    action: RollbackAction = RollbackAction.NONE
    reason: str
    environment: str
    service: str | None = None
    severity: Severity = Severity.INFO
    deployment_id: str | None = None
    target_task_definition: str | None = None
    # Tollgate's own canary moves listener weights itself: put 100% back on blue before stopping.
    restore_blue_first: bool = False

    @property
    def acts(self) -> bool:
        return self.outcome is Outcome.ROLLBACK


class RollbackRecord(_Frozen):
    """A claim on a deployment, or a rollback deployment, as remembered in the state table."""

    environment: str
    service: str
    deployment_id: str  # the deployment rolled back
    action: str
    alarm_name: str | None = None
    alarm_time: datetime | None = None
    started_at: datetime
    rollback_deployment_id: str | None = None
    restored_at: datetime | None = None
    event_id: str | None = None  # the event whose invocation claimed the deployment (its duplicates answer alike)
    stop_status: str | None = None
