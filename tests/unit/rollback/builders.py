"""Real-shaped events for the rollback tests (pure builders, shared by unit and functional tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def alarm_state_change(
    name: str,
    *,
    state: str = "ALARM",
    event_id: str | None = None,
    tags: dict[str, str] | None = None,
    suppressed_by: str | None = None,
    muted: bool = False,
    at: datetime | None = None,
    account: str = "123456789012",
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """A real-shaped "CloudWatch Alarm State Change" event."""
    when = (at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "+0000")
    state_detail: dict[str, Any] = {"value": state, "reason": f"test: {state}", "timestamp": when}
    if suppressed_by:
        state_detail["actionsSuppressedBy"] = suppressed_by
        state_detail["actionsSuppressedReason"] = "Alarm is in ALARM during a maintenance window"
    detail: dict[str, Any] = {
        "alarmName": name,
        "state": state_detail,
        "previousState": {"value": "OK", "reason": "test", "timestamp": when},
        "configuration": {"metrics": []},
    }
    if tags is not None:
        detail["alarmTags"] = tags
    if muted:
        detail["muteDetail"] = {"mutedBy": "tollgate-maintenance"}
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": when,
        "region": region,
        "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"],
        "detail": detail,
    }


def deployment_state_change(
    deployment_id: str, *, state: str = "SUCCESS", source: str = "aws.codedeploy", at: datetime | None = None
) -> dict[str, Any]:
    """A CodeDeploy (or, with ``source="aws.ecs"``, ECS) deployment state change event."""
    when = (at or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    if source == "aws.ecs":
        detail_type = "ECS Deployment State Change"
        event_name = "SERVICE_DEPLOYMENT_COMPLETED" if state == "SUCCESS" else "SERVICE_DEPLOYMENT_IN_PROGRESS"
        detail: dict[str, Any] = {"eventType": "INFO", "eventName": event_name, "deploymentId": deployment_id}
    else:
        detail_type = "CodeDeploy Deployment State-change Notification"
        detail = {"deploymentId": deployment_id, "state": state, "application": "lms", "deploymentGroup": "lms"}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": when,
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }
