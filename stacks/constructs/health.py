"""Tollgate watching itself: its own failures reach people without going through Tollgate.

The notifier cannot report that the notifier is failing, so these alarms publish straight to an
operations topic whose email subscribers are the environment's critical-route addresses: an event
parked in the dead-letter queue, or any Tollgate function erroring, pages someone.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    Duration,
    Stack,
    aws_cloudwatch,
    aws_cloudwatch_actions,
    aws_iam,
    aws_lambda,
    aws_sns,
    aws_sns_subscriptions,
)
from constructs import Construct

from lambdas.core.config import EnvironmentConfig, Severity
from stacks.arns import tollgate_alarms_arn
from stacks.constructs.shared import SharedResources


def critical_emails(config: EnvironmentConfig) -> list[str]:
    """Addresses of every route that hears critical events, once each."""
    return list(
        dict.fromkeys(
            address
            for route in config.alerts.routes
            if Severity.CRITICAL in route.severities
            for address in route.emails
        )
    )


class TollgateHealth(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedResources,
        config: EnvironmentConfig,
        functions: Sequence[aws_lambda.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = aws_sns.Topic(
            self,
            "OperationsTopic",
            display_name=f"Tollgate {config.name} operations",
            master_key=shared.key,
            enforce_ssl=True,
        )
        # enforce_ssl writes a topic policy, which replaces SNS's default one: without this statement CloudWatch
        # may not publish ("no resource-based policy allows the SNS:Publish action"). Only this account's
        # Tollgate alarms (tollgate-<env>-*) may (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
        self.topic.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="TollgateAlarmsPublish",
                principals=[aws_iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                    "ArnLike": {"aws:SourceArn": tollgate_alarms_arn(self, config)},
                },
            )
        )
        for address in critical_emails(config):
            self.topic.add_subscription(aws_sns_subscriptions.EmailSubscription(address))

        self.alarms = [
            self._page_on_any(
                "DeadLettersAlarm",
                shared.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                f"Tollgate {config.name}: events or invocations were given up on; read the DLQ",
                alarm_name=f"tollgate-{config.name}-tollgate-dead-letters",
            )
        ]
        self.alarms.extend(
            self._page_on_any(
                f"ErrorsAlarm{index}",
                function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                f"Tollgate {config.name}: a Tollgate function is failing (retried, then DLQ)",
                # Named under tollgate-<env>-* so the topic and key policies let CloudWatch publish it.
                alarm_name=f"tollgate-{config.name}-tollgate-function-errors-{index}",
            )
            for index, function in enumerate(functions)
        )

    def _page_on_any(
        self, construct_id: str, metric: aws_cloudwatch.IMetric, description: str, *, alarm_name: str | None = None
    ) -> aws_cloudwatch.Alarm:
        """An alarm on any non-zero value that pages the operations topic."""
        alarm = aws_cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=alarm_name,
            alarm_description=description,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=aws_cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=aws_cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(aws_cloudwatch_actions.SnsAction(self.topic))
        return alarm
