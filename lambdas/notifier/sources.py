"""Turn CodeDeploy, ECS and Tollgate events into notifications (pure: no AWS calls, no clock).

Severity, decided here once for every source:

| source          | event                                         | kind                        | severity  |
|-----------------|-----------------------------------------------|-----------------------------|-----------|
| aws.codedeploy  | START                                         | deployment_started          | info      |
| aws.codedeploy  | READY (green up, waiting to reroute traffic)  | deployment_ready            | info      |
| aws.codedeploy  | SUCCESS                                       | deployment_succeeded        | info      |
| aws.codedeploy  | STOP (stopped by a person or an alarm)        | deployment_stopped          | warning   |
| aws.codedeploy  | FAILURE                                       | deployment_failed           | critical  |
| aws.ecs         | SERVICE_DEPLOYMENT_IN_PROGRESS                | deployment_started          | info      |
| aws.ecs         | SERVICE_DEPLOYMENT_IN_PROGRESS, "rolling back"| deployment_rolling_back     | critical  |
| aws.ecs         | SERVICE_DEPLOYMENT_COMPLETED                  | deployment_succeeded        | info      |
| aws.ecs         | SERVICE_DEPLOYMENT_FAILED                     | deployment_failed           | critical  |
| tollgate        | Hook Verdict                                  | hook_verdict                | announced |
| tollgate        | Alarm Announced                               | alarm                       | announced |
| tollgate        | Canary Step Passed                            | canary_step_passed          | info      |
| tollgate        | Canary Step Failed                            | canary_step_failed          | critical  |
| tollgate        | Rollback Started                              | rollback_started            | critical  |
| tollgate        | Rollback Restored                             | rollback_restored           | warning   |
| tollgate        | Rollback Skipped                              | rollback_skipped            | warning   |
| tollgate        | Approval Needed (a person must act)           | approval_needed             | warning   |
| tollgate        | Operator Rollback Requested                   | operator_rollback_requested | warning   |
| tollgate        | Alarm Joined Rollback (never emailed)         | rollback_joined             | info      |
| tollgate        | Canary Started / Promoted                     | canary_started / _promoted  | info      |
| tollgate        | Canary Aborted                                | canary_aborted              | critical  |
| tollgate        | Approval Given                                | approval_given              | info      |
| tollgate        | Approval Rejected / Refused / Timed Out       | approval_*                  | warning   |
| tollgate        | Approve/Reject/Promote/Abort Requested        | operator_request            | info      |

"announced" means the announcing function's own severity is used: a hook verdict or an alarm is info
or critical depending on its outcome, which only the announcer knows. Every other Tollgate kind has
one meaning, so its severity is fixed here whatever the announcer said.

Anything else (another source, detail-type, state or event name; an application, deployment group,
cluster or service that is not this environment's LMS) is an ``IgnoredEvent`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType, TollgateEvent
from lambdas.notifier.notification import IgnoredEvent, Notification, NotificationKind

CODEDEPLOY_SOURCE = "aws.codedeploy"
CODEDEPLOY_DETAIL_TYPE = "CodeDeploy Deployment State-change Notification"
ECS_SOURCE = "aws.ecs"
ECS_DETAIL_TYPE = "ECS Deployment State Change"

_CODEDEPLOY_STATES: dict[str, tuple[NotificationKind, str, Severity]] = {
    "START": (NotificationKind.DEPLOYMENT_STARTED, "Deployment started", Severity.INFO),
    "READY": (NotificationKind.DEPLOYMENT_READY, "Deployment ready to reroute traffic", Severity.INFO),
    "SUCCESS": (NotificationKind.DEPLOYMENT_SUCCEEDED, "Deployment succeeded", Severity.INFO),
    "STOP": (NotificationKind.DEPLOYMENT_STOPPED, "Deployment stopped", Severity.WARNING),
    "FAILURE": (NotificationKind.DEPLOYMENT_FAILED, "Deployment failed", Severity.CRITICAL),
}

_ECS_EVENTS: dict[str, tuple[NotificationKind, str, Severity]] = {
    "SERVICE_DEPLOYMENT_IN_PROGRESS": (NotificationKind.DEPLOYMENT_STARTED, "Deployment started", Severity.INFO),
    "SERVICE_DEPLOYMENT_COMPLETED": (NotificationKind.DEPLOYMENT_SUCCEEDED, "Deployment succeeded", Severity.INFO),
    "SERVICE_DEPLOYMENT_FAILED": (NotificationKind.DEPLOYMENT_FAILED, "Deployment failed", Severity.CRITICAL),
}
_ECS_ROLLBACK = (NotificationKind.DEPLOYMENT_ROLLING_BACK, "Deployment failed, rolling back", Severity.CRITICAL)

# None: the announcer's severity is used (see the table above).
_TOLLGATE_KINDS: dict[DetailType, tuple[NotificationKind, Severity | None]] = {
    DetailType.HOOK_VERDICT: (NotificationKind.HOOK_VERDICT, None),
    DetailType.ALARM_ANNOUNCED: (NotificationKind.ALARM, None),
    DetailType.CANARY_STEP_PASSED: (NotificationKind.CANARY_STEP_PASSED, Severity.INFO),
    DetailType.CANARY_STEP_FAILED: (NotificationKind.CANARY_STEP_FAILED, Severity.CRITICAL),
    DetailType.ROLLBACK_STARTED: (NotificationKind.ROLLBACK_STARTED, Severity.CRITICAL),
    DetailType.ROLLBACK_RESTORED: (NotificationKind.ROLLBACK_RESTORED, Severity.WARNING),
    DetailType.ROLLBACK_SKIPPED: (NotificationKind.ROLLBACK_SKIPPED, Severity.WARNING),
    DetailType.APPROVAL_NEEDED: (NotificationKind.APPROVAL_NEEDED, Severity.WARNING),
    DetailType.OPERATOR_ROLLBACK_REQUESTED: (NotificationKind.OPERATOR_ROLLBACK_REQUESTED, Severity.WARNING),
    DetailType.CANARY_STARTED: (NotificationKind.CANARY_STARTED, Severity.INFO),
    DetailType.CANARY_PROMOTED: (NotificationKind.CANARY_PROMOTED, Severity.INFO),
    DetailType.CANARY_ABORTED: (NotificationKind.CANARY_ABORTED, Severity.CRITICAL),
    DetailType.APPROVAL_GIVEN: (NotificationKind.APPROVAL_GIVEN, Severity.INFO),
    DetailType.APPROVAL_REJECTED: (NotificationKind.APPROVAL_REJECTED, Severity.WARNING),
    DetailType.APPROVAL_REFUSED: (NotificationKind.APPROVAL_REFUSED, Severity.WARNING),
    DetailType.APPROVAL_TIMED_OUT: (NotificationKind.APPROVAL_TIMED_OUT, Severity.WARNING),
    # A further alarm about a rollback already under way: threaded for the record, never paged again.
    DetailType.ROLLBACK_JOINED: (NotificationKind.ROLLBACK_JOINED, Severity.INFO),
    # Operator requests (Approve/Reject/Promote/Abort Requested) are not subscribed: what the acting
    # function decides about them is announced (Approval Given/Refused, Canary Promoted/Aborted).
}

# The Tollgate detail-types the notifier's rule on Tollgate's bus subscribes to.
NOTIFIED_DETAIL_TYPES = tuple(detail_type.value for detail_type in _TOLLGATE_KINDS)

_ID_LIMIT = 256

# Evidence keys announcers use for what is being deployed, in order of preference.
_VERSION_KEYS = ("version", "revision", "task_definition", "image_tag")


class _EventBridgeEnvelope(BaseModel):
    """The EventBridge fields the notifier reads (Powertools' EventBridgeModel types ``detail`` loosely)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    # EventBridge ids are UUIDs; the bound keeps a hostile id inside DynamoDB's key limits.
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(max_length=256)
    detail_type: str = Field(alias="detail-type", max_length=256)
    time: datetime
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]


