"""The post-shift watch: AfterAllowTraffic's metric gate judges the minutes after CodeDeploy's AllowTraffic.

A Lambda function cannot wait out a five-minute window (nor should it sleep): the AfterAllowTraffic hook starts
one Standard execution per deployment that waits ``thresholds.evaluation_window_minutes`` and then invokes the
hook function again with ``ShiftedAt``; that invocation runs the checks over [ShiftedAt, now] and reports
(docs/decisions/0011). The wait is divided by the local time scale for the embedded AWS, like the canary's.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, aws_iam, aws_lambda, aws_logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from stacks.arns import arn
from stacks.constructs.canary import TIME_SCALE_CONTEXT
from stacks.constructs.function import retention_days
from stacks.nag import acknowledge

STATE_MACHINE_VARIABLE = "TOLLGATE_AFTER_SHIFT_STATE_MACHINE_ARN"


def after_shift_state_machine_name(environment: str) -> str:
    return f"tollgate-{environment}-after-shift"


class AfterShiftWatch(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, hook_function: aws_lambda.Function
    ) -> None:
        super().__init__(scope, construct_id)
        scale = max(1, int(self.node.try_get_context(TIME_SCALE_CONTEXT) or 1))
        name = after_shift_state_machine_name(config.name)
        window = max(1, config.thresholds.evaluation_window_minutes * 60 // scale)
        wait = sfn.Wait(self, "EvaluationWindow", time=sfn.WaitTime.duration(Duration.seconds(window)))
        check = tasks.LambdaInvoke(
            self,
            "CheckAndReport",
            lambda_function=hook_function,
            payload=sfn.TaskInput.from_object(
                {
                    "DeploymentId": sfn.JsonPath.string_at("$.DeploymentId"),
                    "LifecycleEventHookExecutionId": sfn.JsonPath.string_at("$.LifecycleEventHookExecutionId"),
                    "ShiftedAt": sfn.JsonPath.string_at("$.ShiftedAt"),
                }
            ),
            retry_on_service_exceptions=True,
            result_path="$.report",
        )
        # The hook function reports whatever its checks find; only an invocation that keeps failing ends here,
        # and CodeDeploy then fails the hook at its limit (the deployment rolls back).
        check.add_catch(
            sfn.Fail(self, "CouldNotReport", error="Tollgate.ReportFailed", cause="AfterAllowTraffic did not report"),
            result_path="$.error",
        )
        logs = aws_logs.LogGroup(
            self, "Logs", retention=retention_days(config.log_retention_days), removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(wait.next(check)),
            logs=sfn.LogOptions(destination=logs, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
            comment=f"Tollgate {config.name}: AfterAllowTraffic judged after the shift (decision 0011)",
        )
        # The machine invokes the function, so the function names the machine by its ARN (no Ref: no cycle).
        machine_arn = arn(self, "states", "stateMachine", name)
        hook_function.add_environment(STATE_MACHINE_VARIABLE, machine_arn)
        hook_function.add_to_role_policy(
            aws_iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine_arn])
        )
        function_logical_id = Stack.of(self).resolve(hook_function.function_arn)["Fn::GetAtt"][0]
        acknowledge(
            self.state_machine,
            f"AwsSolutions-IAM5[Resource::<{function_logical_id}.Arn>:*]",
            "CDK's LambdaInvoke grant: InvokeFunction on the AfterAllowTraffic hook function and its versions only.",
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray actions (logs:CreateLogDelivery..., xray:Put*) support no "
            "resource-level permissions; CDK adds them for the state machine's logging and tracing.",
        )
