"""Notifier: one function that tells people about deployments in Slack and by email.

Subscribes to CodeDeploy state changes (where CodeDeploy deploys), ECS deployment state changes
(where services are rolling-updated) and Tollgate's own announcements. Creates an email subscription
on the alert topic per address named in the routes, filtered on the ``recipient`` message attribute
so each person gets only what the notifier routed to them.
"""

from __future__ import annotations

from aws_cdk import (
    Duration,
    aws_events,
    aws_iam,
    aws_secretsmanager,
    aws_sns,
    aws_sns_subscriptions,
)
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import TOLLGATE_SOURCE
from lambdas.notifier.email_message import RECIPIENT_ATTRIBUTE
from lambdas.notifier.sources import (
    CODEDEPLOY_DETAIL_TYPE,
    CODEDEPLOY_SOURCE,
    ECS_DETAIL_TYPE,
    ECS_SOURCE,
    NOTIFIED_DETAIL_TYPES,
)
from stacks.arns import deployment_group_arns
from stacks.constructs.function import Access, TollgateFunction, add_rule
from stacks.constructs.shared import SharedResources

NOTIFIER_HANDLER = "lambdas.notifier.handler.handler"
# Slack retries (Retry-After, 5xx backoff) are bounded by the time left; 60 s leaves room for them.
NOTIFIER_TIMEOUT = Duration.seconds(60)
# The notifier records deliveries and threads under notifier#, each deployment's living Slack message under
# slack# (lambdas/notifier/adapters/living_messages.py), publishes emails, and announces nothing.
NOTIFIER_ACCESS = Access(writes=("notifier#", "slack#"), idempotency=True, publishes_alerts=True)


class Notifier(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = TollgateFunction(
            self,
            "Function",
            shared=shared,
            config=config,
            handler=NOTIFIER_HANDLER,
            description=f"Tollgate {config.name}: deployment notifications to Slack and email",
            timeout=NOTIFIER_TIMEOUT,
            memory_size=256,
            access=NOTIFIER_ACCESS,
        )
        function = self.function.function
        shared.slack_webhook_secret.grant_read(function)
        if config.alerts.slack_bot_token_secret:
            bot_token = aws_secretsmanager.Secret.from_secret_name_v2(
                self, "SlackBotToken", config.alerts.slack_bot_token_secret
            )
            bot_token.grant_read(function)
        if config.lms.codedeploy_application:
            # GetDeployment tells which revision (task definition) a deployment deploys.
            function.add_to_role_policy(
                aws_iam.PolicyStatement(
                    actions=["codedeploy:GetDeployment"],
                    resources=deployment_group_arns(self, config),
                )
            )

        self.email_subscriptions = self._subscribe_emails(shared.alert_topic, config)
        self.rules = self._subscribe_events(shared, config)

    def _subscribe_emails(self, topic: aws_sns.ITopic, config: EnvironmentConfig) -> list[str]:
        addresses = list(dict.fromkeys(address for route in config.alerts.routes for address in route.emails))
        for address in addresses:
            topic.add_subscription(
                aws_sns_subscriptions.EmailSubscription(
                    address,
                    filter_policy={RECIPIENT_ATTRIBUTE: aws_sns.SubscriptionFilter.string_filter(allowlist=[address])},
                )
            )
        return addresses

    def _subscribe_events(self, shared: SharedResources, config: EnvironmentConfig) -> list[aws_events.Rule]:
        rules = []
        if config.lms.codedeploy_application:
            rules.append(
                add_rule(
                    self,
                    "CodeDeployStateRule",
                    target=self.function,
                    shared=shared,
                    description="CodeDeploy deployment state changes of the LMS -> notifier",
                    pattern=aws_events.EventPattern(
                        source=[CODEDEPLOY_SOURCE],
                        detail_type=[CODEDEPLOY_DETAIL_TYPE],
                        detail={"application": [config.lms.codedeploy_application]},
                    ),
                )
            )
        if any(service.deployment_group is None for service in config.lms.services.values()):
            cluster = config.lms.ecs_cluster.rsplit("/", 1)[-1]
            # A plain string (no partition token) so the local runtime can match the synthesized pattern as is.
            service_arn_prefix = f"arn:aws:ecs:{config.region}:{config.account}:service/{cluster}"
            rules.append(
                add_rule(
                    self,
                    "EcsDeploymentRule",
                    target=self.function,
                    shared=shared,
                    description="ECS rolling-update deployment state changes of the LMS -> notifier",
                    pattern=aws_events.EventPattern(
                        source=[ECS_SOURCE],
                        detail_type=[ECS_DETAIL_TYPE],
                        resources=aws_events.Match.prefix(f"{service_arn_prefix}/"),
                    ),
                )
            )
        rules.append(
            add_rule(
                self,
                "TollgateEventsRule",
                target=self.function,
                shared=shared,
                event_bus=shared.event_bus,
                description="Tollgate's announcements -> notifier",
                pattern=aws_events.EventPattern(source=[TOLLGATE_SOURCE], detail_type=list(NOTIFIED_DETAIL_TYPES)),
            )
        )
        return rules
