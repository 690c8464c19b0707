"""Tollgate's own failures page people directly, not through the notifier."""

from __future__ import annotations

from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from lambdas.core.config import EnvironmentConfig
from stacks.constructs.health import critical_emails
from stacks.tollgate_stack import TollgateStack


def _stack(config: EnvironmentConfig) -> TollgateStack:
    app = App(builtin_cloud_formation_validation=False)
    return TollgateStack(app, "Health", config=config, env=Environment(account=config.account, region=config.region))


def test_every_function_and_the_dlq_have_an_alarm_paging_the_operations_topic(
    environment_config: EnvironmentConfig,
) -> None:
    # Given the whole stack of an environment
    stack = _stack(environment_config)
    template = Template.from_stack(stack)
    resources = template.to_json()["Resources"]
    functions = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"]
    topic = next(k for k, v in resources.items() if v["Type"] == "AWS::SNS::Topic" and "OperationsTopic" in k)
    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    # Then each function's Errors and the DLQ depth are watched, and every such alarm pages the topic
    watched = {
        d["Value"]["Ref"]
        for a in alarms
        if a.get("MetricName") == "Errors"
        for d in a.get("Dimensions", [])
        if d["Name"] == "FunctionName"
    }
    assert watched == set(functions)
    own = [a for a in alarms if a.get("MetricName") == "Errors" or a.get("Namespace") == "AWS/SQS"]
    assert len(own) == len(functions) + 1
    assert all(a["AlarmActions"] == [{"Ref": topic}] for a in own)


def test_critical_routes_emails_subscribe_without_a_filter(environment_config: EnvironmentConfig) -> None:
    template = Template.from_stack(_stack(environment_config))
    subscriptions = [
        v["Properties"]
        for k, v in template.to_json()["Resources"].items()
        if v["Type"] == "AWS::SNS::Subscription" and "OperationsTopic" in k
    ]
    assert sorted(s["Endpoint"] for s in subscriptions) == sorted(critical_emails(environment_config))
    assert all("FilterPolicy" not in s for s in subscriptions)


def test_critical_emails_come_only_from_routes_that_hear_critical(environment_config: EnvironmentConfig) -> None:
    expected = {
        address
        for route in environment_config.alerts.routes
        if "critical" in route.severities
        for address in route.emails
    }
    assert set(critical_emails(environment_config)) == expected
    assert len(critical_emails(environment_config)) == len(expected)