class _CodeDeployDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    application: str
    deployment_group: str = Field(alias="deploymentGroup")
    deployment_id: str = Field(alias="deploymentId", max_length=256)
    state: str
    instance_group_id: str | None = Field(default=None, alias="instanceGroupId")


class _EcsDeploymentDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_type: str = Field(default="INFO", alias="eventType")
    event_name: str = Field(alias="eventName")
    deployment_id: str = Field(alias="deploymentId", max_length=256)
    updated_at: str | None = Field(default=None, alias="updatedAt")
    reason: str = ""


def codedeploy_console_url(region: str, deployment_id: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        f"{quote(deployment_id, safe='')}?region={region}"
    )


def ecs_console_url(region: str, cluster: str, service: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{quote(cluster, safe='')}"
        f"/services/{quote(service, safe='')}/deployments?region={region}"
    )


def notification_from_event(event: Any, config: EnvironmentConfig) -> Notification | IgnoredEvent:
    """The notification an EventBridge event calls for in this environment, or why there is none.

    Anything at all may arrive (a list, a number, null, an envelope with fields of the wrong type):
    what cannot be read is an ``IgnoredEvent`` saying why, never an exception.
    """
    if not isinstance(event, Mapping):
        return IgnoredEvent(reason=f"not an EventBridge event: a JSON {_json_type(event)}, not an object")
    try:
        return _notification_from(event, config)
    except (ValidationError, ValueError, TypeError, RecursionError) as error:
        reason = _first_error(error) if isinstance(error, ValidationError) else f"{type(error).__name__}"
        return IgnoredEvent(reason=f"malformed event: {reason}")


