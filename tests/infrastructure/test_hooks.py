"""The deployment hooks construct on a bare stack, per environment."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.hooks.naming import hook_function_name, hook_parameter_name
from stacks.constructs.hooks import DeploymentHooks
from stacks.constructs.shared import SharedResources


def _hook_functions(template: Template) -> dict[str, Any]:
    functions = template.find_resources("AWS::Lambda::Function")
    return {
        props["Properties"]["FunctionName"]: props["Properties"]
        for props in functions.values()
        if str(props["Properties"].get("FunctionName", "")).startswith("CodeDeployHook_")
    }


def _hooks_built(config: EnvironmentConfig) -> list[Hook]:
    """Every hook, but in a canary environment BeforeAllowTraffic is the canary's starter (test_canary.py)."""
    starter = config.deployment.strategy is Strategy.CANARY
    return [hook for hook in Hook if not (starter and hook is Hook.BEFORE_ALLOW_TRAFFIC)]


def test_one_function_per_hook_only_where_codedeploy_deploys(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Given an environment's config
    # When the construct is built
    DeploymentHooks(bare_stack, "Hooks", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)

    # Then CodeDeploy environments get one CodeDeployHook_ function per hook, with its hook in TOLLGATE_HOOK
    functions = _hook_functions(template)
    if environment_config.deployment.strategy is Strategy.ROLLING:
        assert functions == {}
        template.resource_count_is("AWS::SSM::Parameter", 0)
        return
    hooks = _hooks_built(environment_config)
    assert sorted(functions) == sorted(hook_function_name(environment_config.name, hook) for hook in hooks)
    for hook in hooks:
        properties = functions[hook_function_name(environment_config.name, hook)]
        assert properties["Handler"] == "lambdas.hooks.handler.handler"
        assert properties["Environment"]["Variables"]["TOLLGATE_HOOK"] == hook.value
        assert properties["Timeout"] == environment_config.checks.hook_timeout_seconds
        template.has_resource_properties(
            "AWS::SSM::Parameter", {"Name": hook_parameter_name(environment_config.name, hook)}
        )
    template.resource_count_is("AWS::SSM::Parameter", len(hooks))
    outputs = template.find_outputs("*")
    assert len(outputs) == 2 * len(hooks)
    assert all(any(hook.value in key for key in outputs) for hook in hooks)


def test_hooks_may_report_only_to_their_own_deployment_groups(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Given a CodeDeploy environment
    DeploymentHooks(bare_stack, "Hooks", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)
    if environment_config.deployment.strategy is Strategy.ROLLING:
        template.resource_count_is("AWS::IAM::Policy", 0)
        return

    # Then the CodeDeploy statement names the environment's deployment groups, not "*"
    policies = template.find_resources(
        "AWS::IAM::Policy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": [
                                        "codedeploy:GetDeployment",
                                        "codedeploy:PutLifecycleEventHookExecutionStatus",
                                    ]
                                }
                            )
                        ]
                    )
                }
            }
        },
    )
    assert len(policies) == len(_hooks_built(environment_config))
    rendered = str(policies)
    for service in environment_config.lms.services.values():
        assert f"deploymentgroup:{environment_config.lms.codedeploy_application}/{service.deployment_group}" in rendered
    # And only the hooks with a metric gate may read metrics
    metric_readers = template.find_resources(
        "AWS::IAM::Policy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with([Match.object_like({"Action": "cloudwatch:GetMetricData"})])
                }
            }
        },
    )
    gated = [
        hook for hook in Hook if any(c.metric_gate for c in environment_config.checks.hooks.get(hook, {}).values())
    ]
    assert len(metric_readers) == len(gated)


def test_metric_gated_hooks_may_read_the_albs_routing(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Given an environment's hooks
    DeploymentHooks(bare_stack, "Hooks", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)

    # Then exactly the hooks with a metric gate may describe the ALB's load balancers, listeners and rules
    # (Describe* has no resource-level permissions, so on "*")
    readers = template.find_resources(
        "AWS::IAM::Policy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": [
                                        "elasticloadbalancing:DescribeLoadBalancers",
                                        "elasticloadbalancing:DescribeListeners",
                                        "elasticloadbalancing:DescribeRules",
                                    ],
                                    "Effect": "Allow",
                                    "Resource": "*",
                                }
                            )
                        ]
                    )
                }
            }
        },
    )
    gated = [
        hook for hook in Hook if any(c.metric_gate for c in environment_config.checks.hooks.get(hook, {}).values())
    ]
    assert len(readers) == len(gated)
    if environment_config.deployment.strategy is not Strategy.ROLLING:
        assert gated, "a blue/green environment without a metric gate would not test this grant"
    # And no hook may change the ALB
    assert "elasticloadbalancing:Modify" not in str(template.find_resources("AWS::IAM::Policy"))


def test_after_allow_traffic_with_a_metric_gate_is_judged_after_the_shift_by_a_watch(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    hooks = DeploymentHooks(bare_stack, "Hooks", shared=shared_resources, config=environment_config)
    template = Template.from_stack(bare_stack)
    gated = any(c.metric_gate for c in environment_config.checks.hooks.get(Hook.AFTER_ALLOW_TRAFFIC, {}).values())
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    if environment_config.deployment.strategy is Strategy.ROLLING or not gated:
        assert machines == {} and hooks.after_shift is None
        return
    # Then one Standard machine waits the evaluation window and invokes the AfterAllowTraffic function
    (machine,) = machines.values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    window = environment_config.thresholds.evaluation_window_minutes * 60
    assert f'\\"Seconds\\":{window}' in definition
    function = hooks.functions[Hook.AFTER_ALLOW_TRAFFIC].function
    function_id = bare_stack.resolve(function.function_arn)["Fn::GetAtt"][0]
    assert function_id in definition and "ShiftedAt" in definition
    # And the hook function names it, and may start only it
    name = f"tollgate-{environment_config.name}-after-shift"
    variables = template.find_resources("AWS::Lambda::Function")[function_id]["Properties"]["Environment"]["Variables"]
    assert name in json.dumps(variables["TOLLGATE_AFTER_SHIFT_STATE_MACHINE_ARN"])
    starts = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "states:StartExecution" in json.dumps(statement["Action"])
    ]
    assert len(starts) == 1 and f"stateMachine:{name}" in json.dumps(starts[0]["Resource"])
