"""The canary controller: a Step Functions Standard state machine (decision 0010), its task function, the
operator-request function and the BeforeAllowTraffic starter (canary environments only).

approval wait (when required) -> for each partial step: shift -> (wait a poll -> bake check)* -> analyse ->
decide -> ... -> succeed (remove Tollgate's rule, report Succeeded). Every task's Catch, every failed
step and every abort lead into one failure task (remove the rule = 100% blue, report Failed), so every
path reports the hook exactly once; CodeDeploy answers a repeated report with
LifecycleEventAlreadyCompletedException, which the report treats as done.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack, aws_events, aws_iam, aws_logs, aws_ssm
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambdas.canary.controller import ABORTED_ERROR, APPROVAL_TIMED_OUT_ERROR, STEP_FAILED_ERROR
from lambdas.canary.domain import partial_steps
from lambdas.canary.wiring import STATE_MACHINE_VARIABLE
from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType
from lambdas.hooks.naming import hook_function_name, hook_parameter_name
from stacks.arns import arn, deployment_group_arns
from stacks.constructs.function import Access, TollgateFunction, add_rule, retention_days
from stacks.constructs.shared import SharedResources
from stacks.nag import acknowledge

# Synth-time knob (cdk context): divide every wait of the state machine by this, for the simulator and
# tests on the embedded AWS. The config's values, validated against the hook limit, stay what ships.
TIME_SCALE_CONTEXT = "tollgate:canary-time-scale"
ANALYSIS_PERIOD_SECONDS = 60  # ALB metrics arrive in one-minute periods
# ALB publishes its metrics every 60 seconds
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
# the newest minute of a bake is left out of its analysis until it has had that long to arrive.
REPORTING_DELAY_SECONDS = 60
ELB_DESCRIBE = (
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
)
FAILED_STEP = STEP_FAILED_ERROR
ABORTED = ABORTED_ERROR
APPROVAL_TIMED_OUT = APPROVAL_TIMED_OUT_ERROR
# The task keeps the canary's progress (canary#) and the approval wait's token (approval#), and reads the
# approval decision the request function records; each function announces only its own detail types.
TASK_ACCESS = Access(
    writes=("canary#", "approval#"),
    announces=(
        DetailType.APPROVAL_NEEDED,
        DetailType.APPROVAL_TIMED_OUT,
        DetailType.APPROVAL_REJECTED,
        DetailType.CANARY_STARTED,
        DetailType.CANARY_PROMOTED,
        DetailType.CANARY_STEP_PASSED,
        DetailType.CANARY_STEP_FAILED,
        DetailType.CANARY_ABORTED,
        DetailType.HOOK_VERDICT,
    ),
)
REQUEST_ACCESS = Access(
    writes=("canary#", "approval#"),
    announces=(
        DetailType.APPROVAL_REFUSED,
        DetailType.APPROVAL_GIVEN,
        DetailType.APPROVAL_REJECTED,
        DetailType.CANARY_ABORTED,
    ),
)


def state_machine_name(environment: str) -> str:
    return f"tollgate-{environment}-canary"


class CanaryController(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedResources,
        config: EnvironmentConfig,
    ) -> None:
        """In a canary environment the BeforeAllowTraffic hook function is the canary's starter (DeploymentHooks
        builds the other four)."""
        super().__init__(scope, construct_id)
        self.starter: TollgateFunction | None = None
        self.state_machine: sfn.StateMachine | None = None
        if config.deployment.strategy is not Strategy.CANARY:
            return
        scale = max(1, int(self.node.try_get_context(TIME_SCALE_CONTEXT) or 1))
        self._config = config
        self._scale = scale
        machine_arn = arn(self, "states", "stateMachine", state_machine_name(config.name))
        deployment_groups = deployment_group_arns(self, config)
        load_balancer = config.lms.load_balancer  # app/<name>/<id>
        listener_arn = arn(self, "elasticloadbalancing", "listener", f"{load_balancer}/*", colon=False)
        listener_rules_arn = arn(self, "elasticloadbalancing", "listener-rule", f"{load_balancer}/*/*", colon=False)
        timeout = Duration.seconds(config.checks.hook_timeout_seconds)
        common: dict[str, Any] = {
            "shared": shared,
            "config": config,
            "timeout": timeout,
            "environment": {STATE_MACHINE_VARIABLE: machine_arn},
        }
        self.task_function = TollgateFunction(
            self,
            "Task",
            handler="lambdas.canary.handler.handler",
            description=f"Tollgate {config.name}: one task of the canary state machine",
            access=TASK_ACCESS,
            # The bake runs the production synthetic flows against the LMS (lambdas/canary/adapters/flows.py).
            calls_lms=True,
            wildcard_resources_reason="elasticloadbalancing Describe* and cloudwatch:GetMetricData support no "
            "resource-level permissions; the canary reads the LMS listener's rules and its two target groups' "
            "metrics.",
            **common,
        )
        self.request_function = TollgateFunction(
            self,
            "Requests",
            handler="lambdas.canary.request_handler.handler",
            description=f"Tollgate {config.name}: approve/reject and canary promote/abort requests",
            access=REQUEST_ACCESS,
            **common,
        )
        task = self.task_function.function
        task.add_to_role_policy(
            aws_iam.PolicyStatement(actions=["elasticloadbalancing:CreateRule"], resources=[listener_arn])
        )
        task.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["elasticloadbalancing:ModifyRule", "elasticloadbalancing:DeleteRule"],
                resources=[listener_rules_arn],
            )
        )
        task.add_to_role_policy(
            aws_iam.PolicyStatement(actions=[*ELB_DESCRIBE, "cloudwatch:GetMetricData"], resources=["*"])
        )
        codedeploy_report = aws_iam.PolicyStatement(
            actions=["codedeploy:GetDeployment", "codedeploy:PutLifecycleEventHookExecutionStatus"],
            resources=deployment_groups,
        )
        task.add_to_role_policy(codedeploy_report)
        for function in (task, self.request_function.function):
            function.add_to_role_policy(
                aws_iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"], resources=[machine_arn]
                )
            )
        acknowledge(
            self.task_function,
            f"AwsSolutions-IAM5[Resource::arn:aws:elasticloadbalancing:{config.region}:"
            f"{config.account}:listener/{load_balancer}/*]",
            "CreateRule on the LMS load balancer's listeners only: the listener id is the LMS's, not known "
            "at synth; the rule Tollgate adds is its temporary canary split.",
        )
        acknowledge(
            self.task_function,
            f"AwsSolutions-IAM5[Resource::arn:aws:elasticloadbalancing:{config.region}:"
            f"{config.account}:listener-rule/{load_balancer}/*/*]",
            "ModifyRule/DeleteRule on rules of the LMS load balancer only (rule ids are created at run "
            "time by the canary itself).",
        )
        self.state_machine = self._state_machine(task)
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        self._starter(common, machine=self.state_machine, codedeploy_report=codedeploy_report)
        add_rule(
            self,
            "RequestRule",
            target=self.request_function,
            shared=shared,
            event_bus=shared.event_bus,
            description=f"Tollgate {config.name}: operator requests to the canary controller",
            pattern=aws_events.EventPattern(
                source=[TOLLGATE_SOURCE],
                detail_type=[
                    DetailType.APPROVE_REQUESTED.value,
                    DetailType.REJECT_REQUESTED.value,
                    DetailType.CANARY_PROMOTE_REQUESTED.value,
                    DetailType.CANARY_ABORT_REQUESTED.value,
                ],
            ),
        )

    def _starter(
        self, common: dict[str, Any], *, machine: sfn.StateMachine, codedeploy_report: aws_iam.PolicyStatement
    ) -> None:
        """BeforeAllowTraffic as the canary's starter, under the hook's name (CodeDeploy invokes CodeDeployHook_*).

        It names the state machine by Ref (the machine does not invoke it, so there is no cycle); the task and
        request functions, which the machine invokes, carry the ARN built from its name."""
        config = self._config
        machine_arn = machine.state_machine_arn
        self.starter = TollgateFunction(
            self,
            Hook.BEFORE_ALLOW_TRAFFIC.value,
            handler="lambdas.canary.start_handler.handler",
            function_name=hook_function_name(config.name, Hook.BEFORE_ALLOW_TRAFFIC),
            description=f"Tollgate {config.name}: BeforeAllowTraffic starts the canary execution",
            **{**common, "environment": {STATE_MACHINE_VARIABLE: machine_arn}},
        )
        self.starter.function.add_to_role_policy(codedeploy_report)
        machine.grant_start_execution(self.starter.function)
        self.starter.function.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[arn(self, "states", "execution", f"{state_machine_name(config.name)}:*")],
            )
        )
        acknowledge(
            self.starter,
            f"AwsSolutions-IAM5[Resource::arn:aws:states:"
            f"{config.region}:{config.account}:execution:{state_machine_name(config.name)}:*]",
            "DescribeExecution on executions of the canary state machine only; execution names are "
            "deployment ids known at run time.",
        )
        starter = self.starter.function
        hook = Hook.BEFORE_ALLOW_TRAFFIC.value
        CfnOutput(self, f"{hook}FunctionName", value=starter.function_name)
        CfnOutput(self, f"{hook}FunctionArn", value=starter.function_arn)
        aws_ssm.StringParameter(
            self,
            f"{hook}Parameter",
            parameter_name=hook_parameter_name(config.name, Hook.BEFORE_ALLOW_TRAFFIC),
            string_value=starter.function_arn,
            description=f"ARN of Tollgate's {hook} hook function (the canary starter) for the {config.name} AppSpec",
        )

    # -- the state machine ----------------------------------------------------------------------------------

    def _seconds(self, value: int) -> int:
        return max(1, value // self._scale)

    def _invoke(self, name: str, task: Any, action: str, *, retry: bool = True, **extra: Any) -> tasks.LambdaInvoke:
        payload = {
            "action": action,
            "deployment_id": sfn.JsonPath.string_at("$.deployment_id"),
            "hook_execution_id": sfn.JsonPath.string_at("$.hook_execution_id"),
            "service": sfn.JsonPath.string_at("$.service"),
            **extra,
        }
        invoke = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=task,
            payload=sfn.TaskInput.from_object(payload),
            result_selector={"outcome.$": "$.Payload.outcome", "reason.$": "$.Payload.reason"},
            result_path="$.result",
            retry_on_service_exceptions=False,
        )
        if retry:
            invoke.add_retry(
                errors=[
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException",
                    "States.TaskFailed",
                ],
                interval=Duration.seconds(2),
                max_attempts=2,
                backoff_rate=2,
            )
        return invoke

    def _state_machine(self, task: Any) -> sfn.StateMachine:
        config = self._config
        deployment = config.deployment
        failure = self._invoke("ReportFailed", task, "fail", retry=False, error=sfn.JsonPath.object_at("$.error"))
        failure.add_retry(errors=["States.ALL"], interval=Duration.seconds(5), max_attempts=6, backoff_rate=2)
        failure.add_catch(
            sfn.Fail(
                self,
                "CouldNotReport",
                error="Tollgate.ReportFailed",
                cause="the hook could not be reported; CodeDeploy fails it at its limit",
            ),
            result_path="$.report_error",
        )
        failure.next(
            sfn.Fail(
                self,
                "CanaryFailed",
                error="Tollgate.CanaryFailed",
                cause="100% blue restored and the hook reported Failed",
            )
        )

        def catch(state: Any) -> None:
            state.add_catch(failure, errors=["States.ALL"], result_path="$.error")

        def fail_with(name: str, error: str) -> sfn.IChainable:
            return sfn.Pass(self, name, result=sfn.Result.from_object({"Error": error}), result_path="$.error").next(
                failure
            )

        succeed = self._invoke("ReportSucceeded", task, "succeed")
        catch(succeed)
        succeed.next(sfn.Succeed(self, "CanaryPassed"))
        next_state: sfn.IChainable = succeed
        bake = self._seconds(deployment.bake_seconds)
        extension = (
            min(bake, self._seconds(deployment.max_bake_extension_seconds))
            if deployment.max_bake_extension_seconds
            else 0
        )
        step_args: dict[str, Any] = {
            "bake_seconds": bake,
            "max_extension_seconds": self._seconds(deployment.max_bake_extension_seconds)
            if deployment.max_bake_extension_seconds
            else 0,
            "extension_seconds": extension,
            "period_seconds": self._seconds(ANALYSIS_PERIOD_SECONDS),
            "reporting_delay_seconds": self._seconds(REPORTING_DELAY_SECONDS),
        }
        for step in reversed(partial_steps(deployment)):
            args: dict[str, Any] = {"step_percent": step, **step_args}
            shift = self._invoke(f"Shift{step}", task, "shift", **args)
            wait = sfn.Wait(
                self,
                f"Bake{step}",
                time=sfn.WaitTime.duration(Duration.seconds(self._seconds(deployment.bake_poll_seconds))),
            )
            check = self._invoke(f"BakeCheck{step}", task, "bake", **args)
            analyse = self._invoke(f"Analyse{step}", task, "analyse", **args)
            for state in (shift, check, analyse):
                catch(state)
            decide = sfn.Choice(self, f"Decide{step}")
            decide.when(sfn.Condition.string_equals("$.result.outcome", "passed"), next_state)
            decide.when(sfn.Condition.string_equals("$.result.outcome", "extend"), wait)
            decide.otherwise(fail_with(f"Step{step}Failed", FAILED_STEP))
            baked = sfn.Choice(self, f"Baked{step}")
            baked.when(sfn.Condition.string_equals("$.result.outcome", "baking"), wait)
            baked.when(sfn.Condition.string_equals("$.result.outcome", "aborted"), fail_with(f"Aborted{step}", ABORTED))
            baked.otherwise(analyse)
            analyse.next(decide)
            check.next(baked)
            wait.next(check)
            shift.next(wait)
            next_state = shift
        start: sfn.IChainable = next_state
        if deployment.requires_approval:
            approval = tasks.LambdaInvoke(
                self,
                "AwaitApproval",
                lambda_function=task,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                payload=sfn.TaskInput.from_object(
                    {
                        "action": "await_approval",
                        "task_token": sfn.JsonPath.task_token,
                        "deployment_id": sfn.JsonPath.string_at("$.deployment_id"),
                        "hook_execution_id": sfn.JsonPath.string_at("$.hook_execution_id"),
                        "service": sfn.JsonPath.string_at("$.service"),
                    }
                ),
                task_timeout=sfn.Timeout.duration(Duration.seconds(self._seconds(deployment.approval_timeout_seconds))),
                result_path="$.approval",
            )
            approval.add_catch(
                fail_with("ApprovalTimedOut", APPROVAL_TIMED_OUT), errors=["States.Timeout"], result_path="$.error"
            )
            catch(approval)
            approval.next(next_state)
            start = approval
        logs = aws_logs.LogGroup(
            self, "Logs", retention=retention_days(config.log_retention_days), removal_policy=RemovalPolicy.DESTROY
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(config.name),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(start),
            logs=sfn.LogOptions(destination=logs, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            comment=f"Tollgate {config.name}: canary of one LMS deployment (decision 0010)",
        )
        task_logical_id = Stack.of(self).resolve(task.function_arn)["Fn::GetAtt"][0]
        acknowledge(
            machine,
            f"AwsSolutions-IAM5[Resource::<{task_logical_id}.Arn>:*]",
            "CDK's LambdaInvoke grant: InvokeFunction on the canary task function and its versions only.",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray actions (logs:CreateLogDelivery..., xray:Put*) support "
            "no resource-level permissions; CDK adds them for the state machine's logging and tracing.",
        )
        return machine
