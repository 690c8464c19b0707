"""Which alarms Tollgate guards the LMS with, and how an alarm state change maps to what it guards.

An alarm is Tollgate's when its name follows ``tollgate-<environment>-<service>-<kind>`` or, for alarms
created outside Tollgate, when it carries the tags ``tollgate:environment`` and ``tollgate:service``
(``tollgate:severity`` optional). The construct that creates the alarms and the handler that reads them
share the names and severities below.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.core.config import EnvironmentConfig, Severity

ENVIRONMENT_TAG = "tollgate:environment"
SERVICE_TAG = "tollgate:service"
SEVERITY_TAG = "tollgate:severity"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


class AlarmKind(StrEnum):
    ERROR_RATE = "5xx-rate"
    P99_LATENCY = "p99-latency"
    UNHEALTHY_HOSTS = "unhealthy-hosts"
    LOAN_SUBMISSIONS_ANOMALY = "loan-submissions-anomaly"
    SERVICE_UNHEALTHY = "service-unhealthy"


# A drop in loan submissions may have causes other than a release (a quiet day), so it is announced as a
# warning; the technical signals are critical and roll back.
ALARM_SEVERITIES: dict[AlarmKind, Severity] = {
    AlarmKind.ERROR_RATE: Severity.CRITICAL,
    AlarmKind.P99_LATENCY: Severity.CRITICAL,
    AlarmKind.UNHEALTHY_HOSTS: Severity.CRITICAL,
    AlarmKind.LOAN_SUBMISSIONS_ANOMALY: Severity.WARNING,
    AlarmKind.SERVICE_UNHEALTHY: Severity.CRITICAL,
}

_NAME = re.compile(r"^tollgate-(?P<environment>development|staging|production)-(?P<rest>.+)$")


def alarm_name(environment: str, service: str, kind: AlarmKind) -> str:
    return f"tollgate-{environment}-{service}-{kind.value}"


class AlarmStateValue(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmState(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    value: AlarmStateValue
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: datetime
    actions_suppressed_by: str | None = Field(default=None, alias="actionsSuppressedBy")
    actions_suppressed_reason: str | None = Field(default=None, alias="actionsSuppressedReason")


class AlarmDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    mute_detail: dict[str, Any] | None = Field(default=None, alias="muteDetail")
    alarm_tags: dict[str, str] | None = Field(default=None, alias="alarmTags")

    @field_validator("alarm_tags", mode="before")
    @classmethod
    def _tags_as_mapping(cls, raw: object) -> dict[str, str] | None:
        # Accept both {"k": "v"} and the API's [{"Key": k, "Value": v}] shape; anything else (or any entry
        # that is not a string pair) is dropped, so a malformed alarmTags reads as "no tags", never a crash.
        if isinstance(raw, list):
            pairs = [(t.get("Key", t.get("key")), t.get("Value", t.get("value"))) for t in raw if isinstance(t, dict)]
            return {k: v for k, v in pairs if isinstance(k, str) and isinstance(v, str)}
        if isinstance(raw, dict):
            return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
        return None


class AlarmStateChange(EventBridgeModel):
    """The EventBridge event "CloudWatch Alarm State Change" (source aws.cloudwatch)."""

    detail: AlarmDetail

    @property
    def alarm_arn(self) -> str | None:
        return self.resources[0] if self.resources else None

    def with_tags(self, tags: dict[str, str]) -> AlarmStateChange:
        """The same event with the alarm's tags filled in (read from CloudWatch when the event lacks them)."""
        return self.model_copy(update={"detail": self.detail.model_copy(update={"alarm_tags": tags})})


class Guard(BaseModel):
    """What an alarm guards: one LMS service in one environment, and how serious its alarm is."""

    model_config = ConfigDict(frozen=True)

    environment: str
    service: str
    severity: Severity
    kind: AlarmKind | None = None


def guard_from_name(name: str, config: EnvironmentConfig) -> Guard | None:
    """The guard named by a Tollgate alarm name, or None when the name does not follow the scheme."""
    match = _NAME.match(name)
    if not match or match["environment"] != config.name:
        return None
    rest = match["rest"]
    for kind in AlarmKind:
        suffix = f"-{kind.value}"
        service = rest.removesuffix(suffix)
        if rest.endswith(suffix) and service in config.lms.services:
            return Guard(environment=config.name, service=service, severity=ALARM_SEVERITIES[kind], kind=kind)
    return None


def guard_from_tags(tags: dict[str, str], config: EnvironmentConfig) -> Guard | None:
    """The guard an alarm created outside Tollgate opts into with ``tollgate:*`` tags."""
    service = tags.get(SERVICE_TAG)
    if tags.get(ENVIRONMENT_TAG) != config.name or service not in config.lms.services:
        return None
    try:
        severity = Severity(tags.get(SEVERITY_TAG, Severity.CRITICAL.value).lower())
    except ValueError:
        severity = Severity.CRITICAL  # an opted-in alarm with an unreadable severity still protects
    return Guard(environment=config.name, service=service, severity=severity)


def identify_guard(alarm: AlarmStateChange, config: EnvironmentConfig) -> Guard | None:
    """Map an alarm to what it guards: by its name first, then by its tags."""
    return guard_from_name(alarm.detail.alarm_name, config) or guard_from_tags(alarm.detail.alarm_tags or {}, config)


def needs_tags(alarm: AlarmStateChange, config: EnvironmentConfig) -> bool:
    """Whether the handler must read the alarm's tags to know what it guards."""
    return guard_from_name(alarm.detail.alarm_name, config) is None and alarm.detail.alarm_tags is None
