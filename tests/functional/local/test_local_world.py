"""The local runtime on the embedded AWS: deploy from a template, route, invoke, cascade, record."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from lambdas.core.config import load_environment
from tests.local_template import sample_template
from tollgate.local.deploy import deploy_locally, function_environment
from tollgate.local.recorder import CallRecorder
from tollgate.local.replay import EventError, LocalWorld
from tollgate.local.template import parse_template

ALARM = {
    "version": "0",
    "id": "e1",
    "source": "aws.cloudwatch",
    "detail-type": "CloudWatch Alarm State Change",
    "account": "222222222222",
    "region": "eu-west-1",
    "time": "2026-11-26T03:00:00Z",
    "resources": [],
    "detail": {"alarmName": "tollgate-staging-backend-5xx-rate", "state": {"value": "ALARM"}},
}


@pytest.fixture
def world(embedded_aws: Any) -> LocalWorld:
    template = parse_template("staging", sample_template())
    recorder = CallRecorder()
    recorder.attach()
    stack = deploy_locally(template, region="eu-west-1")
    recorder.calls.clear()
    return LocalWorld(load_environment("staging"), embedded_aws, template, stack, recorder)


def test_local_deploy_creates_resources_and_resolves_intrinsics(world: LocalWorld) -> None:
    env = function_environment(world.template, "Announcer", world.stack)
    assert env["TOLLGATE_EVENT_BUS"] == "tollgate-staging"
    assert env["JOINED"] == "eu-west-1/x"
    assert env["SUBSTITUTED"].startswith("bus=tollgate-staging arn=arn:aws:events:eu-west-1:")
    assert env["QUEUE_ARN"].startswith("arn:aws:sqs:eu-west-1:")
    buses = [b["Name"] for b in boto3.client("events").list_event_buses()["EventBuses"]]
    assert "tollgate-staging" in buses
    assert (
        boto3.client("dynamodb").describe_table(TableName="StateTable")["Table"]["KeySchema"][1]["AttributeName"]
        == "sk"
    )
    assert boto3.client("ssm").get_parameter(Name="/tollgate/staging/bus")["Parameter"]["Value"] == "tollgate-staging"
    subscriptions = boto3.client("sns").list_subscriptions()["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == ["team@example.com"]
    assert "AlarmSubscription" in world.stack.skipped  # lambda subscriptions run in-process


def test_an_alarm_runs_the_rule_target_and_what_it_announces_reaches_the_bus_subscriber(world: LocalWorld) -> None:
    # When an ALARM event is replayed
    report = world.replay(ALARM)
    # Then the rule's target ran, then the function subscribed on Tollgate's bus to what it announced
    assert report.handled_by == ["tollgate-staging-announcer", "Listener"]
    assert report.decision == "rollback_started"
    assert [(c["function"], c["service"], c["operation"]) for c in report.aws_calls] == [
        ("tollgate-staging-announcer", "events", "PutEvents"),
        ("Listener", "sns", "Publish"),
    ]
    assert report.notifications == [
        {"channel": "email", "to": world.stack.attributes["Topic"]["Ref"], "summary": "Rollback started"}
    ]


def test_an_event_no_rule_matches_is_ignored_with_the_reason(world: LocalWorld) -> None:
    ok = {**ALARM, "detail": {**ALARM["detail"], "state": {"value": "OK"}}}
    report = world.replay(ok)
    assert report.handled_by == []
    assert report.decision == "ignored"
    assert "no rule" in report.reason


def test_a_failing_handler_is_reported_not_raised(world: LocalWorld) -> None:
    report = world.replay({**ALARM, "source": "aws.codedeploy", "detail": {}})
    assert report.handled_by == ["Broken"]
    assert report.decision == "error"
    assert "RuntimeError: boom" in report.reason


def test_hook_payloads_need_a_function_and_unknown_functions_are_refused(world: LocalWorld) -> None:
    hook = {"DeploymentId": "d-ABC", "LifecycleEventHookExecutionId": "exec"}
    report = world.replay(hook)
    assert report.decision == "ignored"
    assert "--function" in report.reason
    with pytest.raises(EventError, match="no function 'nope'"):
        world.replay(hook, function="nope")


def test_sns_and_schedule_events_reach_their_subscribers(world: LocalWorld) -> None:
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]}
    assert world.replay(sns).handled_by == ["Listener"]
    tick = {**ALARM, "source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": "{}"}
    assert world.replay(tick).handled_by == ["Listener"]
