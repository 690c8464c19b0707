"""What a real account would refuse or misread (issue 10): topic and key policies, composite severity,
config values AWS would change, and each function's IAM being only what it uses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from lambdas.core.config import ConfigError, EnvironmentConfig, Severity, load_environment, parse_environment
from lambdas.rollback.alarms import ALARM_SEVERITIES, AlarmKind, alarm_name
from stacks.tollgate_stack import TollgateStack


@pytest.fixture
def stack_template(environment_config: EnvironmentConfig) -> Template:
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(
        app, "RealAccount", config=environment_config,
        env=Environment(account=environment_config.account, region=environment_config.region),
    )  # fmt: skip
    return Template.from_stack(stack)


def _resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.to_json()["Resources"].items() if v["Type"] == kind}


def _alarms_pattern(config: EnvironmentConfig) -> str:
    return f"arn:aws:cloudwatch:{config.region}:{config.account}:alarm:tollgate-{config.name}-*"


def _render(value: Any) -> Any:
    """A template value with the partition resolved (``Fn::Join`` of strings and ``Ref AWS::Partition``)."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else _render(p) for p in parts)
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items()}
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- 1. topic and key policies ------------------------------------------------------------------------------


def test_cloudwatch_may_publish_only_tollgates_alarms_to_the_operations_topic(
    stack_template: Template, environment_config: EnvironmentConfig
) -> None:
    # Given the operations topic's policy (enforce_ssl replaced SNS's default policy)
    topics = _resources(stack_template, "AWS::SNS::Topic")
    operations = next(k for k in topics if "OperationsTopic" in k)
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in _resources(stack_template, "AWS::SNS::TopicPolicy").values()
        if {"Ref": operations} in p["Properties"]["Topics"]
    ]
    [statements] = policies
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # Then exactly CloudWatch may publish, from this account's tollgate-<env>-* alarms
    assert [s["Principal"] for s in allows] == [{"Service": "cloudwatch.amazonaws.com"}]
    [allow] = allows
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": environment_config.account}
    assert _render(allow["Condition"]["ArnLike"]) == {"aws:SourceArn": _alarms_pattern(environment_config)}
    # And every alarm paging it is named inside that pattern
    for alarm in _resources(stack_template, "AWS::CloudWatch::Alarm").values():
        if alarm["Properties"].get("AlarmActions") == [{"Ref": operations}]:
            assert alarm["Properties"]["AlarmName"].startswith(f"tollgate-{environment_config.name}-")


def test_alert_topic_allows_no_service_principal(stack_template: Template) -> None:
    # The notifier publishes with its role (same account, identity policy): no resource policy allow is needed.
    topics = _resources(stack_template, "AWS::SNS::Topic")
    alert = next(k for k in topics if "AlertTopic" in k)
    for policy in _resources(stack_template, "AWS::SNS::TopicPolicy").values():
        if {"Ref": alert} in policy["Properties"]["Topics"]:
            assert all(s["Effect"] == "Deny" for s in policy["Properties"]["PolicyDocument"]["Statement"])


