"""Events -> facts for the ledger (pure): what each delivered event says about a deployment or a decision.

Three kinds of event reach the ledger writer:

* ``CodeDeploy Deployment State-change Notification`` (aws.codedeploy): a deployment reached START,
  READY, SUCCESS, FAILURE or STOP (https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html).
* ``ECS Deployment State Change`` (aws.ecs) for rolling updates: SERVICE_DEPLOYMENT_IN_PROGRESS,
  _COMPLETED, _FAILED, ROLLBACK_IN_PROGRESS (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html).
* Every Tollgate announcement on Tollgate's bus (``lambdas.core.tollgate_events``).

Anything else, or a malformed event, is ``None`` with a reason: logged and ignored by the handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType, TollgateEvent
from lambdas.ledger.model import FAILURE, START, SUCCESS, DecisionRecord

# Ids become DynamoDB key parts (a sort key holds at most 1,024 bytes:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys);
# EventBridge ids are UUIDs and deployment ids a few dozen characters.
ID_MAX = 256
CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
ECS_DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
CODEDEPLOY_STATES = frozenset({"START", "READY", "SUCCESS", "FAILURE", "STOP"})
ECS_STATES = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": START,
    "SERVICE_DEPLOYMENT_COMPLETED": SUCCESS,
    "SERVICE_DEPLOYMENT_FAILED": FAILURE,
}
ECS_ROLLBACK = "SERVICE_DEPLOYMENT_ROLLBACK_IN_PROGRESS"
# Where an announcement names the person behind a decision (approvals, operator requests).
ACTOR_KEYS = ("approver", "approved_by", "rejected_by", "by", "requested_by", "actor", "user")
# Which Tollgate function speaks each announcement, when no person is named.
SPEAKERS = {
    DetailType.HOOK_VERDICT: "tollgate deployment hook",
    DetailType.ROLLBACK_STARTED: "tollgate rollback",
    DetailType.ROLLBACK_RESTORED: "tollgate rollback",
    DetailType.ROLLBACK_SKIPPED: "tollgate rollback",
    DetailType.ROLLBACK_JOINED: "tollgate rollback",
    DetailType.ALARM_ANNOUNCED: "tollgate rollback",
}


@dataclass(frozen=True)
class StateFact:
    """A deployment reached a state (CodeDeploy or ECS)."""

    deployment_id: str
    environment: str
    service: str | None
    state: str
    at: datetime
    from_codedeploy: bool
    rolling_back: bool = False  # ECS started rolling this deployment back (circuit breaker)


@dataclass(frozen=True)
class DecisionFact:
    """A Tollgate announcement, and what it changes on its deployment's record."""

    decision: DecisionRecord
    marks_rolled_back: bool = False
    time_to_restore_seconds: float | None = None
    rollback_deployment_id: str | None = None


Fact = StateFact | DecisionFact


def usable_id(value: object) -> bool:
    """A string that can key a record: short, printable ASCII (anything else is not an AWS id)."""
    return isinstance(value, str) and 0 < len(value) <= ID_MAX and value.isascii() and value.isprintable()


def to_fact(event: Any, config: EnvironmentConfig) -> tuple[Fact | None, str]:
    """The fact an EventBridge event states, or None and why it was not one."""
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict) or not usable_id(event.get("id")):
        return None, "not an EventBridge event with a usable id and a detail object"
    detail_type, source = event.get("detail-type"), event.get("source")
    try:
        if source == "aws.codedeploy" and detail_type == CODEDEPLOY_STATE_CHANGE:
            return _codedeploy(event, config)
        if source == "aws.ecs" and detail_type == ECS_DEPLOYMENT_STATE_CHANGE:
            return _ecs(event, config)
        if source == TOLLGATE_SOURCE:
            return _announcement(event, config)
    except (ValueError, TypeError, KeyError) as error:
        return None, f"malformed {detail_type!r} event: {str(error)[:200]}"
    return None, f"not an event the ledger records (source {source!r}, detail-type {detail_type!r})"


