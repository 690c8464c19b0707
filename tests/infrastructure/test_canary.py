"""The canary controller construct: a Standard state machine in canary environments, least privilege."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.hooks.naming import hook_function_name
from stacks.constructs.canary import CanaryController, state_machine_name
from stacks.constructs.shared import SharedResources


def _statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_state_machine_only_in_canary_environments(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Given an environment; When the construct is built
    CanaryController(bare_stack, "Canary", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)
    if environment_config.deployment.strategy is not Strategy.CANARY:
        template.resource_count_is("AWS::StepFunctions::StateMachine", 0)
        return
    # Then one Standard state machine, logged and traced, named for the environment
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": state_machine_name(environment_config.name),
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
        },
    )
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    text = json.dumps(machine["Properties"]["DefinitionString"])
    # with the approval wait on a task token and a deadline, and a bake per partial step
    assert "waitForTaskToken" in text
    assert f'\\"TimeoutSeconds\\":{environment_config.deployment.approval_timeout_seconds}' in text
    for step in (10, 50):
        assert f"Shift{step}" in text and f"Analyse{step}" in text
    # And operator requests on Tollgate's bus reach the request function
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["tollgate"],
                "detail-type": [
                    "Approve Requested",
                    "Reject Requested",
                    "Canary Promote Requested",
                    "Canary Abort Requested",
                ],
            }
        },
    )


def test_listener_and_task_token_permissions_are_scoped(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    CanaryController(bare_stack, "Canary", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)
    if environment_config.deployment.strategy is not Strategy.CANARY:
        return
    (machine_id,) = template.find_resources("AWS::StepFunctions::StateMachine")
    statements = _statements(template)
    load_balancer = environment_config.lms.load_balancer
    for statement in statements:
        actions = _actions(statement)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        rendered = json.dumps(resources)
        if any(a in actions for a in ("elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule")):
            assert rendered.count(f"listener-rule/{load_balancer}/") == len(resources) == 1
        if "elasticloadbalancing:CreateRule" in actions:
            assert rendered.count(f"listener/{load_balancer}/") == len(resources) == 1
        if actions == ["states:StartExecution"]:  # the starter names the machine by Ref (CDK's grant)
            assert resources == [{"Ref": machine_id}], statement
        elif any(a.startswith("states:Send") for a in actions):
            assert resources and all(
                f"stateMachine:{state_machine_name(environment_config.name)}" in json.dumps(r) for r in resources
            ), statement
        assert "elasticloadbalancing:ModifyListener" not in actions
        assert not (
            "*" in resources
            and any(
                a.startswith(
                    (
                        "states:",
                        "codedeploy:",
                        "elasticloadbalancing:Modify",
                        "elasticloadbalancing:Delete",
                        "elasticloadbalancing:Create",
                    )
                )
                for a in actions
            )
        ), statement
    # And the starter carries the hook's name, so AWSCodeDeployRoleForECS may invoke it
    names = [f["Properties"].get("FunctionName") for f in template.find_resources("AWS::Lambda::Function").values()]
    assert hook_function_name(environment_config.name, Hook.BEFORE_ALLOW_TRAFFIC) in names


def test_bakes_compress_with_the_synth_time_knob() -> None:
    from lambdas.core.config import load_environment  # noqa: PLC0415
    from tests.unit.canary.conftest import synthesized_definition  # noqa: PLC0415

    config = load_environment("production")
    production_definition = synthesized_definition(config)
    compressed = synthesized_definition(config, time_scale=30)
    assert production_definition["States"]["Bake10"]["Seconds"] == config.deployment.bake_poll_seconds
    assert compressed["States"]["Bake10"]["Seconds"] == max(1, config.deployment.bake_poll_seconds // 30)
    assert compressed["States"]["AwaitApproval"]["TimeoutSeconds"] == config.deployment.approval_timeout_seconds // 30
