"""The Slack buttons handler on the embedded AWS: a signed click from the local Slack becomes the operator
request on Tollgate's bus (read back through a rule to a queue); a forged one is 401 and puts nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lambdas.canary import request_handler
from lambdas.core import settings as settings_module
from lambdas.core.config import EnvironmentConfig, load_environment
from lambdas.core.settings import settings
from lambdas.slack_actions.handler import handler
from tests.unit.notifier.factories import with_bot_token
from tollgate.embedded_aws.tables import create_tollgate_tables
from tollgate.local.context import LocalLambdaContext
from tollgate.local.slack_clicks import LOCAL_SIGNING_SECRET, signed_click
from tollgate.local.slack_receiver import SlackReceiver

SIGNING_SECRET_NAME = "tollgate/production/slack-signing-secret"
RELEASE_MANAGER = "U0RELEASE1"


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    raw = with_bot_token(load_environment("production")).model_dump(mode="json")
    raw["alerts"]["slack_signing_secret"] = SIGNING_SECRET_NAME
    raw["alerts"]["slack_approvers"] = {RELEASE_MANAGER: "release-manager"}
    config = EnvironmentConfig.model_validate(raw)
    monkeypatch.setattr(settings_module, "environment", lambda _name: config)
    boto3.client("secretsmanager").create_secret(Name=SIGNING_SECRET_NAME, SecretString=LOCAL_SIGNING_SECRET)
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="tollgate-production")
    queue = sqs.create_queue(QueueName="requests")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName="tollgate-production", EventPattern=json.dumps({"source": ["tollgate"]}))
    events.put_targets(Rule="all", EventBusName="tollgate-production", Targets=[{"Id": "q", "Arn": arn}])
    tables = create_tollgate_tables(boto3.client("dynamodb"))
    monkeypatch.setenv("TOLLGATE_STATE_TABLE", tables["state"])
    monkeypatch.setenv("TOLLGATE_ENVIRONMENT", "production")
    monkeypatch.setenv("TOLLGATE_EVENT_BUS", "tollgate-production")
    settings.cache_clear()
    with SlackReceiver() as receiver:
        yield {"queue": queue, "receiver": receiver}
    settings.cache_clear()


def _on_the_bus(queue: str) -> list[dict[str, Any]]:
    """What reached Tollgate's bus since the last look (read and removed from the rule's queue)."""
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def test_a_signed_approve_click_is_the_approve_request_on_tollgates_bus(world: dict[str, Any]) -> None:
    receiver: SlackReceiver = world["receiver"]
    click = signed_click(
        "tollgate_approve",
        deployment_id="d-PROD0001",
        service="backend",
        user_id=RELEASE_MANAGER,
        response_url=receiver.response_url(),
    )
    answer = handler(click, LocalLambdaContext("slack-actions"))
    assert answer["statusCode"] == 200
    [request] = _on_the_bus(world["queue"])
    assert request["detail-type"] == "Approve Requested"
    assert (request["detail"]["deployment_id"], request["detail"]["by"]) == ("d-PROD0001", "release-manager")
    # The clicker got an ephemeral reply over HTTP, the message itself untouched
    [reply] = receiver.responses
    assert (reply["response_type"], reply["replace_original"]) == ("ephemeral", False)


def test_a_forged_click_is_401_and_puts_nothing(world: dict[str, Any]) -> None:
    click = signed_click(
        "tollgate_abort", deployment_id="d-PROD0001", service="backend", user_id=RELEASE_MANAGER, secret="forged"
    )
    assert handler(click, LocalLambdaContext("slack-actions"))["statusCode"] == 401
    assert _on_the_bus(world["queue"]) == []


def test_an_unknown_user_is_refused_and_the_refusal_is_on_the_bus(world: dict[str, Any]) -> None:
    receiver: SlackReceiver = world["receiver"]
    click = signed_click(
        "tollgate_promote",
        deployment_id="d-PROD0001",
        service="backend",
        user_id="U0STRANGER",
        response_url=receiver.response_url(),
    )
    assert handler(click, LocalLambdaContext("slack-actions"))["statusCode"] == 200
    [refusal] = _on_the_bus(world["queue"])
    assert refusal["detail-type"] == "Approval Refused"
    assert refusal["detail"]["evidence"]["slack_user"] == "U0STRANGER"
    assert "may not promote" in receiver.responses[0]["text"]


def test_a_double_click_is_one_approval_carried_out_by_the_request_function(world: dict[str, Any]) -> None:
    # Given the release manager clicking Approve twice (Slack delivers both)
    for _ in range(2):
        click = signed_click("tollgate_approve", deployment_id="d-PROD0001", service="backend", user_id=RELEASE_MANAGER)
        assert handler(click, LocalLambdaContext("slack-actions"))["statusCode"] == 200
    requests = _on_the_bus(world["queue"])
    assert [r["detail-type"] for r in requests] == ["Approve Requested"] * 2
    # When the request function (the CLI's path) handles both requests from the bus
    outcomes = [request_handler.handler(r, LocalLambdaContext("requests"))["decision"] for r in requests]
    # Then one approval is recorded and announced; the second click changes nothing
    assert outcomes == ["recorded", "already"]
    announced = [e for e in _on_the_bus(world["queue"]) if e["detail-type"] == "Approval Given"]
    assert [(e["detail"]["deployment_id"], e["detail"]["evidence"]["by"]) for e in announced] == [
        ("d-PROD0001", "release-manager")
    ]