def _time(raw: object) -> datetime:
    if not isinstance(raw, str):
        raise ValueError("time is not a string")
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time has no time zone")
    return moment


def _codedeploy(event: dict[str, Any], config: EnvironmentConfig) -> tuple[Fact | None, str]:
    detail = event["detail"]
    deployment_id, state = detail.get("deploymentId"), detail.get("state")
    if not usable_id(deployment_id) or state not in CODEDEPLOY_STATES:
        return None, f"CodeDeploy event without a deployment id or with an unknown state {state!r}"
    if detail.get("application") != config.lms.codedeploy_application:
        return None, f"application {detail.get('application')!r} is not the LMS's in {config.name}"
    service = config.service_for_deployment_group(str(detail.get("deploymentGroup", "")))
    if service is None:
        return None, f"deployment group {detail.get('deploymentGroup')!r} maps to no LMS service"
    at = _time(event.get("time"))
    return StateFact(deployment_id, config.name, service, str(state), at, from_codedeploy=True), "recorded"


def _ecs(event: dict[str, Any], config: EnvironmentConfig) -> tuple[Fact | None, str]:
    detail = event["detail"]
    name = str(detail.get("eventName", ""))
    deployment_id = detail.get("deploymentId")
    resources = event.get("resources") or []
    ecs_service = str(resources[0]).rsplit("/", 1)[-1] if resources else ""
    service = next((n for n, s in config.lms.services.items() if s.ecs_service == ecs_service), None)
    if not isinstance(deployment_id, str) or not usable_id(deployment_id) or service is None:
        return None, f"ECS event names no deployment or no LMS service ({ecs_service!r})"
    if name not in ECS_STATES and name != ECS_ROLLBACK:
        return None, f"ECS event {name!r} is not a deployment state the ledger records"
    at = _time(detail.get("updatedAt") or event.get("time"))
    return (
        StateFact(
            deployment_id,
            config.name,
            service,
            ECS_STATES.get(name, ""),
            at,
            from_codedeploy=False,
            rolling_back=name == ECS_ROLLBACK,
        ),
        "recorded",
    )


def _actor(detail_type: DetailType, evidence: dict[str, Any]) -> str:
    for name in ACTOR_KEYS:
        value = evidence.get(name)
        if isinstance(value, str) and value:
            return value
    return SPEAKERS.get(detail_type, "tollgate")


def _announcement(event: dict[str, Any], config: EnvironmentConfig) -> tuple[Fact | None, str]:
    try:
        announced = TollgateEvent.model_validate({**event["detail"], "detail_type": event.get("detail-type")})
    except ValidationError as error:
        return None, f"malformed Tollgate announcement: {error.error_count()} error(s)"
    if announced.environment != config.name:
        return None, f"announcement for {announced.environment!r}, this ledger is {config.name!r}"
    if announced.deployment_id is not None and not usable_id(announced.deployment_id):
        return None, "announcement with a deployment id that is not an id"
    evidence = dict(announced.evidence)
    decision = DecisionRecord(
        event_id=str(event["id"]),
        environment=announced.environment,
        what=announced.detail_type.value,
        summary=announced.summary,
        why=announced.reason,
        severity=announced.severity.value,
        occurred_at=announced.occurred_at,
        actor=_actor(announced.detail_type, evidence),
        service=announced.service,
        deployment_id=announced.deployment_id,
        evidence=evidence,
    )
    restore = evidence.get("time_to_restore_seconds")
    rollback_id = evidence.get("rollback_deployment_id")
    return (
        DecisionFact(
            decision=decision,
            marks_rolled_back=announced.detail_type in (DetailType.ROLLBACK_STARTED, DetailType.ROLLBACK_RESTORED),
            time_to_restore_seconds=float(restore)
            if announced.detail_type is DetailType.ROLLBACK_RESTORED and isinstance(restore, int | float)
            else None,
            rollback_deployment_id=rollback_id if isinstance(rollback_id, str) and usable_id(rollback_id) else None,
        ),
        "recorded",
    )