def _notification_from(event: Mapping[str, Any], config: EnvironmentConfig) -> Notification | IgnoredEvent:
    try:
        envelope = _EventBridgeEnvelope.model_validate(event)
    except ValidationError as error:
        return IgnoredEvent(reason=f"not an EventBridge event: {_first_error(error)}")
    key = (envelope.source, envelope.detail_type)
    try:
        if key == (CODEDEPLOY_SOURCE, CODEDEPLOY_DETAIL_TYPE):
            return _from_codedeploy(envelope, config)
        if key == (ECS_SOURCE, ECS_DETAIL_TYPE):
            return _from_ecs(envelope, config)
        if envelope.source == TOLLGATE_SOURCE:
            return _from_tollgate(envelope, config)
    except ValidationError as error:
        return IgnoredEvent(reason=f"malformed {envelope.detail_type} detail: {_first_error(error)}")
    return IgnoredEvent(reason=f"no notification for source '{envelope.source}' detail-type '{envelope.detail_type}'")


def _from_codedeploy(envelope: _EventBridgeEnvelope, config: EnvironmentConfig) -> Notification | IgnoredEvent:
    detail = _CodeDeployDetail.model_validate(envelope.detail)
    if detail.application != config.lms.codedeploy_application:
        return IgnoredEvent(reason=f"CodeDeploy application '{detail.application}' is not the LMS in {config.name}")
    service = config.service_for_deployment_group(detail.deployment_group)
    if service is None:
        return IgnoredEvent(
            reason=f"deployment group '{detail.deployment_group}' is not an LMS service in {config.name}"
        )
    mapped = _CODEDEPLOY_STATES.get(detail.state)
    if mapped is None:
        return IgnoredEvent(reason=f"CodeDeploy state '{detail.state}' has no notification")
    kind, title, severity = mapped
    evidence = {"application": detail.application, "deployment_group": detail.deployment_group, "state": detail.state}
    if detail.instance_group_id:
        evidence["instance_group_id"] = detail.instance_group_id
    return Notification(
        event_id=envelope.id,
        kind=kind,
        title=title,
        environment=config.name,
        severity=severity,
        occurred_at=envelope.time,
        service=service,
        deployment_id=detail.deployment_id,
        reason=f"CodeDeploy reported {detail.state} for {detail.application}/{detail.deployment_group}.",
        evidence=evidence,
        console_url=codedeploy_console_url(config.region, detail.deployment_id),
    )