def test_service_principals_use_the_key_only_to_deliver_and_only_for_tollgate(
    stack_template: Template, environment_config: EnvironmentConfig
) -> None:
    [key] = _resources(stack_template, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    services = {s["Principal"]["Service"]: s for s in statements if "Service" in s.get("Principal", {})}
    assert set(services) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    for statement in services.values():
        assert sorted(_as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
        assert statement.get("Condition"), "a service principal without a source condition is a confused deputy"
    cloudwatch = services["cloudwatch.amazonaws.com"]["Condition"]
    assert cloudwatch["StringEquals"] == {"aws:SourceAccount": environment_config.account}
    assert _render(cloudwatch["ArnLike"]) == {"aws:SourceArn": _alarms_pattern(environment_config)}
    events = _render(services["events.amazonaws.com"]["Condition"]["StringEquals"])
    assert events == {
        "kms:EncryptionContext:aws:sqs:arn": f"arn:aws:sqs:{environment_config.region}:{environment_config.account}:"
        f"tollgate-{environment_config.name}-dead-letters"
    }


# -- 2. composite semantics ---------------------------------------------------------------------------------


def test_a_composite_is_made_of_critical_alarms_only(
    stack_template: Template, environment_config: EnvironmentConfig
) -> None:
    # Construct ids of the metric alarms, as the composite's rule references them (GetAtt <id>.Arn)
    construct = {kind: kind.name.title().replace("_", "") for kind in AlarmKind}
    construct[AlarmKind.LOAN_SUBMISSIONS_ANOMALY] = "LoanSubmissionsAnomaly"
    composites = _resources(stack_template, "AWS::CloudWatch::CompositeAlarm")
    assert len(composites) == len(environment_config.lms.services)
    for composite in composites.values():
        service = composite["Properties"]["AlarmName"].split("-")[2]
        children = [
            part["Fn::GetAtt"][0]
            for part in composite["Properties"]["AlarmRule"]["Fn::Join"][1]
            if isinstance(part, dict)
        ]
        kinds = {
            kind
            for kind in AlarmKind
            for child in children
            if child.startswith(f"RollbackAlarms{service}{construct[kind]}")
        }
        assert len(kinds) == len(children)
        # Then the critical composite's children are exactly the critical alarms; a warning is never one
        assert kinds == {k for k in AlarmKind if k is not AlarmKind.SERVICE_UNHEALTHY
                         and ALARM_SEVERITIES[k] is Severity.CRITICAL}  # fmt: skip


def test_the_business_signal_is_per_service(stack_template: Template, environment_config: EnvironmentConfig) -> None:
    anomaly = [
        v["Properties"]
        for v in _resources(stack_template, "AWS::CloudWatch::Alarm").values()
        if "loan-submissions" in v["Properties"].get("AlarmName", "")
    ]
    assert [a["AlarmName"] for a in anomaly] == [
        alarm_name(environment_config.name, "backend", AlarmKind.LOAN_SUBMISSIONS_ANOMALY)
    ]
    metric = next(m["MetricStat"]["Metric"] for m in anomaly[0]["Metrics"] if "MetricStat" in m)
    assert {"Name": "Service", "Value": "backend"} in metric["Dimensions"]


# -- 6. config that cannot lie ------------------------------------------------------------------------------


def _raw(name: str) -> dict[str, Any]:
    return json.loads(load_environment(name).model_dump_json(by_alias=True, exclude_none=True))


@pytest.mark.parametrize("period", [10, 30])
def test_a_period_alb_metrics_cannot_have_fails_naming_environment_and_field(period: int) -> None:
    raw = _raw("production")
    raw["thresholds"]["alarm_period_seconds"] = period
    with pytest.raises(ConfigError, match=r"environment 'production'.*thresholds\.alarm_period_seconds"):
        parse_environment("production", raw)


def test_an_environment_whose_critical_route_has_no_recipient_fails() -> None:
    raw = _raw("development")
    raw["alerts"]["routes"] = [r for r in raw["alerts"]["routes"] if r.get("slack_channel")]
    with pytest.raises(ConfigError, match=r"environment 'development'.*alerts\.routes.*critical"):
        parse_environment("development", raw)


def test_a_request_timeout_longer_than_the_hook_fails() -> None:
    raw = _raw("staging")
    raw["checks"]["hook_timeout_seconds"] = 10
    raw["checks"]["request_timeout_seconds"] = 10
    with pytest.raises(ConfigError, match=r"environment 'staging'.*checks\.request_timeout_seconds"):
        parse_environment("staging", raw)


# -- 7. least privilege per function ------------------------------------------------------------------------


def _role_statements(template: Template, handler: str, *, hook: str | None = None) -> list[dict[str, Any]]:
    functions = [
        f
        for f in _resources(template, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == handler
        and (hook is None or f["Properties"]["Environment"]["Variables"].get("TOLLGATE_HOOK") == hook)
    ]
    function = functions[0]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _managed_policies(template: Template, handler: str) -> list[Any]:
    function = next(
        f for f in _resources(template, "AWS::Lambda::Function").values() if f["Properties"]["Handler"] == handler
    )
    role = template.to_json()["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
    return list(role["Properties"].get("ManagedPolicyArns", []))


def _dynamodb(statements: list[dict[str, Any]]) -> list[tuple[set[str], list[str] | None, str]]:
    out = []
    for s in statements:
        actions = set(_as_list(s["Action"]))
        if any(a.startswith("dynamodb:") for a in actions):
            leading = s.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
            out.append((actions, leading, json.dumps(s["Resource"])))
    return out


FUNCTIONS = {
    # handler -> (pk prefixes written, pk prefixes only read, detail types announced)
    "lambdas.rollback.handler.handler": (["rollback#*"], [], True),
    "lambdas.rollback.operator_handler.handler": (["rollback#*"], [], True),
    "lambdas.notifier.handler.handler": (["notifier#*", "slack#*"], [], False),
    "lambdas.hooks.handler.handler": (["hook-report#*"], ["approval#*"], True),
}


@pytest.mark.parametrize("handler", sorted(FUNCTIONS))
def test_each_function_touches_only_its_own_records_with_only_the_calls_it_makes(
    stack_template: Template, environment_config: EnvironmentConfig, handler: str
) -> None:
    if handler.startswith("lambdas.hooks") and environment_config.lms.codedeploy_application is None:
        pytest.skip("rolling environments run no hooks")
    writes, reads, announces = FUNCTIONS[handler]
    statements = _role_statements(stack_template, handler)
    dynamodb = _dynamodb(statements)
    state = [d for d in dynamodb if "StateTable" in d[2]]
    # Then the state table is reached only under the function's own pk prefixes
    assert all(leading is not None for _, leading, _ in state), "every state-table grant has a LeadingKeys condition"
    written = [leading for actions, leading, _ in state if "dynamodb:PutItem" in actions]
    read_only = [leading for actions, leading, _ in state if actions == {"dynamodb:GetItem"}]
    assert written == [writes]
    assert read_only == ([reads] if reads else [])
    # And no call is granted that no adapter makes
    granted = set().union(*(actions for actions, _, _ in dynamodb))
    assert not granted & {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem"}
    # And only Tollgate's own announcements may be put, as Tollgate
    puts = [s for s in statements if "events:PutEvents" in _as_list(s["Action"])]
    assert bool(puts) is announces
    for put in puts:
        assert put["Condition"]["StringEquals"]["events:source"] == "tollgate"
        assert put["Condition"]["StringEquals"]["events:detail-type"]
        assert "Operator Rollback Requested" not in put["Condition"]["StringEquals"]["events:detail-type"]
    # And Tollgate's key is used only through the services that encrypt with it, never to Encrypt/ReEncrypt
    kms = [s for s in statements if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    for statement in kms:
        assert not {"kms:Encrypt", "kms:ReEncrypt*"} & set(_as_list(statement["Action"]))
        assert "kms:ViaService" in statement["Condition"]["StringEquals"]
    # And no managed policy on * (the logs statement names the function's own log group)
    assert _managed_policies(stack_template, handler) == []
    logs = [s for s in statements if "logs:PutLogEvents" in _as_list(s["Action"])]
    assert len(logs) == 1 and logs[0]["Resource"] != "*"


def test_outputs_name_each_services_composite_alarm_for_the_lms_side(
    stack_template: Template, environment_config: EnvironmentConfig
) -> None:
    outputs = stack_template.find_outputs("*")
    values = {json.dumps(o["Value"]) for o in outputs.values()}
    for service in environment_config.lms.services:
        # The composite's name is a literal (alarm naming contract), or a Ref to the composite carrying it
        key = f"{service.title()}CompositeAlarmName"
        assert key in outputs, key
    assert values
