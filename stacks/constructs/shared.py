"""What every Tollgate capability shares: the bus, the alert topic, the key, tables, the DLQ, the layer."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import (
    Duration,
    RemovalPolicy,
    Stack,
    aws_dynamodb,
    aws_events,
    aws_iam,
    aws_kms,
    aws_lambda,
    aws_secretsmanager,
    aws_sns,
    aws_sqs,
    aws_ssm,
)
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import OPERATOR_REQUESTS, DetailType
from stacks.arns import queue_arn, tollgate_alarms_arn
from stacks.nag import acknowledge
from stacks.powertools import LAMBDA_RUNTIME, layer_parameter_name, powertools_version

# What a service needs of the key to deliver into an encrypted topic or queue: a data key, and to read it back.
SERVICE_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")

__all__ = [
    "LAMBDA_RUNTIME",
    "OPERATOR_REQUEST_TYPES",
    "SERVICE_KEY_ACTIONS",
    "SharedFoundation",
    "SharedResources",
    "operator_requests_deny",
]


@dataclass(frozen=True)
class SharedResources:
    event_bus: aws_events.EventBus
    alert_topic: aws_sns.Topic
    key: aws_kms.Key
    slack_webhook_secret: aws_secretsmanager.ISecret
    idempotency_table: aws_dynamodb.Table
    state_table: aws_dynamodb.Table
    dead_letter_queue: aws_sqs.Queue
    powertools_layer: aws_lambda.ILayerVersion


# The requests that make Tollgate act on an operator's word: restore a database or roll back, approve or reject a
# production release, promote or abort a canary.
OPERATOR_REQUEST_TYPES = tuple(sorted(d.value for d in (DetailType.OPERATOR_ROLLBACK_REQUESTED, *OPERATOR_REQUESTS)))


def operator_requests_deny(event_bus: aws_events.IEventBus, config: EnvironmentConfig) -> aws_iam.PolicyStatement:
    """The bus policy statement that makes operator requests the operators' alone (decision 0063).

    In one account an Allow on the bus restricts nothing: a principal whose IAM policy allows events:PutEvents is
    allowed whatever the bus policy says, since either policy's Allow suffices and only an explicit Deny in either
    overrides (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html).
    So the control is a Deny of events:PutEvents for the operator-request detail types to every principal whose
    aws:PrincipalArn is not one of the configured operators. events:detail-type is a PutEvents condition key
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html, and the PutEvents example
    policy https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account-custom-bus-source.html);
    ForAnyValue makes one operator request among several entries enough to deny the call.
    """
    return aws_iam.PolicyStatement(
        sid="OnlyOperatorsPutOperatorRequests",
        effect=aws_iam.Effect.DENY,
        principals=[aws_iam.AnyPrincipal()],
        actions=["events:PutEvents"],
        resources=[event_bus.event_bus_arn],
        conditions={
            "ForAnyValue:StringEquals": {"events:detail-type": list(OPERATOR_REQUEST_TYPES)},
            "ArnNotLike": {"aws:PrincipalArn": list(config.operator_principal_arns)},
        },
    )


class SharedFoundation(Construct):
    """Builds the shared resources of one environment's stack."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        key = aws_kms.Key(
            self,
            "Key",
            description=f"Tollgate {config.name}: alert topic, queues and tables",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Two services use the key on their own behalf, each only for what it delivers (no Encrypt/ReEncrypt):
        # - CloudWatch publishes Tollgate's own alarms to the encrypted operations topic: SNS needs
        #   kms:GenerateDataKey* and kms:Decrypt for it, and CloudWatch's requests carry aws:SourceAccount and
        #   aws:SourceArn (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
        #   #compatibility-with-aws-services), so only this account's tollgate-<env>-* alarms qualify.
        # - EventBridge parks undeliverable events in the encrypted dead-letter queue: SQS asks KMS on the
        #   sender's behalf with the queue's ARN as encryption context (aws:sqs:arn), which pins the statement
        #   to that queue (aws:SourceArn is not carried on EventBridge's KMS requests, per the SNS page above).
        key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToOperationsTopic",
                principals=[aws_iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=list(SERVICE_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": tollgate_alarms_arn(self, config)},
                },
            )
        )

        event_bus = aws_events.EventBus(self, "EventBus", event_bus_name=f"tollgate-{config.name}")
        # (CDK's CfnEventBusPolicy warns at synth that `principal` is deprecated; only `Statement` is used.)
        event_bus.add_to_resource_policy(operator_requests_deny(event_bus, config))
        # Keep every Tollgate announcement for a while so it can be replayed after an outage.
        event_bus.archive(
            "Archive",
            archive_name=f"tollgate-{config.name}",
            description="Every Tollgate announcement, for replay",
            event_pattern=aws_events.EventPattern(account=[stack.account]),
            retention=Duration.days(config.log_retention_days),
        )

        alert_topic = aws_sns.Topic(
            self,
            "AlertTopic",
            display_name=f"Tollgate {config.name} alerts",
            master_key=key,
            enforce_ssl=True,
        )

        dead_letter_queue = aws_sqs.Queue(
            self,
            "DeadLetterQueue",
            # Named, so the key policy can name it without a reference cycle (key -> queue -> key).
            queue_name=f"tollgate-{config.name}-dead-letters",
            encryption=aws_sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="EventBridgeParksEventsInDeadLetterQueue",
                principals=[aws_iam.ServicePrincipal("events.amazonaws.com")],
                actions=list(SERVICE_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:EncryptionContext:aws:sqs:arn": queue_arn(self, f"tollgate-{config.name}-dead-letters")
                    }
                },
            )
        )
        acknowledge(
            dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of Tollgate's functions and rules.",
        )

        idempotency_table = self._table(
            "IdempotencyTable", key=key, partition_key="id", sort_key=None, ttl="expiration", retain=False
        )
        state_table = self._table(
            "StateTable", key=key, partition_key="pk", sort_key="sk", ttl="expires_at", retain=True
        )

        slack_webhook_secret = aws_secretsmanager.Secret.from_secret_name_v2(
            self, "SlackWebhookSecret", config.alerts.slack_webhook_secret
        )

        # The layer of the Powertools release requirements.txt pins (decision 0061), resolved at deploy time.
        layer_arn = aws_ssm.StringParameter.value_for_string_parameter(
            self,
            layer_parameter_name(
                architecture=config.lambda_architecture, version=powertools_version(), runtime=LAMBDA_RUNTIME
            ),
        )
        powertools_layer = aws_lambda.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", layer_arn)

        self.resources = SharedResources(
            event_bus=event_bus,
            alert_topic=alert_topic,
            key=key,
            slack_webhook_secret=slack_webhook_secret,
            idempotency_table=idempotency_table,
            state_table=state_table,
            dead_letter_queue=dead_letter_queue,
            powertools_layer=powertools_layer,
        )

    def _table(
        self, construct_id: str, *, key: aws_kms.Key, partition_key: str, sort_key: str | None, ttl: str, retain: bool
    ) -> aws_dynamodb.Table:
        return aws_dynamodb.Table(
            self,
            construct_id,
            partition_key=aws_dynamodb.Attribute(name=partition_key, type=aws_dynamodb.AttributeType.STRING),
            sort_key=aws_dynamodb.Attribute(name=sort_key, type=aws_dynamodb.AttributeType.STRING)
            if sort_key
            else None,
            billing_mode=aws_dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=aws_dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=aws_dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=ttl,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
