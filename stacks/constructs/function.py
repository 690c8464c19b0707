"""One helper builds every Tollgate function the same way, and one wires a rule to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    Annotations,
    Duration,
    RemovalPolicy,
    Stack,
    aws_ec2,
    aws_events,
    aws_events_targets,
    aws_iam,
    aws_lambda,
    aws_logs,
)
from constructs import Construct

from lambdas.core.config import LOG_RETENTION_DAYS, EnvironmentConfig, LmsNetwork
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType
from stacks.constructs.shared import LAMBDA_RUNTIME, SharedResources
from stacks.nag import acknowledge

# Every item call the state-table adapters make (lambdas/core/state_table.py and the capability ledgers);
# no Scan, Query or batch call is made by any function, so none is granted.
STATE_WRITE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
STATE_READ_ACTIONS = ("dynamodb:GetItem",)
# Powertools idempotency: get the record, put it (conditionally), update it with the result, delete on failure.
IDEMPOTENCY_ACTIONS = STATE_WRITE_ACTIONS
# What a role needs of Tollgate's key to use the tables, topic and queue it encrypts: no Encrypt/ReEncrypt.
ROLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*")
# What Lambda does with a VPC function's role to attach it (the actions of AWSLambdaVPCAccessExecutionRole without
# its logs:* on every log group; https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html).
ENI_CREATE_ACTIONS = ("ec2:CreateNetworkInterface",)
ENI_MANAGE_ACTIONS = ("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
ENI_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets")
VPC_DESCRIBE_REASON = (
    "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets, which Lambda calls to attach the function to its "
    "subnets, support no resource-level permissions (Lambda's VPC guide: DescribeNetworkInterfaces works only on "
    "all resources)."
)


@dataclass(frozen=True)
class Access:
    """What one function does with Tollgate's shared resources; it is granted exactly this.

    ``writes``/``reads`` are state-table pk prefixes (``"rollback#"``): the grant carries a
    ``dynamodb:LeadingKeys`` condition, so a function can touch only its own records.
    """

    writes: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    idempotency: bool = False
    announces: tuple[DetailType, ...] = ()
    publishes_alerts: bool = False
    # A table of the capability's own, encrypted with Tollgate's key (the ledger): the key through DynamoDB.
    own_table: bool = False


@dataclass(frozen=True)
class VpcAttachment:
    """Where a function that calls the LMS runs when ``lms.network`` is set."""

    vpc: aws_ec2.IVpc
    subnets: aws_ec2.SubnetSelection
    security_groups: tuple[aws_ec2.ISecurityGroup, ...]


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
        access: Access = Access(),
        calls_lms: bool = False,
        wildcard_resources_reason: str | None = None,
    ) -> None:
        """``calls_lms``: the function sends HTTP requests to the LMS (synthetic flows), so it runs in the
        config's ``lms.network`` subnets when one is set, and reaches a private ALB (decision 0065).

        ``wildcard_resources_reason``: why the statements the caller adds on ``*`` need it; acknowledged here
        once, together with the VPC attachment's own reason (one acknowledgment per finding and construct)."""
        super().__init__(scope, construct_id)
        network = config.lms.network if calls_lms else None
        attachment = self._vpc_attachment(network)
        log_group = aws_logs.LogGroup(
            self,
            "Logs",
            retention=retention_days(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # An explicit role instead of AWSLambdaBasicExecutionRole (logs:* on every log group): it may write
        # only its own log group.
        self.role = aws_iam.Role(
            self, "Role", assumed_by=aws_iam.ServicePrincipal("lambda.amazonaws.com"), description=description[:1000]
        )
        self.role.add_to_policy(
            aws_iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
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
            role=self.role,
            layers=[shared.powertools_layer],
            timeout=timeout or Duration.seconds(30),
            memory_size=memory_size,
            log_group=log_group,
            logging_format=aws_lambda.LoggingFormat.JSON,
            retry_attempts=2,
            vpc=attachment.vpc if attachment else None,
            vpc_subnets=attachment.subnets if attachment else None,
            security_groups=list(attachment.security_groups) if attachment else None,
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
        self._grant(shared, config, access)
        wildcard_reasons = [wildcard_resources_reason] if wildcard_resources_reason else []
        if network is not None:
            self._grant_vpc_attachment(network)
            wildcard_reasons.append(VPC_DESCRIBE_REASON)
        if wildcard_reasons:
            acknowledge(self, "AwsSolutions-IAM5[Resource::*]", " ".join(wildcard_reasons))
        acknowledge(
            self,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "kms:GenerateDataKey* covers GenerateDataKey and GenerateDataKeyWithoutPlaintext, which SNS, SQS and "
            "DynamoDB call for this role; the resource is Tollgate's one key and kms:ViaService limits it to them.",
        )
        # No AwsSolutions-L1 acknowledgment: the runtime is python3.14, the newest CDK knows and the newest the
        # Powertools layer is published for (stacks/powertools.py, decision 0061).

    def _vpc_attachment(self, network: LmsNetwork | None) -> VpcAttachment | None:
        """The configured subnets and security groups as CDK imports (``None``: outside any VPC).

        Imported, not looked up: synth needs no credentials, and the security groups are immutable (Tollgate adds
        no rules to the LMS's groups)."""
        if network is None:
            return None
        zones = network.availability_zones
        subnets = [
            aws_ec2.Subnet.from_subnet_attributes(
                self, f"Subnet{index}", subnet_id=subnet_id, availability_zone=zones[index]
            )
            for index, subnet_id in enumerate(network.subnet_ids)
        ]
        for subnet in subnets:
            Annotations.of(subnet).acknowledge_warning(
                "@aws-cdk/aws-ec2:noSubnetRouteTableId",
                "Nothing reads the subnet's route table at synth; `tollgate doctor` reads it in the account.",
            )
        vpc = aws_ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=network.vpc_id, availability_zones=sorted(set(zones)))
        groups = [
            aws_ec2.SecurityGroup.from_security_group_id(self, f"SecurityGroup{index}", group_id, mutable=False)
            for index, group_id in enumerate(network.security_group_ids)
        ]
        return VpcAttachment(vpc, aws_ec2.SubnetSelection(subnets=subnets), tuple(groups))

    def _grant_vpc_attachment(self, network: LmsNetwork) -> None:
        """What Lambda needs of the role to put the function's ENIs in the configured subnets, inline instead of
        AWSLambdaVPCAccessExecutionRole (CDK adds that managed policy only to roles it creates itself).

        Creating an ENI is allowed only in the configured subnets with the configured security groups; the
        interfaces themselves get their ids at creation, so the rest names every network interface of this
        account and region (the Lambda guide: "include all resource IDs" for DeleteNetworkInterface); the two
        Describe calls work only on ``*``."""
        stack = Stack.of(self)
        region, account = stack.region, stack.account
        ec2_arn = f"arn:{stack.partition}:ec2:{region}:{account}"
        interfaces = f"{ec2_arn}:network-interface/*"
        self.role.add_to_policy(
            aws_iam.PolicyStatement(
                actions=list(ENI_CREATE_ACTIONS),
                resources=[
                    interfaces,
                    *(f"{ec2_arn}:subnet/{subnet}" for subnet in network.subnet_ids),
                    *(f"{ec2_arn}:security-group/{group}" for group in network.security_group_ids),
                ],
            )
        )
        self.role.add_to_policy(aws_iam.PolicyStatement(actions=list(ENI_MANAGE_ACTIONS), resources=[interfaces]))
        self.role.add_to_policy(aws_iam.PolicyStatement(actions=list(ENI_DESCRIBE_ACTIONS), resources=["*"]))
        acknowledge(
            self,
            f"AwsSolutions-IAM5[Resource::arn:aws:ec2:{region}:{account}:network-interface/*]",
            "Lambda creates and later deletes the function's Hyperplane ENIs, whose ids exist only once created; "
            "CreateNetworkInterface is further limited to the configured subnets and security groups.",
        )

    def _grant(self, shared: SharedResources, config: EnvironmentConfig, access: Access) -> None:
        role = self.role
        region = Stack.of(self).region
        # Lambda itself sends a failed asynchronous invocation to the DLQ with the function's role. Set on the L1
        # so CDK does not add its grant (which includes kms:Encrypt/ReEncrypt*).
        cfn = self.function.node.default_child
        if not isinstance(cfn, aws_lambda.CfnFunction):  # pragma: no cover - CDK's own L1 type
            raise TypeError("a Lambda function's default child is its CfnFunction")
        cfn.dead_letter_config = aws_lambda.CfnFunction.DeadLetterConfigProperty(
            target_arn=shared.dead_letter_queue.queue_arn
        )
        role.add_to_policy(
            aws_iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[shared.dead_letter_queue.queue_arn])
        )
        services = ["sqs"]
        tables = []
        if access.writes:
            tables.append("dynamodb")
            role.add_to_policy(_state_statement(shared, STATE_WRITE_ACTIONS, access.writes))
        reads_only = tuple(p for p in access.reads if p not in access.writes)
        if reads_only:
            tables.append("dynamodb")
            role.add_to_policy(_state_statement(shared, STATE_READ_ACTIONS, reads_only))
        if access.idempotency:
            tables.append("dynamodb")
            role.add_to_policy(
                aws_iam.PolicyStatement(
                    actions=list(IDEMPOTENCY_ACTIONS), resources=[shared.idempotency_table.table_arn]
                )
            )
        if access.own_table:
            tables.append("dynamodb")
        if access.publishes_alerts:
            services.append("sns")
            role.add_to_policy(
                aws_iam.PolicyStatement(actions=["sns:Publish"], resources=[shared.alert_topic.topic_arn])
            )
        services += sorted(set(tables))
        # The key is used only through the services that encrypt with it (kms:ViaService).
        role.add_to_policy(
            aws_iam.PolicyStatement(
                actions=list(ROLE_KEY_ACTIONS),
                resources=[shared.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]}},
            )
        )
        if access.announces:
            # Only the detail types this function announces, and only as Tollgate (events:source/detail-type,
            # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html).
            role.add_to_policy(
                aws_iam.PolicyStatement(
                    actions=["events:PutEvents"],
                    resources=[shared.event_bus.event_bus_arn],
                    conditions={
                        "StringEquals": {
                            "events:source": TOLLGATE_SOURCE,
                            "events:detail-type": [d.value for d in access.announces],
                        }
                    },
                )
            )
        if config.secrets_key_arn:
            # Secrets encrypted with a customer-managed key are decrypted by Secrets Manager on the caller's behalf.
            role.add_to_policy(
                aws_iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[config.secrets_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
                )
            )


def _state_statement(
    shared: SharedResources, actions: Sequence[str], prefixes: Sequence[str]
) -> aws_iam.PolicyStatement:
    return aws_iam.PolicyStatement(
        actions=list(actions),
        resources=[shared.state_table.table_arn],
        conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*" for prefix in prefixes]}},
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
