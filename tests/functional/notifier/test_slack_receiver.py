"""The local Slack receiver's helpers for the demo and the replay report."""

from __future__ import annotations

import json
from typing import Any

import boto3

from lambdas.core.config import load_environment
from tollgate.local.slack_receiver import SlackReceiver, install_slack_secrets, notifications_sent


def test_installing_secrets_twice_points_them_at_the_latest_receiver(embedded_aws: Any) -> None:
    # Given production's config and two receivers in turn
    config = load_environment("production")
    secrets = boto3.client("secretsmanager")
    with SlackReceiver() as first, SlackReceiver() as second:
        install_slack_secrets(first, config, secrets)
        # When the second one installs over the first
        env = install_slack_secrets(second, config, secrets)
        # Then every routed channel's webhook points at the second receiver
        value = json.loads(secrets.get_secret_value(SecretId=config.alerts.slack_webhook_secret)["SecretString"])
        assert value == {c: second.webhook_url(c) for c in ("#lms-prod-alerts", "#lms-releases")}
        assert env == {"TOLLGATE_SLACK_API_URL": second.api_url}


def test_emails_published_by_others_are_listed_for_the_topics_subscribers(embedded_aws: Any) -> None:
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="ops")["TopicArn"]
    sns.publish(TopicArn=topic, Subject="ALARM: x", Message="body")
    assert notifications_sent(None) == [{"channel": "email", "to": "subscribers of ops", "summary": "ALARM: x"}]
