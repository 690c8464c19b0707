"""Events -> notifications: kinds, severities, the facts carried, and the events ignored with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.core.config import Severity, load_environment
from lambdas.notifier.email_message import email_body
from lambdas.notifier.notification import IgnoredEvent, Notification, NotificationKind
from lambdas.notifier.sources import notification_from_event
from tests.unit.notifier.factories import codedeploy_event, ecs_event, tollgate_event

PRODUCTION = load_environment("production")
DEVELOPMENT = load_environment("development")


def _notification(event: dict[str, Any], config: Any = PRODUCTION) -> Notification:
    result = notification_from_event(event, config)
    assert isinstance(result, Notification), result
    return result


@pytest.mark.parametrize(
    ("state", "kind", "severity"),
    [
        ("START", NotificationKind.DEPLOYMENT_STARTED, Severity.INFO),
        ("READY", NotificationKind.DEPLOYMENT_READY, Severity.INFO),
        ("SUCCESS", NotificationKind.DEPLOYMENT_SUCCEEDED, Severity.INFO),
        ("STOP", NotificationKind.DEPLOYMENT_STOPPED, Severity.WARNING),
        ("FAILURE", NotificationKind.DEPLOYMENT_FAILED, Severity.CRITICAL),
    ],
)
def test_codedeploy_states_map_to_kind_and_severity(state: str, kind: NotificationKind, severity: Severity) -> None:
    # Given a CodeDeploy state change of production's backend deployment group
    event = codedeploy_event(state, event_id=f"e-{state}")
    # When it is mapped
    result = _notification(event)
    # Then the kind and severity follow the table, with the facts a reader needs
    assert (result.kind, result.severity) == (kind, severity)
    assert result.event_id == f"e-{state}"
    assert (result.environment, result.service, result.deployment_id) == ("production", "backend", "d-ABCDEF123")
    assert result.evidence["state"] == state
    assert result.console_url is not None
    assert "eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEF123" in result.console_url


@pytest.mark.parametrize(
    ("sent", "config"),
    [(codedeploy_event("FAILURE"), PRODUCTION), (ecs_event("SERVICE_DEPLOYMENT_FAILED"), DEVELOPMENT)],
)
def test_the_console_link_is_the_environments_whatever_region_the_event_claims(sent: Any, config: Any) -> None:
    # Given an event whose region field is half a megabyte of junk (the fuzz found one: the link carried it, and
    # the email outgrew SNS's 256 KB limit)
    event = {**sent, "region": "a" * 500_000}
    # When it is mapped and its email built
    result = notification_from_event(event, config)
    # Then the link goes to the environment's own region, and the email fits SNS
    assert isinstance(result, Notification), result
    assert result.console_url is not None
    assert result.console_url.startswith(f"https://{config.region}.console.aws.amazon.com/")
    assert len(email_body(result).encode("utf-8")) <= 256 * 1024


def test_codedeploy_frontend_group_maps_to_frontend() -> None:
    result = _notification(codedeploy_event("START", group="lms-production-frontend"))
    assert result.service == "frontend"


@pytest.mark.parametrize(
    ("event_name", "reason", "kind", "severity"),
    [
        ("SERVICE_DEPLOYMENT_IN_PROGRESS", "in progress.", NotificationKind.DEPLOYMENT_STARTED, Severity.INFO),
        (
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/8.",
            NotificationKind.DEPLOYMENT_ROLLING_BACK,
            Severity.CRITICAL,
        ),
        ("SERVICE_DEPLOYMENT_COMPLETED", "completed.", NotificationKind.DEPLOYMENT_SUCCEEDED, Severity.INFO),
        ("SERVICE_DEPLOYMENT_FAILED", "tasks failed to start.", NotificationKind.DEPLOYMENT_FAILED, Severity.CRITICAL),
    ],
)
def test_ecs_deployment_events_map_to_kind_and_severity(
    event_name: str, reason: str, kind: NotificationKind, severity: Severity
) -> None:
    # Given a development rolling-update event
    result = _notification(ecs_event(event_name, reason=reason), DEVELOPMENT)
    # Then
    assert (result.kind, result.severity) == (kind, severity)
    assert (result.environment, result.service, result.deployment_id) == ("development", "backend", "ecs-svc/1")
    assert result.reason == reason
    assert result.console_url is not None
    assert "/clusters/lms-development/services/lms-development-backend/" in result.console_url


def test_ecs_old_format_service_arn_is_understood() -> None:
    event = ecs_event(
        "SERVICE_DEPLOYMENT_COMPLETED", resource="arn:aws:ecs:eu-west-1:1:service/lms-development-frontend"
    )
    assert _notification(event, DEVELOPMENT).service == "frontend"


@pytest.mark.parametrize(
    ("detail_type", "announced", "kind", "severity"),
    [
        ("Hook Verdict", "info", NotificationKind.HOOK_VERDICT, Severity.INFO),
        ("Hook Verdict", "critical", NotificationKind.HOOK_VERDICT, Severity.CRITICAL),
        ("Alarm Announced", "warning", NotificationKind.ALARM, Severity.WARNING),
        ("Canary Step Passed", "warning", NotificationKind.CANARY_STEP_PASSED, Severity.INFO),
        ("Canary Step Failed", "info", NotificationKind.CANARY_STEP_FAILED, Severity.CRITICAL),
        ("Rollback Started", "info", NotificationKind.ROLLBACK_STARTED, Severity.CRITICAL),
        ("Rollback Restored", "critical", NotificationKind.ROLLBACK_RESTORED, Severity.WARNING),
        ("Rollback Skipped", "info", NotificationKind.ROLLBACK_SKIPPED, Severity.WARNING),
        ("Approval Needed", "info", NotificationKind.APPROVAL_NEEDED, Severity.WARNING),
        ("Operator Rollback Requested", "info", NotificationKind.OPERATOR_ROLLBACK_REQUESTED, Severity.WARNING),
    ],
)
def test_tollgate_events_map_to_kind_and_severity(
    detail_type: str, announced: str, kind: NotificationKind, severity: Severity
) -> None:
    # Given an announcement on Tollgate's bus with the announcer's severity
    result = _notification(tollgate_event(detail_type, severity=announced))
    # Then fixed kinds take the table's severity; verdicts and alarms keep the announced one
    assert (result.kind, result.severity) == (kind, severity)
    assert result.title == f"{detail_type} for backend"
    assert result.reason == "error rate 4.2% over the 1% threshold"
    assert result.evidence == {"error_rate_percent": 4.2}


@pytest.mark.parametrize(
    ("evidence", "version"),
    [
        ({"version": "1.4.2", "task_definition": "td:9"}, "1.4.2"),
        ({"task_definition": "lms-production-backend:42"}, "lms-production-backend:42"),
        ({"other": 1}, None),
    ],
)
def test_tollgate_version_comes_from_evidence(evidence: dict[str, Any], version: str | None) -> None:
    assert _notification(tollgate_event("Rollback Started", evidence=evidence)).version == version


def test_tollgate_console_link_is_the_ecs_service_without_a_codedeploy_deployment() -> None:
    result = _notification(tollgate_event("Rollback Started", deployment_id=None, service="frontend"))
    assert result.console_url is not None
    assert "/services/lms-production-frontend/" in result.console_url


def test_tollgate_event_without_service_or_deployment_has_no_link() -> None:
    assert _notification(tollgate_event("Alarm Announced", deployment_id=None, service=None)).console_url is None


@pytest.mark.parametrize(
    ("event", "reason_part"),
    [
        ({"hello": "world"}, "not an EventBridge event"),
        ({**codedeploy_event("START"), "source": "aws.s3"}, "no notification for source 'aws.s3'"),
        (codedeploy_event("START", application="billing"), "application 'billing'"),
        (codedeploy_event("START", group="lms-production-worker"), "deployment group 'lms-production-worker'"),
        (codedeploy_event("CREATED"), "state 'CREATED'"),
        ({**codedeploy_event("START"), "detail": {"state": "START"}}, "malformed"),
        (ecs_event("SERVICE_TASK_PLACEMENT_FAILURE"), "'SERVICE_TASK_PLACEMENT_FAILURE'"),
        (ecs_event("SERVICE_DEPLOYMENT_COMPLETED", resource="arn:aws:ecs:eu-west-1:1:cluster/x"), "no service ARN"),
        (
            ecs_event("SERVICE_DEPLOYMENT_COMPLETED", resource="arn:aws:ecs:eu-west-1:1:service/other/lms-x"),
            "cluster 'other'",
        ),
        (
            ecs_event("SERVICE_DEPLOYMENT_COMPLETED", resource="arn:aws:ecs:eu-west-1:1:service/lms-development/x"),
            "ECS service 'x'",
        ),
        (tollgate_event("Rollback Started", environment="staging"), "environment 'staging'"),
        (tollgate_event("Something New"), "'Something New'"),
        ({**tollgate_event("Rollback Started"), "detail": {"environment": "development"}}, "malformed"),
    ],
)
def test_unknown_or_foreign_events_are_ignored_with_a_reason(event: dict[str, Any], reason_part: str) -> None:
    # Given an event that is not for this environment's LMS, or not one the notifier tells about
    result = notification_from_event(event, DEVELOPMENT if event.get("source") == "aws.ecs" else PRODUCTION)
    # Then it is ignored and the reason says why
    assert isinstance(result, IgnoredEvent)
    assert reason_part in result.reason


def test_codedeploy_events_are_ignored_where_there_is_no_codedeploy() -> None:
    result = notification_from_event(codedeploy_event("START"), DEVELOPMENT)
    assert isinstance(result, IgnoredEvent)
    assert "not the LMS in development" in result.reason
