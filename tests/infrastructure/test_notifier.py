"""The notifier construct: function, event subscriptions, email subscriptions, least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import OPERATOR_REQUESTS, DetailType
from lambdas.notifier.adapters.living_messages import LIVING_KIND
from stacks.constructs.notifier import NOTIFIER_HANDLER, Notifier
from stacks.constructs.shared import SharedResources
from tests.conftest import EVENTS_DIR
from tests.unit.notifier.factories import webhook_only, with_bot_token


@pytest.fixture
def template(bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig) -> Template:
    Notifier(bare_stack, "Notifier", shared=shared_resources, config=environment_config)
    return Template.from_stack(bare_stack)


def _statements(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::IAM::Policy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_one_notifier_function_with_time_for_slack_retries(template: Template) -> None:
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": NOTIFIER_HANDLER, "Timeout": 60})


def test_codedeploy_rule_only_where_codedeploy_deploys(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    # Given the environment's strategy
    rules = template.find_resources(
        "AWS::Events::Rule",
        {"Properties": {"EventPattern": {"source": ["aws.codedeploy"]}}},
    )
    # Then a CodeDeploy rule exists exactly where there is a CodeDeploy application, filtered on it
    application = environment_config.lms.codedeploy_application
    assert len(rules) == (1 if application else 0)
    for rule in rules.values():
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["detail-type"] == ["CodeDeploy Deployment State-change Notification"]
        assert pattern["detail"] == {"application": [application]}


def test_ecs_rule_only_where_services_roll(template: Template, environment_config: EnvironmentConfig) -> None:
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["aws.ecs"]}}})
    rolling = any(s.deployment_group is None for s in environment_config.lms.services.values())
    assert len(rules) == (1 if rolling else 0)
    for rule in rules.values():
        pattern = rule["Properties"]["EventPattern"]
        assert pattern["detail-type"] == ["ECS Deployment State Change"]
        prefix = f"arn:aws:ecs:{environment_config.region}:{environment_config.account}:service/"
        assert pattern["resources"] == [{"prefix": f"{prefix}{environment_config.lms.ecs_cluster}/"}]


def test_every_tollgate_announcement_reaches_the_notifier_on_tollgates_bus(template: Template) -> None:
    rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["tollgate"]}}})
    [rule] = rules.values()
    announcements = sorted(d.value for d in DetailType if d not in OPERATOR_REQUESTS)
    assert sorted(rule["Properties"]["EventPattern"]["detail-type"]) == announcements
    assert "EventBusName" in rule["Properties"]


def test_rule_targets_retry_and_keep_what_they_cannot_deliver(template: Template) -> None:
    for rule in template.find_resources("AWS::Events::Rule").values():
        [target] = rule["Properties"]["Targets"]
        assert "DeadLetterConfig" in target
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def test_each_routed_address_gets_one_filtered_email_subscription(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    # Given the addresses named by the environment's routes
    addresses = {a for route in environment_config.alerts.routes for a in route.emails}
    # Then each has one email subscription that only lets its own messages through
    template.resource_count_is("AWS::SNS::Subscription", len(addresses))
    for address in addresses:
        template.has_resource_properties(
            "AWS::SNS::Subscription",
            {"Protocol": "email", "Endpoint": address, "FilterPolicy": {"recipient": [address]}},
        )


def test_least_privilege_reads_the_slack_secret_and_publishes_to_the_alert_topic(template: Template) -> None:
    statements = _statements(template)
    secret = [s for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert secret
    # The webhook secret, and the bot token's where the environment configures one: nothing else
    assert all("slack-webhook" in str(s["Resource"]) or "slack-bot-token" in str(s["Resource"]) for s in secret)
    publish = [s for s in statements if "sns:Publish" in _actions(s)]
    assert len(publish) == 1
    assert "AlertTopic" in str(publish[0]["Resource"])
    assert not any(s["Resource"] == "*" for s in statements if "sns:Publish" in _actions(s))


def test_state_table_writes_are_only_the_delivery_records_and_the_living_messages(template: Template) -> None:
    # Given the notifier's grants on Tollgate's state table
    leading = [
        s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        for s in _statements(template)
        if "dynamodb:PutItem" in _actions(s) and "StateTable" in json.dumps(s["Resource"])
    ]
    # Then exactly one statement, for exactly the notifier's prefixes (the living message is slack#<deployment>)
    assert leading == [["notifier#*", "slack#*"]]
    assert LIVING_KIND == "slack"


@pytest.mark.parametrize("with_token", [False, True])
def test_the_bot_token_secret_is_readable_only_when_configured(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig, with_token: bool
) -> None:
    config = with_bot_token(environment_config) if with_token else webhook_only(environment_config)
    Notifier(bare_stack, "Notifier", shared=shared_resources, config=config)
    statements = _statements(Template.from_stack(bare_stack))
    secrets = [json.dumps(s["Resource"]) for s in statements if "secretsmanager:GetSecretValue" in _actions(s)]
    assert any("slack-webhook" in r for r in secrets)
    assert any("slack-bot-token" in r for r in secrets) is with_token


def test_codedeploy_revisions_are_readable_only_for_the_lms_deployment_groups(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    statements = [s for s in _statements(template) if "codedeploy:GetDeployment" in _actions(s)]
    groups = [s.deployment_group for s in environment_config.lms.services.values() if s.deployment_group]
    assert len(statements) == (1 if groups else 0)
    for statement in statements:
        resources = str(statement["Resource"])
        assert all(f"deploymentgroup:{environment_config.lms.codedeploy_application}/{g}" in resources for g in groups)


def test_the_rules_match_the_sample_events_of_their_environment(
    template: Template, environment_config: EnvironmentConfig, load_event: Any
) -> None:
    # Given the synthesized rule patterns and the real-shaped samples in events/
    patterns = [
        EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))
        for rule in template.find_resources("AWS::Events::Rule").values()
    ]
    samples = [
        load_event(path.name)
        for path in sorted(EVENTS_DIR.glob("*.json"))
        if path.name.startswith(("codedeploy-deployment-", "ecs-deployment-"))
    ]
    assert samples
    for sample in samples:
        # Then a sample reaches the notifier exactly when it is about this environment's LMS
        ours = sample["account"] == environment_config.account
        assert any(p.matches_event(sample) for p in patterns) == ours, sample["id"]