def _from_ecs(envelope: _EventBridgeEnvelope, config: EnvironmentConfig) -> Notification | IgnoredEvent:
    detail = _EcsDeploymentDetail.model_validate(envelope.detail)
    located = _ecs_service_of(envelope.resources, config)
    if isinstance(located, IgnoredEvent):
        return located
    service, ecs_service = located
    mapped = _ECS_EVENTS.get(detail.event_name)
    if mapped is None:
        return IgnoredEvent(reason=f"ECS event '{detail.event_name}' has no notification")
    # A circuit-breaker rollback arrives as IN_PROGRESS whose reason says so (AWS-FACTS.md).
    if detail.event_name == "SERVICE_DEPLOYMENT_IN_PROGRESS" and "rolling back" in detail.reason.lower():
        mapped = _ECS_ROLLBACK
    kind, title, severity = mapped
    evidence = {"ecs_service": ecs_service, "event_name": detail.event_name, "event_type": detail.event_type}
    if detail.updated_at:
        evidence["updated_at"] = detail.updated_at
    cluster = _last_segment(config.lms.ecs_cluster)
    return Notification(
        event_id=envelope.id,
        kind=kind,
        title=title,
        environment=config.name,
        severity=severity,
        occurred_at=envelope.time,
        service=service,
        deployment_id=detail.deployment_id,
        reason=detail.reason or f"ECS reported {detail.event_name}.",
        evidence=evidence,
        console_url=ecs_console_url(config.region, cluster, ecs_service),
    )


def _ecs_service_of(resources: list[str], config: EnvironmentConfig) -> tuple[str, str] | IgnoredEvent:
    """(LMS service name, ECS service name) from the event's service ARN.

    Service ARNs are ``arn:aws:ecs:region:account:service/<cluster>/<service>`` (long format) or
    ``.../service/<service>`` (old format, no cluster).
    """
    arn = next((r for r in resources if ":service/" in r), None)
    if arn is None:
        return IgnoredEvent(reason="ECS event names no service ARN in resources")
    parts = arn.split(":service/", 1)[1].split("/")
    if len(parts) == 2 and parts[0] != _last_segment(config.lms.ecs_cluster):
        return IgnoredEvent(reason=f"ECS cluster '{parts[0]}' is not the LMS cluster in {config.name}")
    ecs_service = parts[-1]
    for name, service in config.lms.services.items():
        if _last_segment(service.ecs_service) == ecs_service:
            return name, ecs_service
    return IgnoredEvent(reason=f"ECS service '{ecs_service}' is not an LMS service in {config.name}")


def _from_tollgate(envelope: _EventBridgeEnvelope, config: EnvironmentConfig) -> Notification | IgnoredEvent:
    try:
        detail_type = DetailType(envelope.detail_type)
    except ValueError:
        return IgnoredEvent(reason=f"Tollgate detail-type '{envelope.detail_type}' has no notification")
    announced = TollgateEvent.model_validate({**envelope.detail, "detail_type": detail_type})
    if announced.environment != config.name:
        return IgnoredEvent(reason=f"announced for environment '{announced.environment}', this is {config.name}")
    if len(announced.deployment_id or "") > _ID_LIMIT:
        return IgnoredEvent(reason=f"deployment id longer than {_ID_LIMIT} characters")
    kind, fixed_severity = _TOLLGATE_KINDS[detail_type]
    return Notification(
        event_id=envelope.id,
        kind=kind,
        title=announced.summary,
        environment=config.name,
        severity=fixed_severity or announced.severity,
        occurred_at=announced.occurred_at,
        service=announced.service,
        version=_version_from(announced.evidence),
        deployment_id=announced.deployment_id,
        reason=announced.reason,
        evidence=announced.evidence,
        console_url=_console_url_for(announced, config),
    )


def _version_from(evidence: Mapping[str, Any]) -> str | None:
    return next((str(evidence[key]) for key in _VERSION_KEYS if evidence.get(key)), None)


def _console_url_for(announced: TollgateEvent, config: EnvironmentConfig) -> str | None:
    if announced.deployment_id and announced.deployment_id.startswith("d-"):
        return codedeploy_console_url(config.region, announced.deployment_id)
    service = config.lms.services.get(announced.service or "")
    if service is not None:
        cluster = _last_segment(config.lms.ecs_cluster)
        return ecs_console_url(config.region, cluster, _last_segment(service.ecs_service))
    return None


def _last_segment(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _first_error(error: ValidationError) -> str:
    item = error.errors()[0]
    field = ".".join(str(p) for p in item["loc"]) or "(root)"
    return f"{field}: {item['msg']}"
