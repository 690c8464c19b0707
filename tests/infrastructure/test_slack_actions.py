"""The Slack buttons construct: a function URL Slack can call, and nothing more than its clicks need."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from lambdas.core.config import EnvironmentConfig
from stacks.constructs.shared import SharedResources
from stacks.constructs.slack_actions import SLACK_ACTIONS_CONCURRENCY, SLACK_ACTIONS_HANDLER, SlackActions
from tests.unit.notifier.factories import with_bot_token

SIGNING_SECRET = "tollgate/production/slack-signing-secret"


@pytest.fixture
def template(bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig) -> Template:
    raw = with_bot_token(environment_config).model_dump(mode="json")
    raw["alerts"]["slack_signing_secret"] = SIGNING_SECRET
    config = EnvironmentConfig.model_validate(raw)
    SlackActions(bare_stack, "SlackActions", shared=shared_resources, config=config)
    return Template.from_stack(bare_stack)


def _statements(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_one_function_behind_a_function_url_slack_can_reach(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": SLACK_ACTIONS_HANDLER, "Timeout": 5, "ReservedConcurrentExecutions": SLACK_ACTIONS_CONCURRENCY},
    )
    # Slack cannot sign with IAM: the function checks Slack's signature itself (401 otherwise)
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "NONE"})
    assert any("InteractivityUrl" in name for name in template.find_outputs("*"))


def test_it_reads_only_the_signing_secret_and_puts_only_operator_requests_and_refusals(template: Template) -> None:
    statements = _statements(template)
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s["Action"])]
    assert secrets and all("slack-signing-secret" in json.dumps(s["Resource"]) for s in secrets)
    [put] = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert put["Condition"]["StringEquals"]["events:detail-type"] == [
        "Approve Requested",
        "Reject Requested",
        "Canary Promote Requested",
        "Canary Abort Requested",
        "Approval Refused",
    ]
    assert not [s for s in statements if "dynamodb:" in json.dumps(s["Action"])]
    assert not [s for s in statements if "sns:Publish" in json.dumps(s["Action"])]
