"""Post-deployment synthetics: the function, its EventBridge Scheduler schedule, and an alarm per service.

Each alarm is named ``tollgate-<environment>-<service>-synthetics`` and tagged ``tollgate:environment``,
``tollgate:service`` and ``tollgate:severity=critical``: the alarm-rollback function maps an alarm it does
not know by name to the service it guards by those tags (``lambdas.rollback.alarms.guard_from_tags``), so a
broken flow inside the watch window rolls the release back like any other guard.
"""

from __future__ import annotations

from aws_cdk import (
    Duration,
    Stack,
    Tags,
    aws_cloudwatch,
    aws_iam,
    aws_lambda,
    aws_scheduler,
    aws_scheduler_targets,
    aws_secretsmanager,
)
from constructs import Construct

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.ledger.adapters.emf import ENVIRONMENT_DIMENSION, SERVICE_DIMENSION
from lambdas.rollback.alarms import ENVIRONMENT_TAG, SERVICE_TAG, SEVERITY_TAG
from lambdas.synthetics.model import LATENCY_METRIC, SUCCESS_METRIC, SYNTHETICS_NAMESPACE, plan_runs
from stacks.constructs.function import Access, TollgateFunction
from stacks.constructs.shared import SharedResources
from stacks.nag import acknowledge

SYNTHETICS_HANDLER = "lambdas.synthetics.handler.handler"
SYNTHETICS_ALARM_SUFFIX = "synthetics"


def synthetics_alarm_name(environment: str, service: str) -> str:
    return f"tollgate-{environment}-{service}-{SYNTHETICS_ALARM_SUFFIX}"


def synthetics_metric(config: EnvironmentConfig, service: str, name: str, statistic: str) -> aws_cloudwatch.Metric:
    return aws_cloudwatch.Metric(
        namespace=SYNTHETICS_NAMESPACE,
        metric_name=name,
        dimensions_map={ENVIRONMENT_DIMENSION: config.name, SERVICE_DIMENSION: service},
        statistic=statistic,
        period=Duration.minutes(config.records.synthetics_every_minutes),
    )


class Synthetics(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        every = config.records.synthetics_every_minutes
        # A run must end before the next tick; the lease (the function's timeout) keeps runs from overlapping.
        timeout = Duration.seconds(min(every * 60 - 5, 120))
        self.function = TollgateFunction(
            self,
            "Function",
            shared=shared,
            config=config,
            handler=SYNTHETICS_HANDLER,
            description=f"Tollgate {config.name}: the LMS's critical flows every {every} minutes",
            timeout=timeout,
            # The run lease (one run at a time per environment) lives in the state table under "synthetics#".
            access=Access(writes=("synthetics#",)),
            calls_lms=True,
        )
        runs = plan_runs(config)
        if config.checks.synthetic_user_secret and any(r.flow.uses_synthetic_user for r in runs):
            aws_secretsmanager.Secret.from_secret_name_v2(
                self, "SyntheticUser", config.checks.synthetic_user_secret
            ).grant_read(self.function.function)
        # Scheduler's own role, here so its one grant (invoke this function) sits with the construct.
        self.scheduler_role = aws_iam.Role(
            self, "SchedulerRole", assumed_by=aws_iam.ServicePrincipal("scheduler.amazonaws.com")
        )
        self.schedule = aws_scheduler.Schedule(
            self,
            "Schedule",
            description=f"Tollgate {config.name} synthetics",
            schedule=aws_scheduler.ScheduleExpression.rate(Duration.minutes(every)),
            # A missed tick is replaced by the next one minutes later: no retries, nothing to park.
            target=aws_scheduler_targets.LambdaInvoke(
                self.function.function,
                retry_attempts=0,
                max_event_age=Duration.minutes(every),
                role=self.scheduler_role,
            ),
        )
        resource = self.function.function.node.default_child
        if isinstance(resource, aws_lambda.CfnFunction):
            logical_id = Stack.of(self).get_logical_id(resource)
            acknowledge(
                self.scheduler_role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "CDK's grantInvoke covers the function and its versions/aliases; the resource is this one function.",
            )
        services = sorted({r.flow.service for r in runs})
        self.alarms = {service: self._alarm(config, service) for service in services}

    def _alarm(self, config: EnvironmentConfig, service: str) -> aws_cloudwatch.Alarm:
        runs = config.records.synthetics_failed_runs_to_alarm
        alarm = aws_cloudwatch.Alarm(
            self,
            f"Alarm-{service}",
            alarm_name=synthetics_alarm_name(config.name, service),
            alarm_description=f"The LMS {service}'s critical flows failed {runs} runs in a row",
            metric=synthetics_metric(config, service, SUCCESS_METRIC, "Minimum"),
            threshold=1,
            comparison_operator=aws_cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=runs,
            datapoints_to_alarm=runs,
            # No run (the schedule or function is down) is not the LMS failing: Tollgate's own alarms cover it.
            treat_missing_data=aws_cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        Tags.of(alarm).add(ENVIRONMENT_TAG, config.name)
        Tags.of(alarm).add(SERVICE_TAG, service)
        Tags.of(alarm).add(SEVERITY_TAG, Severity.CRITICAL.value)
        return alarm


__all__ = ["LATENCY_METRIC", "SUCCESS_METRIC", "Synthetics", "synthetics_alarm_name", "synthetics_metric"]
