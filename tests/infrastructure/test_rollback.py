"""The rollback construct: alarms per service, the two functions, their triggers and least privilege."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from lambdas.core.config import EnvironmentConfig, Strategy
from lambdas.rollback.alarms import AlarmKind, alarm_name
from stacks.constructs.rollback import ALARM_ROLLBACK_HANDLER, OPERATOR_ROLLBACK_HANDLER, Rollback
from stacks.constructs.shared import SharedResources

METRIC_KINDS = [
    AlarmKind.ERROR_RATE,
    AlarmKind.P99_LATENCY,
    AlarmKind.UNHEALTHY_HOSTS,
    AlarmKind.LOAN_SUBMISSIONS_ANOMALY,
]


@pytest.fixture
def template(bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig) -> Template:
    Rollback(bare_stack, "Rollback", shared=shared_resources, config=environment_config)
    return Template.from_stack(bare_stack)


def _alarms(template: Template) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::CloudWatch::Alarm")
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in found.values() if "AlarmName" in a["Properties"]}


def _tags(properties: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in properties.get("Tags", [])}


def _statements(template: Template, handler: str) -> list[dict[str, Any]]:
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    [(_, function)] = functions.items()
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            out.setdefault(action, []).extend(resources)
    return out


def test_every_service_has_its_named_and_tagged_alarms(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    # Given the environment's services, Then each has four metric alarms and one composite, named by the scheme
    alarms = _alarms(template)
    services = environment_config.lms.services
    # The business signal guards only the service that publishes it (the backend takes the applications).
    expected_kinds = {s: [k for k in METRIC_KINDS if s == "backend" or k is not AlarmKind.LOAN_SUBMISSIONS_ANOMALY]
                      for s in services}  # fmt: skip
    assert set(alarms) == {alarm_name(environment_config.name, s, k) for s in services for k in expected_kinds[s]}
    template.resource_count_is("AWS::CloudWatch::CompositeAlarm", len(services))
    for service in services:
        for kind in expected_kinds[service]:
            tags = _tags(alarms[alarm_name(environment_config.name, service, kind)])
            assert tags["tollgate:environment"] == environment_config.name
            assert tags["tollgate:service"] == service
            expected = "warning" if kind is AlarmKind.LOAN_SUBMISSIONS_ANOMALY else "critical"
            assert tags["tollgate:severity"] == expected
        template.has_resource_properties(
            "AWS::CloudWatch::CompositeAlarm",
            {
                "AlarmName": alarm_name(environment_config.name, service, AlarmKind.SERVICE_UNHEALTHY),
                "Tags": Match.array_with([{"Key": "tollgate:service", "Value": service}]),
            },
        )


def test_error_rate_alarm_is_metric_math_over_every_target_group(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    for service_name, service in environment_config.lms.services.items():
        alarm = _alarms(template)[alarm_name(environment_config.name, service_name, AlarmKind.ERROR_RATE)]
        assert alarm["Threshold"] == environment_config.thresholds.error_rate_percent
        expression = next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)
        assert "100 *" in expression
        assert f">= {environment_config.thresholds.min_requests}" in expression
        stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
        groups = {s["Metric"]["Dimensions"][1]["Value"] for s in stats}
        assert groups == {g for g in (service.target_groups.blue, service.target_groups.green) if g}
        assert {s["Metric"]["MetricName"] for s in stats} == {"HTTPCode_Target_5XX_Count", "RequestCount"}
        assert all(
            s["Period"] >= 60 and s["Period"] >= environment_config.thresholds.alarm_period_seconds for s in stats
        )


def test_latency_and_unhealthy_host_thresholds_come_from_config(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    alarms = _alarms(template)
    thresholds = environment_config.thresholds
    for service in environment_config.lms.services:
        p99 = alarms[alarm_name(environment_config.name, service, AlarmKind.P99_LATENCY)]
        assert p99["Threshold"] == thresholds.p99_latency_ms / 1000
        assert {m["MetricStat"]["Stat"] for m in p99["Metrics"] if "MetricStat" in m} == {"p99"}
        unhealthy = alarms[alarm_name(environment_config.name, service, AlarmKind.UNHEALTHY_HOSTS)]
        assert unhealthy["Threshold"] == thresholds.unhealthy_hosts
        assert unhealthy["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_loan_submissions_alarm_uses_anomaly_detection(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    alarm = _alarms(template)[alarm_name(environment_config.name, "backend", AlarmKind.LOAN_SUBMISSIONS_ANOMALY)]
    assert alarm["ComparisonOperator"] == "LessThanLowerThreshold"
    expressions = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert any(e.startswith("ANOMALY_DETECTION_BAND(") for e in expressions)
    metric = next(m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m)
    assert (metric["Namespace"], metric["MetricName"]) == ("LMS", "LoanApplicationsSubmitted")
    assert metric["Dimensions"] == [
        {"Name": "Environment", "Value": environment_config.name},
        {"Name": "Service", "Value": "backend"},
    ]


def test_two_functions_with_their_handlers(template: Template) -> None:
    template.resource_count_is("AWS::Lambda::Function", 2)
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": ALARM_ROLLBACK_HANDLER, "Timeout": 30})
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": OPERATOR_ROLLBACK_HANDLER, "Timeout": 120})


def test_rules_route_alarms_requests_and_rollback_completions(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    patterns = [r["Properties"]["EventPattern"] for r in template.find_resources("AWS::Events::Rule").values()]
    assert {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"state": {"value": ["ALARM"]}}} in patterns  # fmt: skip
    assert {"source": ["tollgate"], "detail-type": ["Operator Rollback Requested"]} in patterns
    codedeploy = [p for p in patterns if p["source"] == ["aws.codedeploy"]]
    ecs = [p for p in patterns if p["source"] == ["aws.ecs"]]
    rolling = environment_config.deployment.strategy is Strategy.ROLLING
    assert len(codedeploy) == (0 if rolling else 1)
    assert len(ecs) == (1 if rolling else 0)
    for pattern in codedeploy:
        assert pattern["detail"] == {
            "application": [environment_config.lms.codedeploy_application],
            "state": ["SUCCESS"],
        }
    # Every pattern is a plain JSON value the local runtime can match (no unresolved tokens).
    assert "${Token" not in json.dumps(patterns)


def test_functions_may_only_roll_back_the_lms(template: Template, environment_config: EnvironmentConfig) -> None:
    actions = _actions(_statements(template, ALARM_ROLLBACK_HANDLER))
    rolling = environment_config.deployment.strategy is Strategy.ROLLING
    assert ("codedeploy:StopDeployment" in actions) is not rolling
    assert ("ecs:UpdateService" in actions) is rolling
    for action in ("codedeploy:StopDeployment", "codedeploy:CreateDeployment", "ecs:UpdateService"):
        for resource in actions.get(action, []):
            assert resource != "*", action
    assert not [a for a in actions if a.startswith("rds:")], "the alarm function never touches the database"
    assert "cloudwatch:ListTagsForResource" in actions


def test_operator_function_restores_but_never_modifies_the_database(
    template: Template, environment_config: EnvironmentConfig
) -> None:
    actions = _actions(_statements(template, OPERATOR_ROLLBACK_HANDLER))
    rds = {a for a in actions if a.startswith("rds:")}
    assert rds == {"rds:DescribeDBClusters", "rds:RestoreDBClusterToPointInTime", "rds:AddTagsToResource"}
    tagged = json.dumps(actions["rds:AddTagsToResource"])
    assert f"cluster:{environment_config.lms.rds_cluster}-rollback-*" in tagged
