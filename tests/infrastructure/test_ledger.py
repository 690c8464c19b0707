"""The record's constructs in the whole stack: ledger table, function URL, schedules, dashboard, synthetics alarms."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Match, Template

from lambdas.core.config import load_environment
from stacks.constructs.ledger import LEDGER_HANDLER, METRICS_HANDLER, WEBHOOK_HANDLER
from stacks.constructs.synthetics import SYNTHETICS_HANDLER
from stacks.tollgate_stack import TollgateStack

ENVIRONMENTS = ["development", "staging", "production"]


@cache
def _template(name: str) -> Template:
    config = load_environment(name)
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(
        app, f"Tollgate-{name}", config=config, env=Environment(account=config.account, region=config.region)
    )
    return Template.from_stack(stack)


def _function_id(template: Template, handler: str) -> str:
    found = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    assert len(found) == 1, handler
    return next(iter(found))


def _statements_of(template: Template, function_id: str) -> list[dict[str, Any]]:
    role = template.find_resources("AWS::Lambda::Function")[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p for p in template.find_resources("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _ledger_actions(template: Template, function_id: str) -> set[str]:
    table_id = next(
        iter(
            template.find_resources(
                "AWS::DynamoDB::Table", {"Properties": {"GlobalSecondaryIndexes": Match.any_value()}}
            )
        )
    )
    actions: set[str] = set()
    for statement in _statements_of(template, function_id):
        if table_id in json.dumps(statement["Resource"]) and "kms" not in json.dumps(statement["Action"]):
            listed = statement["Action"]
            actions |= {listed} if isinstance(listed, str) else set(listed)
    return actions


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_ledger_table_is_on_demand_with_pitr_and_the_shared_key(name: str) -> None:
    template = _template(name)
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
                    "GlobalSecondaryIndexes": [Match.object_like({"IndexName": "ByTime"})],
                }
            ),
        },
    )


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_function_gets_only_the_table_actions_it_uses(name: str) -> None:
    template = _template(name)
    assert _ledger_actions(template, _function_id(template, LEDGER_HANDLER)) == {
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
    }
    assert _ledger_actions(template, _function_id(template, METRICS_HANDLER)) == {"dynamodb:Query", "dynamodb:GetItem"}
    assert _ledger_actions(template, _function_id(template, WEBHOOK_HANDLER)) == {
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
    }


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_webhook_is_a_public_function_url_that_reads_only_its_secret(name: str) -> None:
    template = _template(name)
    webhook = _function_id(template, WEBHOOK_HANDLER)
    template.has_resource_properties(
        "AWS::Lambda::Url", {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [webhook, "Arn"]}}
    )
    function = template.find_resources("AWS::Lambda::Function")[webhook]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 10
    secret = load_environment(name).records.github_webhook_secret
    assert function["Environment"]["Variables"]["TOLLGATE_GITHUB_WEBHOOK_SECRET"] == secret
    reads = [s for s in _statements_of(template, webhook) if "secretsmanager:GetSecretValue" in s["Action"]]
    assert len(reads) == 1 and f"secret:{secret}-??????" in json.dumps(reads[0]["Resource"])


def _rate(minutes: int) -> str:
    # CDK renders whole hours as hours (rate(1 hour)); both schedulers accept either form.
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"rate({hours} hour{'s' if hours > 1 else ''})"
    return f"rate({minutes} minute{'s' if minutes > 1 else ''})"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_schedules_publish_metrics_and_run_synthetics(name: str) -> None:
    template = _template(name)
    records = load_environment(name).records
    metrics = _function_id(template, METRICS_HANDLER)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": _rate(records.metrics_every_minutes),
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [metrics, "Arn"]}})],
        },
    )
    synthetics = _function_id(template, SYNTHETICS_HANDLER)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": _rate(records.synthetics_every_minutes),
            "Target": Match.object_like(
                {
                    "Arn": {"Fn::GetAtt": [synthetics, "Arn"]},
                    "RetryPolicy": Match.object_like({"MaximumRetryAttempts": 0}),
                }
            ),
        },
    )


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_a_synthetics_alarm_per_service_with_a_flow_tagged_for_rollback(name: str) -> None:
    template = _template(name)
    config = load_environment(name)
    services = sorted({flow.service for flow in config.checks.flows.values()})
    alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "Tollgate/Synthetics"}})
    assert sorted(a["Properties"]["AlarmName"] for a in alarms.values()) == [
        f"tollgate-{name}-{s}-synthetics" for s in services
    ]
    for alarm in alarms.values():
        props = alarm["Properties"]
        service = props["AlarmName"].split("-")[2]
        tags = {t["Key"]: t["Value"] for t in props["Tags"]}
        # The rollback function maps an alarm it does not know by name through exactly these tags
        assert tags["tollgate:environment"] == name and tags["tollgate:service"] == service
        assert tags["tollgate:severity"] == "critical"
        assert (props["MetricName"], props["Statistic"], props["ComparisonOperator"], props["Threshold"]) == (
            "SyntheticSuccess",
            "Minimum",
            "LessThanThreshold",
            1,
        )
        assert props["EvaluationPeriods"] == config.records.synthetics_failed_runs_to_alarm
        assert {d["Name"]: d["Value"] for d in props["Dimensions"]} == {"Environment": name, "service": service}


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_one_dashboard_per_environment_with_every_section(name: str) -> None:
    template = _template(name)
    dashboards = template.find_resources("AWS::CloudWatch::Dashboard")
    assert [d["Properties"]["DashboardName"] for d in dashboards.values()] == [f"tollgate-{name}"]
    body = json.dumps(next(iter(dashboards.values()))["Properties"]["DashboardBody"])
    for title in (
        "Deployments",
        "Rollbacks",
        "Canary steps",
        "Lead time for changes",
        "Change failure rate",
        "Time to restore",
        "Build success rate",
        "Synthetics: success",
        "Synthetics: slowest flow",
        "Tollgate's own errors",
        "Dead-letter queue depth",
    ):
        assert title in body, title
    assert "Tollgate/Pipeline" in body and "ApproximateNumberOfMessagesVisible" in body


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_writer_hears_every_tollgate_announcement_and_the_lms_deployments(name: str) -> None:
    template = _template(name)
    writer = _function_id(template, LEDGER_HANDLER)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if any(t["Arn"] == {"Fn::GetAtt": [writer, "Arn"]} for t in r["Properties"].get("Targets", []))
    ]
    sources = sorted(s for r in rules for s in r["EventPattern"]["source"])
    config = load_environment(name)
    expected = ["tollgate"] + (["aws.codedeploy"] if config.lms.codedeploy_application else [])
    expected += ["aws.ecs"] if any(s.deployment_group is None for s in config.lms.services.values()) else []
    assert sources == sorted(expected)
