"""The notifier on the embedded AWS with the local Slack receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lambdas.core import settings as settings_module
from lambdas.core.config import EnvironmentConfig, load_environment
from lambdas.core.settings import settings
from lambdas.notifier import settings as notifier_settings_module
from tests.unit.notifier.factories import BOT_TOKEN_SECRET, webhook_only, with_bot_token
from tollgate.embedded_aws.tables import create_tollgate_tables
from tollgate.local.slack_receiver import SlackReceiver, emails_sent, install_slack_secrets


@dataclass
class NotifierWorld:
    receiver: SlackReceiver
    topic_arn: str
    state_table: str
    use_environment: Callable[..., EnvironmentConfig]

    def living_record(self, deployment_id: str) -> dict[str, Any] | None:
        item = (
            boto3.client("dynamodb")
            .get_item(TableName=self.state_table, Key={"pk": {"S": f"slack#{deployment_id}"}, "sk": {"S": "message"}})
            .get("Item")
        )
        return dict(item) if item else None

    def emails(self) -> list[dict[str, Any]]:
        return [e for e in emails_sent(account="123456789012", region="eu-west-1") if e["topic_arn"] == self.topic_arn]

    def delivery_records(self, event_id: str) -> dict[str, dict[str, Any]]:
        items = boto3.client("dynamodb").query(
            TableName=self.state_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"notifier#delivery#{event_id}"}},
        )["Items"]
        return {item["sk"]["S"]: item for item in items}


@pytest.fixture
def slack_receiver() -> Iterator[SlackReceiver]:
    with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture
def notifier_world(
    embedded_aws: Any, slack_receiver: SlackReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[NotifierWorld]:
    tables = create_tollgate_tables(boto3.client("dynamodb"))
    topic_arn = boto3.client("sns").create_topic(Name="tollgate-alerts")["TopicArn"]
    secrets = boto3.client("secretsmanager")
    monkeypatch.setenv("TOLLGATE_EVENT_BUS", "tollgate-test")
    monkeypatch.setenv("TOLLGATE_IDEMPOTENCY_TABLE", tables["idempotency"])
    monkeypatch.setenv("TOLLGATE_STATE_TABLE", tables["state"])
    monkeypatch.setenv("TOLLGATE_ALERT_TOPIC_ARN", topic_arn)

    def use_environment(name: str, *, bot_token: bool = False) -> EnvironmentConfig:
        """Run as this environment's notifier; its webhook secret points at the receiver."""
        config = load_environment(name)
        # With a bot token, the living message; without one, the webhook path (whatever the file configures).
        config = with_bot_token(config, BOT_TOKEN_SECRET) if bot_token else webhook_only(config)
        monkeypatch.setattr(settings_module, "environment", lambda _name: config)
        monkeypatch.setattr(notifier_settings_module, "environment", lambda _name: config)
        for key, value in install_slack_secrets(slack_receiver, config, secrets).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("TOLLGATE_ENVIRONMENT", name)
        settings.cache_clear()
        return config

    yield NotifierWorld(slack_receiver, topic_arn, tables["state"], use_environment)
    settings.cache_clear()
