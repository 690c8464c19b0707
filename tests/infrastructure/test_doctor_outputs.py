"""The stack's outputs carry what the LMS side needs, under the names `tollgate doctor` checks for."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.hooks.naming import hook_function_name
from stacks.tollgate_stack import TollgateStack
from tollgate.doctor.judge import composite_alarm_name, uses_codedeploy


@pytest.fixture
def template_json(environment_config: EnvironmentConfig) -> dict[str, Any]:
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(
        app, "Outputs", config=environment_config,
        env=Environment(account=environment_config.account, region=environment_config.region),
    )  # fmt: skip
    return Template.from_stack(stack).to_json()


def _value(template: dict[str, Any], output: dict[str, Any], attribute: str) -> Any:
    """An output's literal value, or the named property of the resource it references."""
    value = output["Value"]
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template["Resources"][value["Ref"]]["Properties"][attribute]
    return value


def _outputs_ending(template: dict[str, Any], suffix: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Outputs"].items() if k.endswith(suffix)}


def test_outputs_name_each_services_composite_alarm_as_the_doctor_expects_it(
    template_json: dict[str, Any], environment_config: EnvironmentConfig
) -> None:
    outputs = _outputs_ending(template_json, "CompositeAlarmName")
    names = {_value(template_json, o, "AlarmName") for o in outputs.values()}
    assert names == {composite_alarm_name(environment_config, s) for s in environment_config.lms.services}


def test_outputs_name_every_hook_function_the_appspec_names_under_stable_keys(
    template_json: dict[str, Any], environment_config: EnvironmentConfig
) -> None:
    outputs = template_json["Outputs"]
    functions = {
        r["Properties"].get("FunctionName")
        for r in template_json["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    if not uses_codedeploy(environment_config):
        assert not [k for k in outputs if k.endswith("HookFunctionName")]
        return
    for hook in Hook:
        # Then `<Hook>HookFunctionName` names the function the AppSpec names, and the stack has that function
        # (production's BeforeAllowTraffic is the canary starter)
        name = outputs[f"{hook.value}HookFunctionName"]["Value"]
        assert name == hook_function_name(environment_config.name, hook)
        assert name in functions
