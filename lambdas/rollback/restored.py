"""Use case: a deployment finished; if it was one of Tollgate's rollbacks, announce the restore once."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lambdas.rollback.adapters.ledger import CLAIM, ROLLBACK
from lambdas.rollback.alarm_rollback import AlarmPorts, ignored
from lambdas.rollback.announcements import restored_event
from lambdas.rollback.deployment_events import DeploymentStateChange
from lambdas.rollback.models import RollbackAction


def handle_deployment_change(event: dict[str, Any], ports: AlarmPorts, *, owner: str) -> dict[str, Any]:
    """``owner``: this invocation's id (the Lambda request id, kept by Lambda's retry), the restore record's writer:
    an invocation that recorded the restore and died before announcing it announces on its retry."""
    try:
        change = DeploymentStateChange.model_validate(event)
    except ValidationError as error:
        return ignored(f"malformed deployment state change: {error.error_count()} error(s)")
    deployment_id = change.detail.deployment_id
    if not change.detail.succeeded:
        return ignored("not a finished deployment", deployment_id=deployment_id[:200])
    ledger, deployments = ports.rollback.ledger, ports.rollback.deployments
    record, key, kind = ledger.find_rollback(deployment_id), deployment_id, ROLLBACK
    if record is None and change.source == "aws.codedeploy":
        # CodeDeploy's own rollback after Tollgate's StopDeployment: find the claim on the stopped deployment.
        triggering = deployments.rollback_triggered_by(deployment_id)
        claim = ledger.find_claim(triggering) if triggering else None
        if claim is not None and claim.action == RollbackAction.STOP_DEPLOYMENT.value and triggering:
            record, key, kind = claim, triggering, CLAIM
    if record is None:
        return ignored(f"deployment {deployment_id[:200]} is not a rollback Tollgate started")
    if not ledger.mark_restored(key, kind, change.time, writer=owner):
        return ignored(f"restore of {record.deployment_id} already announced", deployment_id=deployment_id)
    announcement = restored_event(record, restored_at=change.time, rollback_deployment_id=deployment_id)
    ports.announce(announcement)
    return {
        "decision": "restored",
        "reason": announcement.reason,
        "service": record.service,
        "deployment_id": record.deployment_id,
        "time_to_restore_seconds": announcement.evidence["time_to_restore_seconds"],
    }
