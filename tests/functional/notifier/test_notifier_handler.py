"""The notifier handler on the embedded AWS and the local Slack receiver: routed, never doubled, never lost."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from lambdas.notifier.adapters.slack_client import RetryPolicy
from lambdas.notifier.errors import NotificationDeliveryError
from lambdas.notifier.handler import handler, process_event
from tests.functional.notifier.conftest import NotifierWorld
from tollgate.local.context import LocalLambdaContext
from tollgate.local.slack_receiver import notifications_sent

FAST = RetryPolicy(max_attempts=4, base_delay_seconds=0.01)

# Sample -> (environment, Slack channels, email recipients) the alert routes call for.
CODEDEPLOY_SAMPLES = {
    "codedeploy-deployment-start.json": ("production", ["#lms-releases"], []),
    # With only a webhook, READY (a step, not an outcome) is not posted (docs/decisions/0100)
    "codedeploy-deployment-ready.json": ("production", [], []),
    "codedeploy-deployment-success.json": ("production", ["#lms-releases"], []),
    "codedeploy-deployment-stop.json": ("production", ["#lms-prod-alerts"], ["lms-oncall@example.com"]),
    "codedeploy-deployment-failure.json": ("staging", ["#lms-staging-deploys"], ["lms-team@example.com"]),
}
ECS_SAMPLES = {
    "ecs-deployment-in-progress.json": "Deployment started",
    "ecs-deployment-completed.json": "Deployment succeeded",
    "ecs-deployment-failed.json": "Deployment failed",
    "ecs-deployment-rollback-in-progress.json": "Deployment failed, rolling back",
}
# Critical ones also reach development's critical email route.
ECS_CRITICAL = {"ecs-deployment-failed.json", "ecs-deployment-rollback-in-progress.json"}


@pytest.mark.parametrize("sample", list(CODEDEPLOY_SAMPLES))
def test_each_codedeploy_state_sends_the_routed_messages(
    notifier_world: NotifierWorld, load_event: Any, sample: str
) -> None:
    # Given the environment's notifier and a CodeDeploy state change
    environment, channels, recipients = CODEDEPLOY_SAMPLES[sample]
    notifier_world.use_environment(environment)
    event = load_event(sample)
    # When it is handled
    result = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then the routed channels get one Block Kit message each and the routed people one email
    assert result["decision"] == ("notified" if channels else "not_routed")
    messages = notifier_world.receiver.messages
    assert [m.channel for m in messages] == channels
    assert all(m.payload["blocks"][0]["type"] == "header" for m in messages)
    assert all(event["detail"]["deploymentId"] in m.text for m in messages)
    emails = notifier_world.emails()
    assert [e["recipients"] for e in emails] == ([recipients] if recipients else [])
    for email in emails:
        assert event["detail"]["deploymentId"] in email["body"]
        assert len(email["subject"]) <= 100


@pytest.mark.parametrize("sample", list(ECS_SAMPLES))
def test_development_rolling_updates_are_told_in_the_dev_channel(
    notifier_world: NotifierWorld, load_event: Any, sample: str
) -> None:
    notifier_world.use_environment("development")
    result = process_event(load_event(sample), LocalLambdaContext("notifier"), slack_retry=FAST)
    assert result["decision"] == "notified"
    [message] = notifier_world.receiver.messages
    assert message.channel == "#lms-dev-deploys"
    assert ECS_SAMPLES[sample] in message.payload["blocks"][0]["text"]["text"]
    expected = [["lms-dev-team@example.com"]] if sample in ECS_CRITICAL else []
    assert [e["recipients"] for e in notifier_world.emails()] == expected


def test_a_duplicate_event_sends_nothing_more(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given a STOP already handled (Slack and email sent)
    notifier_world.use_environment("production")
    event = load_event("codedeploy-deployment-stop.json")
    first = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # When EventBridge delivers it again
    second = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then nothing more is sent and the answer says it was a duplicate
    assert first["decision"] == "notified"
    assert second["decision"] == "duplicate"
    assert len(notifier_world.receiver.messages) == 1
    assert len(notifier_world.emails()) == 1


def test_slack_500s_are_retried_and_the_email_still_goes_out(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given Slack failing the next two requests
    notifier_world.use_environment("production")
    notifier_world.receiver.fail_next(2, status=500)
    # When a STOP is handled
    result = process_event(load_event("codedeploy-deployment-stop.json"), LocalLambdaContext("n"), slack_retry=FAST)
    # Then the third attempt lands once, and the email went out
    assert result["decision"] == "notified"
    assert [status for _, status in notifier_world.receiver.requests] == [500, 500, 200]
    assert len(notifier_world.receiver.messages) == 1
    assert len(notifier_world.emails()) == 1


def test_slack_429_waits_the_retry_after_then_posts(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given Slack rate limiting the next request for one second
    notifier_world.use_environment("production")
    notifier_world.receiver.rate_limit_next(1, retry_after=1)
    # When
    started = time.monotonic()
    result = process_event(load_event("codedeploy-deployment-stop.json"), LocalLambdaContext("n"), slack_retry=FAST)
    # Then the retry waited as asked (not the 10 ms backoff) and the message and email both went out
    assert time.monotonic() - started >= 1.0
    assert result["decision"] == "notified"
    assert [status for _, status in notifier_world.receiver.requests] == [429, 200]
    assert len(notifier_world.emails()) == 1


def test_a_retry_after_past_the_deadline_fails_now_instead_of_timing_out(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    # Given Slack asking for 60 s while the function has 6 s left
    notifier_world.use_environment("production")
    notifier_world.receiver.rate_limit_next(1, retry_after=60)
    # When / Then: the delivery fails at once (to be retried by Lambda) without a second try, the email goes out
    with pytest.raises(NotificationDeliveryError, match="would outlast the function"):
        process_event(load_event("codedeploy-deployment-stop.json"), LocalLambdaContext("n", timeout_seconds=6))
    assert [status for _, status in notifier_world.receiver.requests] == [429]
    assert len(notifier_world.emails()) == 1


def test_slack_down_for_good_email_sent_failure_recorded_and_the_retry_sends_only_slack(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    # Given Slack answering 500 to everything
    notifier_world.use_environment("production")
    notifier_world.receiver.fail_next(1000, status=500)
    event = load_event("codedeploy-deployment-stop.json")
    # When the event is handled, the handler raises so Lambda retries it...
    with pytest.raises(NotificationDeliveryError, match="slack #lms-prod-alerts"):
        process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # ...after the email went out and both outcomes were recorded
    assert len(notifier_world.emails()) == 1
    assert notifier_world.receiver.messages == []
    records = notifier_world.delivery_records(event["id"])
    assert records["slack##lms-prod-alerts"]["outcome"]["S"] == "failed"
    assert "500" in records["slack##lms-prod-alerts"]["detail"]["S"]
    assert records["email#lms-oncall@example.com"]["outcome"]["S"] == "sent"
    # When Slack is back and Lambda retries the same event
    notifier_world.receiver.fail_next(0)
    result = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then Slack gets its message and the email is not sent again
    assert result["decision"] == "notified"
    assert {d["channel"]: d["status"] for d in result["deliveries"]} == {"slack": "sent", "email": "already_sent"}
    assert len(notifier_world.receiver.messages) == 1
    assert len(notifier_world.emails()) == 1
    assert notifier_world.delivery_records(event["id"])["slack##lms-prod-alerts"]["attempts"]["S"] == "2"


def test_a_missing_slack_secret_still_sends_the_email(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given production's webhook secret deleted
    notifier_world.use_environment("production")
    boto3.client("secretsmanager").delete_secret(
        SecretId="tollgate/production/slack-webhook", ForceDeleteWithoutRecovery=True
    )
    # When / Then
    with pytest.raises(NotificationDeliveryError, match="cannot read secret"):
        process_event(load_event("codedeploy-deployment-stop.json"), LocalLambdaContext("n"), slack_retry=FAST)
    assert len(notifier_world.emails()) == 1


def test_with_a_bot_token_one_deployment_is_one_message_updated_with_its_thread(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    # Given a bot token configured (chat.postMessage, chat.update) in production
    notifier_world.use_environment("production", bot_token=True)
    start = load_event("codedeploy-deployment-start.json")
    success = load_event("codedeploy-deployment-success.json")
    # When the START and then the SUCCESS of the same deployment are handled
    process_event(start, LocalLambdaContext("notifier"), slack_retry=FAST)
    process_event(success, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then one message in #lms-releases, updated once, with the SUCCESS's details in its thread
    [parent] = notifier_world.receiver.top_level("#lms-releases")
    assert (parent.via, parent.channel_id, parent.updates) == ("chat.postMessage", "C0RELEASES1", 1)
    assert "Succeeded" in str(parent.payload["blocks"])
    [reply] = notifier_world.receiver.replies(parent.ts)
    assert reply.payload["reply_broadcast"] is False
    assert "Deployment succeeded" in reply.text
    record = notifier_world.living_record(start["detail"]["deploymentId"])
    assert record is not None and record["ts"]["S"] == parent.ts and record["version"]["S"] == "2"


def test_tollgate_rollback_started_is_critical_everywhere_it_is_routed(notifier_world: NotifierWorld) -> None:
    notifier_world.use_environment("production")
    event = {
        "version": "0",
        "id": "b3c7c7a4-1f0e-4c59-9d1e-0c7d2d3c0001",
        "detail-type": "Rollback Started",
        "source": "tollgate",
        "account": "333333333333",
        "time": "2026-03-10T09:30:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "environment": "production",
            "severity": "critical",
            "summary": "Rolling back backend: 5xx rate over threshold",
            "reason": "lms-production-backend-5xx in ALARM during the 10% canary step",
            "service": "backend",
            "deployment_id": "d-XK7P2M9QA",
            "occurred_at": "2026-03-10T09:30:00Z",
            "evidence": {"alarm": "lms-production-backend-5xx", "error_rate_percent": 4.2},
        },
    }
    result = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    assert result["notification"]["severity"] == "critical"
    assert [m.channel for m in notifier_world.receiver.messages] == ["#lms-prod-alerts"]
    [email] = notifier_world.emails()
    assert email["subject"] == "[CRITICAL] LMS production: Rolling back backend: 5xx rate over threshold (backend)"


def test_unknown_events_are_ignored_and_send_nothing(notifier_world: NotifierWorld, load_event: Any) -> None:
    notifier_world.use_environment("production")
    result = process_event(load_event("ecs-deployment-completed.json"), LocalLambdaContext("notifier"))
    assert result["decision"] == "ignored"
    assert "is not the LMS cluster in production" in result["reason"]
    assert notifier_world.receiver.requests == []
    assert notifier_world.emails() == []


def test_the_lambda_entry_point_and_the_report_of_what_was_sent(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given the staging notifier
    notifier_world.use_environment("staging")
    # When the Lambda handler itself runs on a FAILURE
    result = handler(load_event("codedeploy-deployment-failure.json"), LocalLambdaContext("notifier"))
    # Then the replay report's list shows one Slack message and one email
    assert result["decision"] == "notified"
    sent = notifications_sent(notifier_world.receiver)
    assert [(n["channel"], n["to"]) for n in sent] == [
        ("slack", "#lms-staging-deploys"),
        ("email", "lms-team@example.com"),
    ]
    assert "Deployment failed" in sent[0]["summary"]
    assert sent[1]["summary"] == "[CRITICAL] LMS staging: Deployment failed (frontend)"


def test_the_version_comes_from_the_codedeploy_deployment(notifier_world: NotifierWorld, load_event: Any) -> None:
    # Given a CodeDeploy deployment of task definition revision 42 in production
    notifier_world.use_environment("production")
    codedeploy = boto3.client("codedeploy")
    codedeploy.create_application(applicationName="lms-production", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="lms-production",
        deploymentGroupName="lms-production-backend",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
    )
    appspec = "TaskDefinition: arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:42"
    deployment_id = codedeploy.create_deployment(
        applicationName="lms-production",
        deploymentGroupName="lms-production-backend",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
    )["deploymentId"]
    event = load_event("codedeploy-deployment-stop.json")
    event["detail"]["deploymentId"] = deployment_id
    # When its STOP is handled
    process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then Slack and the email both say which version
    [message] = notifier_world.receiver.messages
    assert "*Version*\nlms-production-backend:42" in [f["text"] for f in message.payload["blocks"][1]["fields"]]
    [email] = notifier_world.emails()
    assert "Version:     lms-production-backend:42" in email["body"]


def test_sns_refusing_the_email_does_not_stop_slack_and_the_retry_sends_only_the_email(
    notifier_world: NotifierWorld, load_event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the alert topic missing (SNS answers NotFound)
    notifier_world.use_environment("production")
    monkeypatch.setenv("TOLLGATE_ALERT_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:missing")
    event = load_event("codedeploy-deployment-stop.json")
    # When / Then: Slack got its message, the email failure is raised for a retry
    with pytest.raises(NotificationDeliveryError, match=r"email lms-oncall@example\.com"):
        process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    assert len(notifier_world.receiver.messages) == 1
    # When the topic is back and the event is retried
    monkeypatch.setenv("TOLLGATE_ALERT_TOPIC_ARN", notifier_world.topic_arn)
    result = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    # Then only the email goes out
    assert {d["channel"]: d["status"] for d in result["deliveries"]} == {"slack": "already_sent", "email": "sent"}
    assert len(notifier_world.receiver.messages) == 1
    assert len(notifier_world.emails()) == 1


def test_a_webhook_secret_holding_one_url_serves_every_channel(notifier_world: NotifierWorld, load_event: Any) -> None:
    notifier_world.use_environment("production")
    boto3.client("secretsmanager").put_secret_value(
        SecretId="tollgate/production/slack-webhook", SecretString=notifier_world.receiver.webhook_url("#one-hook")
    )
    process_event(load_event("codedeploy-deployment-start.json"), LocalLambdaContext("notifier"), slack_retry=FAST)
    assert [m.channel for m in notifier_world.receiver.messages] == ["#one-hook"]


@pytest.mark.parametrize("value", ["{not json", '{"#lms-releases": 3}'])
def test_a_malformed_webhook_secret_fails_the_slack_delivery_only(
    notifier_world: NotifierWorld, load_event: Any, value: str
) -> None:
    notifier_world.use_environment("production")
    boto3.client("secretsmanager").put_secret_value(SecretId="tollgate/production/slack-webhook", SecretString=value)
    with pytest.raises(NotificationDeliveryError, match="secret tollgate/production/slack-webhook"):
        process_event(load_event("codedeploy-deployment-stop.json"), LocalLambdaContext("n"), slack_retry=FAST)
    assert len(notifier_world.emails()) == 1
