"""Alarm rollback function.

* ``CloudWatch Alarm State Change`` (aws.cloudwatch): map the alarm to the LMS service it guards,
  decide (``decide_rollback``), roll back at most once per deployment, announce the decision.
* ``CodeDeploy Deployment State-change Notification`` SUCCESS / ``ECS Deployment State Change``
  SERVICE_DEPLOYMENT_COMPLETED: when the deployment is one of Tollgate's rollbacks, announce
  ``Rollback Restored`` with the time to restore.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.rollback.adapters.alarm_tags import AlarmTagsError, read_alarm_tags
from lambdas.rollback.adapters.ledger import CLAIM, ROLLBACK
from lambdas.rollback.alarms import ALARM_STATE_CHANGE, AlarmStateChange, needs_tags
from lambdas.rollback.announcements import decision_event, restored_event
from lambdas.rollback.decision import decide_rollback, service_to_inspect
from lambdas.rollback.deployment_events import (
    CODEDEPLOY_STATE_CHANGE,
    ECS_DEPLOYMENT_STATE_CHANGE,
    DeploymentStateChange,
)
from lambdas.rollback.execute import carry_out
from lambdas.rollback.models import RollbackAction
from lambdas.rollback.wiring import announcer, once_per_event, rollback_ports


def _ignored(reason: str, **extra: Any) -> dict[str, Any]:
    logger.info("event ignored", extra={"reason": reason, **extra})
    return {"decision": "ignored", "reason": reason, **extra}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    processors = {
        ALARM_STATE_CHANGE: process_alarm,
        CODEDEPLOY_STATE_CHANGE: process_deployment_change,
        ECS_DEPLOYMENT_STATE_CHANGE: process_deployment_change,
    }
    process = processors.get(str(detail_type))
    if process is None or not event.get("id"):
        return _ignored(f"not an event this function handles (detail-type {detail_type!r})")
    return once_per_event(process, settings(), context)(event=event)


def process_alarm(event: dict[str, Any]) -> dict[str, Any]:
    """An alarm state change -> decision -> at most one rollback per deployment -> announcement."""
    now = datetime.now(UTC)
    try:
        alarm = AlarmStateChange.model_validate(event)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3]]
        return _ignored(f"malformed alarm state change: {error.error_count()} error(s)", errors=problems)
    function_settings = settings()
    config = function_settings.config
    if needs_tags(alarm, config) and alarm.alarm_arn:
        try:
            alarm = alarm.with_tags(read_alarm_tags(alarm.alarm_arn))
        except AlarmTagsError as error:
            logger.warning("alarm tags unreadable; treating the alarm as untagged", extra={"error": str(error)})
    logger.append_keys(alarm_name=alarm.detail.alarm_name, environment=config.name)
    ports = rollback_ports(function_settings)
    service = service_to_inspect(alarm, config)
    state = ports.deployments.state(service, is_tollgate_rollback=ports.ledger.is_rollback) if service else None
    decision = decide_rollback(alarm, state, config, now)
    execution = carry_out(
        decision, ports, trigger=alarm.detail.alarm_name, trigger_time=alarm.detail.state.timestamp, now=now
    )
    final = execution.decision
    evidence = {
        "alarm_name": alarm.detail.alarm_name,
        "alarm_state": alarm.detail.state.value.value,
        "alarm_reason": alarm.detail.state.reason[:500],
        "alarm_time": alarm.detail.state.timestamp.isoformat(),
        **execution.evidence(),
    }
    announcement = decision_event(final, now=now, evidence=evidence)
    event_id = announcer(function_settings)(announcement) if announcement else None
    logger.info("alarm decided", extra={"decision": final.model_dump(mode="json"), "announcement_id": event_id})
    return {
        "decision": final.outcome.value,
        "reason": final.reason,
        "action": final.action.value,
        "service": final.service,
        "deployment_id": final.deployment_id,
        "announced": event_id is not None,
        **execution.evidence(),
    }


def process_deployment_change(event: dict[str, Any]) -> dict[str, Any]:
    """A deployment finished: if it was one of Tollgate's rollbacks, announce the restore once."""
    try:
        change = DeploymentStateChange.model_validate(event)
    except ValidationError as error:
        return _ignored(f"malformed deployment state change: {error.error_count()} error(s)")
    deployment_id = change.detail.deployment_id
    if not change.detail.succeeded:
        return _ignored("not a finished deployment", deployment_id=deployment_id)
    restored_at = change.time
    function_settings = settings()
    ports = rollback_ports(function_settings)
    record, key, kind = ports.ledger.find_rollback(deployment_id), deployment_id, ROLLBACK
    if record is None and change.source == "aws.codedeploy":
        # CodeDeploy's own rollback after Tollgate's StopDeployment: find the claim on the stopped deployment.
        triggering = ports.deployments.rollback_triggered_by(deployment_id)
        claim = ports.ledger.find_claim(triggering) if triggering else None
        if claim is not None and claim.action == RollbackAction.STOP_DEPLOYMENT.value and triggering:
            record, key, kind = claim, triggering, CLAIM
    if record is None:
        return _ignored(f"deployment {deployment_id} is not a rollback Tollgate started", deployment_id=deployment_id)
    if not ports.ledger.mark_restored(key, kind, restored_at):
        return _ignored(f"restore of {record.deployment_id} already announced", deployment_id=deployment_id)
    announcement = restored_event(record, restored_at=restored_at, rollback_deployment_id=deployment_id)
    announcer(function_settings)(announcement)
    return {
        "decision": "restored",
        "reason": announcement.reason,
        "service": record.service,
        "deployment_id": record.deployment_id,
        "time_to_restore_seconds": announcement.evidence["time_to_restore_seconds"],
    }
