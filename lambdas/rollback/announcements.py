"""What the rollback functions say on Tollgate's bus (pure: built from decisions, sent by the handler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.core.config import Severity
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.rollback.models import Outcome, RollbackDecision, RollbackRecord

_DETAIL_TYPES = {
    Outcome.ROLLBACK: DetailType.ROLLBACK_STARTED,
    Outcome.SKIPPED: DetailType.ROLLBACK_SKIPPED,
    Outcome.ANNOUNCED: DetailType.ALARM_ANNOUNCED,
    Outcome.JOINED: DetailType.ROLLBACK_JOINED,
}
_SUMMARIES = {
    Outcome.ROLLBACK: "Rollback started for {service} in {environment}",
    Outcome.SKIPPED: "Rollback skipped for {service} in {environment}",
    Outcome.ANNOUNCED: "Alarm on {service} in {environment}",
    Outcome.JOINED: "Alarm joined the rollback of {service} in {environment}",
}


def decision_event(decision: RollbackDecision, *, now: datetime, evidence: dict[str, Any]) -> TollgateEvent | None:
    """The announcement of a decision; None for decisions nobody needs to hear about (logged instead)."""
    detail_type = _DETAIL_TYPES.get(decision.outcome)
    if detail_type is None:
        return None
    summary = _SUMMARIES[decision.outcome].format(service=decision.service or "?", environment=decision.environment)
    return TollgateEvent(
        detail_type=detail_type,
        environment=decision.environment,
        severity=decision.severity,
        summary=summary,
        reason=decision.reason[:2000],
        service=decision.service,
        deployment_id=decision.deployment_id,
        occurred_at=now,
        evidence={
            "action": decision.action.value,
            "target_task_definition": decision.target_task_definition,
            **evidence,
        },
    )


def restored_event(record: RollbackRecord, *, restored_at: datetime, rollback_deployment_id: str) -> TollgateEvent:
    """Rollback Restored, with the time to restore measured from the alarm (or the request) to now."""
    began = record.alarm_time or record.started_at
    seconds = max(0.0, (restored_at - began).total_seconds())
    return TollgateEvent(
        detail_type=DetailType.ROLLBACK_RESTORED,
        environment=record.environment,
        severity=Severity.INFO,
        summary=f"Rollback restored {record.service} in {record.environment} in {seconds:.0f} s",
        reason=f"rollback deployment {rollback_deployment_id} of {record.deployment_id} succeeded",
        service=record.service,
        deployment_id=record.deployment_id,
        occurred_at=restored_at,
        evidence={
            "rollback_deployment_id": rollback_deployment_id,
            "action": record.action,
            "alarm_name": record.alarm_name,
            "alarm_time": began.isoformat(),
            "time_to_restore_seconds": round(seconds, 3),
        },
    )
