"""Operator requests on Tollgate's bus are the operators' alone: an explicit Deny for everyone else (decision 0063)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from lambdas.core.config import ConfigError, EnvironmentConfig, load_environment, parse_environment
from lambdas.core.tollgate_events import DetailType
from stacks.constructs.shared import OPERATOR_REQUEST_TYPES, SharedFoundation


def _bus_statements(config: EnvironmentConfig) -> list[dict[str, Any]]:
    app = App(builtin_cloud_formation_validation=False)
    stack = Stack(app, "Bus", env=Environment(account=config.account, region=config.region))
    SharedFoundation(stack, "Shared", config=config)
    policies = Template.from_stack(stack).find_resources("AWS::Events::EventBusPolicy")
    return [p["Properties"]["Statement"] for p in policies.values()]


def _raw(name: str) -> dict[str, Any]:
    return json.loads(load_environment(name).model_dump_json(by_alias=True, exclude_none=True))


def test_only_the_operator_role_may_put_operator_requests(environment_config: EnvironmentConfig) -> None:
    # Given the bus policy of an environment with the default operators
    (statement,) = _bus_statements(environment_config)
    # Then it is an explicit Deny of PutEvents on Tollgate's bus, for everyone...
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"]["Fn::GetAtt"][1] == "Arn"
    # ...of exactly the operator-request detail types (one among several entries is enough)...
    conditions = statement["Condition"]
    assert conditions["ForAnyValue:StringEquals"]["events:detail-type"] == sorted(
        [
            "Operator Rollback Requested",
            "Approve Requested",
            "Reject Requested",
            "Canary Promote Requested",
            "Canary Abort Requested",
        ]
    )
    # ...unless the caller is the environment's operator role
    assert conditions["ArnNotLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{environment_config.account}:role/tollgate-{environment_config.name}-operator"
    ]


def test_no_allow_on_the_bus_since_a_same_account_allow_restricts_nothing(
    environment_config: EnvironmentConfig,
) -> None:
    assert all(s["Effect"] == "Deny" for s in _bus_statements(environment_config))


def test_every_request_detail_type_is_covered() -> None:
    # A new "... Requested" type that makes Tollgate act must join the deny (the joined-alarm type is no request)
    requests = {d.value for d in DetailType if d.value.endswith(" Requested")}
    assert requests == set(OPERATOR_REQUEST_TYPES)


def test_configured_operators_are_the_ones_exempted() -> None:
    raw = _raw("production")
    roles = ["arn:aws:iam::333333333333:role/lms-release-managers", "arn:aws:iam::333333333333:role/oncall-*"]
    raw["operators"] = {"principal_arns": roles}
    (statement,) = _bus_statements(parse_environment("production", raw))
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == roles


@pytest.mark.parametrize(
    ("principals", "message"),
    [
        (["arn:aws:iam::999999999999:role/ops"], r"environment 'production'.*operators\.principal_arns.*999999999999"),
        (["ops"], r"environment 'production'.*operators\.principal_arns"),
        (["arn:aws:sts::333333333333:assumed-role/ops/me"], r"environment 'production'.*operators\.principal_arns"),
        ([], r"environment 'production'.*operators\.principal_arns"),
    ],
)
def test_operators_that_cannot_be_exempted_fail_synth_naming_environment_and_field(
    principals: list[str], message: str
) -> None:
    raw = _raw("production")
    raw["operators"] = {"principal_arns": principals}
    with pytest.raises(ConfigError, match=message):
        parse_environment("production", raw)
