"""The record: the ledger table, its writer, the pipeline-metrics publisher and the GitHub webhook receiver.

The ledger is its own table (on-demand, PITR, Tollgate's KMS key): deployments and decisions are kept
for audit far longer than the state table's leases. Each function gets only the table actions it uses.
"""

from __future__ import annotations

from aws_cdk import (
    ArnFormat,
    CfnOutput,
    Duration,
    RemovalPolicy,
    Stack,
    aws_dynamodb,
    aws_events,
    aws_events_targets,
    aws_iam,
    aws_lambda,
    aws_secretsmanager,
)
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import TOLLGATE_SOURCE
from lambdas.ledger.adapters.table import BY_TIME_INDEX
from lambdas.ledger.facts import CODEDEPLOY_STATE_CHANGE, ECS_DEPLOYMENT_STATE_CHANGE
from stacks.constructs.function import Access, TollgateFunction, add_rule
from stacks.constructs.shared import SharedResources

LEDGER_HANDLER = "lambdas.ledger.handler.handler"
METRICS_HANDLER = "lambdas.ledger.metrics_handler.handler"
WEBHOOK_HANDLER = "lambdas.github_webhook.handler.handler"
# The writer makes at most four table calls and two GetDeployment calls per event.
LEDGER_TIMEOUT = Duration.seconds(30)
# The ledger's functions use its own table (encrypted with Tollgate's key), never the shared state table.
LEDGER_ACCESS = Access(own_table=True)
# Reading a week of a busy environment's ledger (a few thousand items) and computing is seconds.
METRICS_TIMEOUT = Duration.seconds(120)
WEBHOOK_TIMEOUT = Duration.seconds(10)  # GitHub gives up on a delivery after 10 s


