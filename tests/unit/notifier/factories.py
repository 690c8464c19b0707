"""Builders of notifier inputs for the unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.notifier.notification import Notification, NotificationKind

WHEN = datetime(2026, 3, 10, 9, 27, 40, tzinfo=UTC)


def codedeploy_event(
    state: str,
    *,
    application: str = "lms-production",
    group: str = "lms-production-backend",
    event_id: str = "e-1",
    deployment_id: str = "d-ABCDEF123",
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "account": "333333333333",
        "time": "2026-03-10T09:27:40Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "instanceGroupId": "ig-1",
            "region": "eu-west-1",
            "application": application,
            "deploymentId": deployment_id,
            "state": state,
            "deploymentGroup": group,
        },
    }


def ecs_event(event_name: str, *, reason: str = "", resource: str | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-ecs",
        "detail-type": "ECS Deployment State Change",
        "source": "aws.ecs",
        "account": "111111111111",
        "time": "2026-03-11T11:14:29Z",
        "region": "eu-west-1",
        "resources": [resource or "arn:aws:ecs:eu-west-1:111111111111:service/lms-development/lms-development-backend"],
        "detail": {
            "eventType": "INFO",
            "eventName": event_name,
            "deploymentId": "ecs-svc/1",
            "updatedAt": "2026-03-11T11:14:26.930Z",
            "reason": reason,
        },
    }


def tollgate_event(
    detail_type: str,
    *,
    environment: str = "production",
    severity: str = "info",
    deployment_id: str | None = "d-ABCDEF123",
    service: str | None = "backend",
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-tollgate",
        "detail-type": detail_type,
        "source": "tollgate",
        "account": "333333333333",
        "time": "2026-03-10T09:30:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "environment": environment,
            "severity": severity,
            "summary": f"{detail_type} for {service}",
            "reason": "error rate 4.2% over the 1% threshold",
            "service": service,
            "deployment_id": deployment_id,
            "occurred_at": "2026-03-10T09:30:00Z",
            "evidence": evidence if evidence is not None else {"error_rate_percent": 4.2},
        },
    }


def notification(**changes: Any) -> Notification:
    values: dict[str, Any] = {
        "event_id": "e-1",
        "kind": NotificationKind.DEPLOYMENT_FAILED,
        "title": "Deployment failed",
        "environment": "production",
        "severity": Severity.CRITICAL,
        "occurred_at": WHEN,
        "service": "backend",
        "version": "lms-production-backend:42",
        "deployment_id": "d-ABCDEF123",
        "reason": "CodeDeploy reported FAILURE.",
        "evidence": {"state": "FAILURE", "alarms": ["lms-production-5xx"]},
        "console_url": "https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABCDEF123?region=eu-west-1",
    }
    values.update(changes)
    return Notification(**values)


CHANNEL_IDS = {
    "#lms-releases": "C0RELEASES1",
    "#lms-prod-alerts": "C0PRODALERT",
    "#lms-staging-deploys": "C0STAGING01",
    "#lms-dev-deploys": "C0DEVDEPLOY",
}


BOT_TOKEN_SECRET = "tollgate/test/slack-bot-token"


def with_bot_token(config: EnvironmentConfig, secret: str = BOT_TOKEN_SECRET) -> EnvironmentConfig:
    """The environment with a bot token and each Slack route's channel ID (validated like a real config)."""
    raw = config.model_dump(mode="json")
    raw["alerts"]["slack_bot_token_secret"] = secret
    for route in raw["alerts"]["routes"]:
        if route.get("slack_channel"):
            route["slack_channel_id"] = CHANNEL_IDS[route["slack_channel"]]
    return EnvironmentConfig.model_validate(raw)


def webhook_only(config: EnvironmentConfig) -> EnvironmentConfig:
    """The environment with Slack through its webhook alone: no bot token (no living message), no buttons."""
    raw = config.model_dump(mode="json")
    raw["alerts"].update(slack_bot_token_secret=None, slack_signing_secret=None, slack_approvers={})
    return EnvironmentConfig.model_validate(raw)
