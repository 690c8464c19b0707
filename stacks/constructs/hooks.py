"""Deployment hooks: one function per CodeDeploy ECS lifecycle hook, named so CodeDeploy may invoke it."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, aws_iam, aws_secretsmanager, aws_ssm
from constructs import Construct

from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.core.tollgate_events import DetailType
from lambdas.hooks.naming import HOOK_HANDLER, hook_function_name, hook_parameter_name
from stacks.arns import deployment_group_arns
from stacks.constructs.after_shift import AfterShiftWatch
from stacks.constructs.function import Access, TollgateFunction
from stacks.constructs.shared import SharedResources

# Hooks record their own reports and only read approvals (CONTRACTS.md pk prefixes); they announce verdicts.
HOOK_ACCESS = Access(writes=("hook-report#",), reads=("approval#",), announces=(DetailType.HOOK_VERDICT,))

# Describe* of ELBv2 supports no resource-level permissions.
TRAFFIC_READ_ACTIONS = (
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
)


METRIC_GATE_REASON = (
    "cloudwatch:GetMetricData and elasticloadbalancing:DescribeLoadBalancers, DescribeListeners and DescribeRules "
    "support no resource-level permissions; the metric gate reads the ALB's listeners to find the target group of "
    "the new release, then that group's ALB metrics."
)


class DeploymentHooks(Construct):
    """For environments deployed by CodeDeploy: the five hook functions, their least-privilege grants, and the
    names/ARNs the pipeline needs (CfnOutputs and SSM parameters ``/tollgate/<env>/hooks/<Hook>``)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[Hook, TollgateFunction] = {}
        self.after_shift: AfterShiftWatch | None = None
        if config.deployment.strategy is Strategy.ROLLING:
            return  # rolling ECS updates run no CodeDeploy hooks
        deployment_groups = deployment_group_arns(self, config)
        synthetic_user = (
            aws_secretsmanager.Secret.from_secret_name_v2(self, "SyntheticUser", config.checks.synthetic_user_secret)
            if config.checks.synthetic_user_secret
            else None
        )
        for hook in Hook:
            if hook is Hook.BEFORE_ALLOW_TRAFFIC and config.deployment.strategy is Strategy.CANARY:
                continue  # the canary controller's starter is BeforeAllowTraffic (stacks/constructs/canary.py)
            per_service = config.checks.hooks.get(hook, {}).values()
            metric_gate = any(checks.metric_gate for checks in per_service)
            hook_function = TollgateFunction(
                self,
                hook.value,
                shared=shared,
                config=config,
                handler=HOOK_HANDLER,
                description=f"Tollgate {config.name}: CodeDeploy {hook.value} checks; always reports",
                timeout=Duration.seconds(config.checks.hook_timeout_seconds),
                function_name=hook_function_name(config.name, hook),
                environment={"TOLLGATE_HOOK": hook.value},
                access=HOOK_ACCESS,
                # Every hook runs the synthetic flows the config gives it (checks.hooks) against the LMS.
                calls_lms=True,
                wildcard_resources_reason=METRIC_GATE_REASON if metric_gate else None,
            )
            function = hook_function.function
            function.add_to_role_policy(
                aws_iam.PolicyStatement(
                    actions=["codedeploy:GetDeployment", "codedeploy:PutLifecycleEventHookExecutionStatus"],
                    resources=deployment_groups,
                )
            )
            if metric_gate:
                # GetMetricData supports no resource-level permissions.
                function.add_to_role_policy(
                    aws_iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"])
                )
                # Which target group carries the new release is read from the ALB's listeners each time.
                function.add_to_role_policy(
                    aws_iam.PolicyStatement(actions=list(TRAFFIC_READ_ACTIONS), resources=["*"])
                )
            flows = [config.checks.flows[name] for checks in per_service for name in checks.flows]
            if synthetic_user is not None and any(flow.uses_synthetic_user for flow in flows):
                synthetic_user.grant_read(function)
            CfnOutput(self, f"{hook.value}FunctionName", value=function.function_name)
            CfnOutput(self, f"{hook.value}FunctionArn", value=function.function_arn)
            aws_ssm.StringParameter(
                self,
                f"{hook.value}Parameter",
                parameter_name=hook_parameter_name(config.name, hook),
                string_value=function.function_arn,
                description=f"ARN of Tollgate's {hook.value} hook function for the {config.name} AppSpec",
            )
            self.functions[hook] = hook_function
            if hook is Hook.AFTER_ALLOW_TRAFFIC and any(checks.metric_gate for checks in per_service):
                # Judge the minutes after the shift, not before it: the watch waits them out durably.
                self.after_shift = AfterShiftWatch(self, "AfterShiftWatch", config=config, hook_function=function)
