"""Private ALBs (issue 10, decision 0065): with ``lms.network`` set, exactly the functions that call the LMS
over HTTP run in those subnets with those security groups, and their roles get only what Lambda's VPC
attachment needs; without it, no function is in a VPC."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from lambdas.core.config import EnvironmentConfig, Hook, load_environment, parse_environment
from lambdas.hooks.naming import HOOK_HANDLER, hook_function_name
from stacks.constructs.synthetics import SYNTHETICS_HANDLER
from stacks.tollgate_stack import TollgateStack

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0a1b2c3d4e5f60719"]
GROUPS = ["sg-0a1b2c3d4e5f60720"]
VPC = "vpc-0a1b2c3d4e5f60700"
# The handlers that send HTTP requests to the LMS (lambdas/hooks/http_client.py callers): the hooks, the
# canary's task (bake flows) and the synthetics. The canary starter, also a hook function, sends none.
CANARY_TASK_HANDLER = "lambdas.canary.handler.handler"
LMS_CALLER_HANDLERS = (HOOK_HANDLER, CANARY_TASK_HANDLER, SYNTHETICS_HANDLER)


def with_network(config: EnvironmentConfig, **network: Any) -> EnvironmentConfig:
    raw = config.model_dump(mode="json")
    raw["lms"]["network"] = {
        "vpc_id": VPC,
        "subnet_ids": SUBNETS,
        "security_group_ids": GROUPS,
        "availability_zones": [f"{config.region}a", f"{config.region}b"],
        **network,
    }
    return parse_environment(config.name, raw)


def synth(config: EnvironmentConfig) -> dict[str, Any]:
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(
        app, "PrivateAlbs", config=config, env=Environment(account=config.account, region=config.region)
    )
    resources: dict[str, Any] = Template.from_stack(stack).to_json()["Resources"]
    return resources


def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}


def lms_callers(config: EnvironmentConfig, resources: dict[str, Any]) -> set[str]:
    """The functions that send HTTP requests to the LMS, by handler."""
    return {k for k, props in functions(resources).items() if props["Handler"] in LMS_CALLER_HANDLERS}


def role_statements(resources: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resources.values()
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def ec2_statements(resources: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    def actions(statement: dict[str, Any]) -> list[str]:
        value = statement["Action"]
        return value if isinstance(value, list) else [value]

    return [s for s in role_statements(resources, function) if any(a.startswith("ec2:") for a in actions(s))]


def render(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else render(p) for p in parts)
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def test_the_lms_callers_run_in_exactly_the_configured_subnets_and_groups(
    environment_config: EnvironmentConfig,
) -> None:
    # Given an environment whose test listener is on an internal ALB, reached through lms.network
    config = with_network(environment_config)
    resources = synth(config)
    callers = lms_callers(config, resources)
    # Then every function calling the LMS has exactly those subnets and security groups
    assert callers, "every environment runs at least the synthetics against the LMS"
    for logical_id in callers:
        vpc_config = functions(resources)[logical_id].get("VpcConfig")
        assert vpc_config == {"SubnetIds": SUBNETS, "SecurityGroupIds": GROUPS}, logical_id
    # And no other function is in a VPC (nor may it create a network interface)
    for logical_id, props in functions(resources).items():
        if logical_id not in callers:
            assert "VpcConfig" not in props, logical_id
            assert ec2_statements(resources, props) == [], logical_id


def test_hooks_and_canary_task_are_the_callers_in_codedeploy_environments() -> None:
    # Production (canary): four hook functions plus the canary task and synthetics; the starter stays out
    config = with_network(load_environment("production"))
    resources = synth(config)
    callers = lms_callers(config, resources)
    handlers = sorted(functions(resources)[c]["Handler"] for c in callers)
    assert handlers == sorted([HOOK_HANDLER] * 4 + [CANARY_TASK_HANDLER, SYNTHETICS_HANDLER])
    starter = next(
        p
        for p in functions(resources).values()
        if p.get("FunctionName") == hook_function_name("production", Hook.BEFORE_ALLOW_TRAFFIC)
    )
    assert "VpcConfig" not in starter
    # Staging (blue/green): all five hooks run in the subnets
    staging = with_network(load_environment("staging"))
    staged = synth(staging)
    hooks = [c for c in lms_callers(staging, staged) if functions(staged)[c]["Handler"] == HOOK_HANDLER]
    assert len(hooks) == 5
    assert all("VpcConfig" in functions(staged)[c] for c in hooks)


def test_the_role_gets_only_what_lambdas_vpc_attachment_needs(environment_config: EnvironmentConfig) -> None:
    config = with_network(environment_config)
    resources = synth(config)
    prefix = f"arn:aws:ec2:{config.region}:{config.account}"
    interfaces = f"{prefix}:network-interface/*"
    for logical_id in lms_callers(config, resources):
        statements = ec2_statements(resources, functions(resources)[logical_id])
        granted = {
            (tuple(sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])),
             tuple(sorted(render(s["Resource"]) if isinstance(s["Resource"], list) else [render(s["Resource"])])))
            for s in statements
        }  # fmt: skip
        assert granted == {
            (
                ("ec2:CreateNetworkInterface",),
                tuple(sorted([interfaces, *(f"{prefix}:subnet/{s}" for s in SUBNETS),
                              *(f"{prefix}:security-group/{g}" for g in GROUPS)])),
            ),
            (("ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"),
             (interfaces,)),
            (("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"), ("*",)),
        }, logical_id  # fmt: skip
        assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    # And no role carries AWS's managed VPC policy (nor any managed policy)
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in resource["Properties"]


def test_without_a_network_no_function_is_in_a_vpc(environment_config: EnvironmentConfig) -> None:
    assert environment_config.lms.network is None
    resources = synth(environment_config)
    for logical_id, props in functions(resources).items():
        assert "VpcConfig" not in props, logical_id
        assert ec2_statements(resources, props) == [], logical_id


@pytest.mark.parametrize("name", ["development", "staging", "production"])
def test_shipped_configs_keep_the_functions_out_of_any_vpc(name: str) -> None:
    # Decision 0065: the shipped configs do not name subnets (the LMS's VPC ids are the LMS team's to give).
    assert load_environment(name).lms.network is None


def test_a_wildcard_acknowledgment_gives_every_reason_once() -> None:
    # Given staging with a network: AfterAllowTraffic has a metric gate (GetMetricData on *) and the VPC's Describe
    config = with_network(load_environment("staging"))
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(app, "Acks", config=config, env=Environment(account=config.account, region=config.region))
    gated = stack.node.find_child("DeploymentHooks").node.find_child("AfterAllowTraffic")
    acknowledged = [
        entry.data["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]
        for construct in gated.node.find_all()  # itself and every descendant
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules" and "AwsSolutions::AwsSolutions-IAM5[Resource::*]" in entry.data
    ]
    # Then one acknowledgment, naming both reasons
    (reason,) = acknowledged
    assert "cloudwatch:GetMetricData" in reason
    assert "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets" in reason