class Ledger(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = aws_dynamodb.Table(
            self,
            "Table",
            partition_key=aws_dynamodb.Attribute(name="pk", type=aws_dynamodb.AttributeType.STRING),
            sort_key=aws_dynamodb.Attribute(name="sk", type=aws_dynamodb.AttributeType.STRING),
            billing_mode=aws_dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=aws_dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=shared.key,
            point_in_time_recovery_specification=aws_dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The audit trail outlives the stack: deleting the stack must not delete who approved what.
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table.add_global_secondary_index(
            index_name=BY_TIME_INDEX,
            partition_key=aws_dynamodb.Attribute(name="gsi1pk", type=aws_dynamodb.AttributeType.STRING),
            sort_key=aws_dynamodb.Attribute(name="gsi1sk", type=aws_dynamodb.AttributeType.STRING),
            projection_type=aws_dynamodb.ProjectionType.ALL,
        )
        environment = {"TOLLGATE_LEDGER_TABLE": self.table.table_name}
        self.writer = TollgateFunction(
            self,
            "Writer",
            shared=shared,
            config=config,
            handler=LEDGER_HANDLER,
            description=f"Tollgate {config.name}: record deployments and decisions in the ledger",
            timeout=LEDGER_TIMEOUT,
            environment=environment,
            access=LEDGER_ACCESS,
        )
        self._grant_table(self.writer.function, "dynamodb:UpdateItem", "dynamodb:PutItem")
        if config.lms.codedeploy_application:
            self.writer.function.add_to_role_policy(
                aws_iam.PolicyStatement(actions=["codedeploy:GetDeployment"], resources=self._deployment_groups(config))
            )

        self.publisher = TollgateFunction(
            self,
            "PipelineMetrics",
            shared=shared,
            config=config,
            handler=METRICS_HANDLER,
            description=f"Tollgate {config.name}: DORA and build metrics over the ledger (EMF)",
            timeout=METRICS_TIMEOUT,
            memory_size=512,
            environment=environment,
            access=LEDGER_ACCESS,
        )
        self._grant_table(self.publisher.function, "dynamodb:Query", "dynamodb:GetItem", index=True)
        self.schedule = aws_events.Rule(
            self,
            "PipelineMetricsSchedule",
            description="Publish the pipeline metrics",
            schedule=aws_events.Schedule.rate(Duration.minutes(config.records.metrics_every_minutes)),
        )
        self.schedule.add_target(
            aws_events_targets.LambdaFunction(
                self.publisher.function, dead_letter_queue=shared.dead_letter_queue, retry_attempts=2
            )
        )
        self.rules = self._rules(shared, config)
        self.webhook: TollgateFunction | None = None
        self.webhook_url: aws_lambda.FunctionUrl | None = None
        if config.records.github_webhook_secret:
            self._webhook(shared, config, environment, config.records.github_webhook_secret)

    def _webhook(
        self, shared: SharedResources, config: EnvironmentConfig, environment: dict[str, str], secret_name: str
    ) -> None:
        self.webhook = TollgateFunction(
            self,
            "GitHubWebhook",
            shared=shared,
            config=config,
            handler=WEBHOOK_HANDLER,
            description=f"Tollgate {config.name}: GitHub workflow_run webhooks -> builds in the ledger",
            timeout=WEBHOOK_TIMEOUT,
            environment={**environment, "TOLLGATE_GITHUB_WEBHOOK_SECRET": secret_name},
            access=LEDGER_ACCESS,
        )
        function = self.webhook.function
        # One TransactWriteItems: the delivery id (conditional put) and the build. There is no
        # dynamodb:TransactWriteItems IAM action; each Put inside is authorized as PutItem (and its
        # condition as ConditionCheckItem) on the ledger table:
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
        self._grant_table(function, "dynamodb:PutItem", "dynamodb:ConditionCheckItem")
        aws_secretsmanager.Secret.from_secret_name_v2(self, "WebhookSecret", secret_name).grant_read(function)
        # GitHub cannot sign AWS SigV4 requests: the URL is public and every request must carry GitHub's
        # HMAC signature, checked with the secret before anything is parsed or written.
        self.webhook_url = function.add_function_url(auth_type=aws_lambda.FunctionUrlAuthType.NONE)
        # Bound what a flood of unsigned requests can cost: they are rejected in milliseconds, 10 at a time.
        function_resource = function.node.default_child
        if isinstance(function_resource, aws_lambda.CfnFunction):
            function_resource.reserved_concurrent_executions = 10
        CfnOutput(self, "GitHubWebhookUrl", value=self.webhook_url.url, description="GitHub webhook payload URL")

    def _grant_table(self, function: aws_lambda.Function, *actions: str, index: bool = False) -> None:
        """Exactly these actions on the ledger table (and its time index only where a reader queries it)."""
        resources = [self.table.table_arn]
        if index:
            resources.append(f"{self.table.table_arn}/index/{BY_TIME_INDEX}")
        function.add_to_role_policy(aws_iam.PolicyStatement(actions=list(actions), resources=resources))

    def _deployment_groups(self, config: EnvironmentConfig) -> list[str]:
        return [
            Stack.of(self).format_arn(
                service="codedeploy",
                resource="deploymentgroup",
                resource_name=f"{config.lms.codedeploy_application}/{service.deployment_group}",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for service in config.lms.services.values()
            if service.deployment_group
        ]

    def _rules(self, shared: SharedResources, config: EnvironmentConfig) -> list[aws_events.Rule]:
        rules = [
            add_rule(
                self,
                "TollgateEventsRule",
                target=self.writer,
                shared=shared,
                event_bus=shared.event_bus,
                description="Every Tollgate announcement -> ledger",
                pattern=aws_events.EventPattern(source=[TOLLGATE_SOURCE]),
            )
        ]
        if config.lms.codedeploy_application:
            rules.append(
                add_rule(
                    self,
                    "CodeDeployStateRule",
                    target=self.writer,
                    shared=shared,
                    description="CodeDeploy deployment state changes of the LMS -> ledger",
                    pattern=aws_events.EventPattern(
                        source=["aws.codedeploy"],
                        detail_type=[CODEDEPLOY_STATE_CHANGE],
                        detail={"application": [config.lms.codedeploy_application]},
                    ),
                )
            )
        if any(service.deployment_group is None for service in config.lms.services.values()):
            cluster = config.lms.ecs_cluster.rsplit("/", 1)[-1]
            # A plain string (no partition token) so the local runtime can match the synthesized pattern.
            prefix = f"arn:aws:ecs:{config.region}:{config.account}:service/{cluster}/"
            rules.append(
                add_rule(
                    self,
                    "EcsDeploymentRule",
                    target=self.writer,
                    shared=shared,
                    description="ECS rolling-update deployment state changes of the LMS -> ledger",
                    pattern=aws_events.EventPattern(
                        source=["aws.ecs"],
                        detail_type=[ECS_DEPLOYMENT_STATE_CHANGE],
                        resources=aws_events.Match.prefix(prefix),
                    ),
                )
            )
        return rules
