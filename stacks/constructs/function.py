"""One helper builds every Tollgate function the same way, and one wires a rule to it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, aws_events, aws_events_targets, aws_lambda, aws_logs
from constructs import Construct

from lambdas.core.config import LOG_RETENTION_DAYS, EnvironmentConfig
from stacks.constructs.shared import LAMBDA_RUNTIME, SharedResources
from stacks.nag import acknowledge

REPO_ROOT = Path(__file__).resolve().parents[2]
# The asset is the repository filtered down to the `lambdas` package, so handler strings and imports
# (`lambdas.core...`) read the same in Lambda as locally. Plain code: no Docker bundling; runtime
# dependencies (Powertools, pydantic) come from the Powertools layer, boto3 from the runtime.
ASSET_EXCLUDES = ["*", "!lambdas", "!lambdas/**", "**/__pycache__", "**/*.pyc"]


def retention_days(days: int) -> aws_logs.RetentionDays:
    """CloudWatch Logs retention for a number of days the config already validated."""
    # CDK's enum lists the periods PutRetentionPolicy accepts in the same order as the config does.
    finite = [member for member in aws_logs.RetentionDays if member is not aws_logs.RetentionDays.INFINITE]
    return dict(zip(LOG_RETENTION_DAYS, finite, strict=True))[days]


class TollgateFunction(Construct):
    """A Lambda function built the Tollgate way (runtime, layer, logs, env vars, grants, DLQ)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedResources,
        config: EnvironmentConfig,
        handler: str,
        description: str,
        timeout: Duration | None = None,
        memory_size: int = 256,
        function_name: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = aws_logs.LogGroup(
            self,
            "Logs",
            retention=retention_days(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.function = aws_lambda.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=aws_lambda.Architecture.ARM_64
            if config.lambda_architecture == "arm64"
            else aws_lambda.Architecture.X86_64,
            code=aws_lambda.Code.from_asset(str(REPO_ROOT), exclude=ASSET_EXCLUDES),
            handler=handler,
            layers=[shared.powertools_layer],
            timeout=timeout or Duration.seconds(30),
            memory_size=memory_size,
            log_group=log_group,
            logging_format=aws_lambda.LoggingFormat.JSON,
            dead_letter_queue=shared.dead_letter_queue,
            retry_attempts=2,
            environment={
                "TOLLGATE_ENVIRONMENT": config.name,
                "TOLLGATE_EVENT_BUS": shared.event_bus.event_bus_name,
                "TOLLGATE_IDEMPOTENCY_TABLE": shared.idempotency_table.table_name,
                "TOLLGATE_STATE_TABLE": shared.state_table.table_name,
                "TOLLGATE_ALERT_TOPIC_ARN": shared.alert_topic.topic_arn,
                "POWERTOOLS_SERVICE_NAME": f"tollgate-{construct_id.lower()}",
                "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
                "POWERTOOLS_TRACE_DISABLED": "true",
                # Skip scanning installed distributions for pydantic plugins at cold start (none are used).
                "PYDANTIC_DISABLE_PLUGINS": "__all__",
                **(environment or {}),
            },
        )
        shared.event_bus.grant_put_events_to(self.function)
        shared.idempotency_table.grant_read_write_data(self.function)
        shared.state_table.grant_read_write_data(self.function)
        acknowledge(
            self.function,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "AWSLambdaBasicExecutionRole only lets the function write its own logs.",
        )
        for kms_action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge(
                self.function,
                f"AwsSolutions-IAM5[Action::{kms_action}]",
                "CDK's KMS grant for Tollgate's own key (tables, topic); the resource is that one key.",
            )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 is the newest runtime the pinned Powertools layer parameter is published for; "
            "moving on is a config change in stacks/constructs/shared.py once the layer exists.",
        )


def add_rule(
    scope: Construct,
    construct_id: str,
    *,
    target: TollgateFunction,
    pattern: aws_events.EventPattern,
    description: str,
    shared: SharedResources,
    event_bus: aws_events.IEventBus | None = None,
) -> aws_events.Rule:
    """An EventBridge rule to a function, retrying and then parking undeliverable events in the DLQ."""
    rule = aws_events.Rule(scope, construct_id, description=description, event_pattern=pattern, event_bus=event_bus)
    rule.add_target(
        aws_events_targets.LambdaFunction(
            target.function,
            dead_letter_queue=shared.dead_letter_queue,
            retry_attempts=8,
            max_event_age=Duration.hours(2),
        )
    )
    return rule
