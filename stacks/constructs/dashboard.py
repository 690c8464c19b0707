"""One CloudWatch dashboard per environment: deployments, rollbacks, canary steps, the pipeline metrics,
synthetics, and Tollgate's own errors and dead-letter queue depth."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, aws_cloudwatch, aws_lambda
from constructs import Construct

from lambdas.core.config import EnvironmentConfig
from lambdas.ledger.adapters.emf import ENVIRONMENT_DIMENSION, SERVICE_DIMENSION
from lambdas.ledger.metrics import BUILDS
from lambdas.ledger.publish import PIPELINE_NAMESPACE
from lambdas.synthetics.model import LATENCY_METRIC, SUCCESS_METRIC
from stacks.constructs.shared import SharedResources
from stacks.constructs.synthetics import synthetics_metric

WIDTH = 12
HEIGHT = 6


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedResources,
        config: EnvironmentConfig,
        functions: Sequence[aws_lambda.Function],
        synthetics_alarms: Sequence[aws_cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        period = Duration.minutes(config.records.metrics_every_minutes)
        services = list(config.lms.services)
        self.dashboard = aws_cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"tollgate-{config.name}", default_interval=Duration.days(7)
        )
        graphs: list[aws_cloudwatch.IWidget] = [
            self._graph("Deployments (finished, 7 days)", "DeploymentCount", services, period),
            self._graph("Rollbacks", "RollbackCount", services, period),
            self._graph("Canary steps", "CanaryStepCount", services, period),
            self._graph("Deployment frequency (per day)", "DeploymentFrequency", services, period),
            self._graph("Lead time for changes (s, commit -> live)", "LeadTimeSeconds", services, period),
            self._graph("Change failure rate (%)", "ChangeFailureRate", services, period),
            self._graph("Time to restore (s)", "TimeToRestoreSeconds", services, period),
            self._graph("Build success rate (%)", "BuildSuccessRate", [BUILDS], period),
            self._graph("Build time (s)", "BuildDurationSeconds", [BUILDS], period),
            aws_cloudwatch.GraphWidget(
                title="Synthetics: success (1 = every flow passed)",
                left=[synthetics_metric(config, s, SUCCESS_METRIC, "Minimum") for s in services],
                width=WIDTH,
                height=HEIGHT,
            ),
            aws_cloudwatch.GraphWidget(
                title="Synthetics: slowest flow (ms)",
                left=[synthetics_metric(config, s, LATENCY_METRIC, "Maximum") for s in services],
                width=WIDTH,
                height=HEIGHT,
            ),
            aws_cloudwatch.GraphWidget(
                title="Tollgate's own errors",
                left=[f.metric_errors(period=Duration.minutes(5), statistic="Sum") for f in functions],
                width=WIDTH,
                height=HEIGHT,
            ),
            aws_cloudwatch.GraphWidget(
                title="Dead-letter queue depth",
                left=[
                    shared.dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5))
                ],
                width=WIDTH,
                height=HEIGHT,
            ),
        ]
        if synthetics_alarms:
            graphs.append(
                aws_cloudwatch.AlarmStatusWidget(
                    title="Synthetics alarms", alarms=list(synthetics_alarms), width=WIDTH, height=HEIGHT
                )
            )
        for start in range(0, len(graphs), 2):
            self.dashboard.add_widgets(*graphs[start : start + 2])

    def _graph(self, title: str, metric: str, services: Sequence[str], period: Duration) -> aws_cloudwatch.GraphWidget:
        return aws_cloudwatch.GraphWidget(
            title=title,
            left=[
                aws_cloudwatch.Metric(
                    namespace=PIPELINE_NAMESPACE,
                    metric_name=metric,
                    dimensions_map={ENVIRONMENT_DIMENSION: self._config.name, SERVICE_DIMENSION: service},
                    statistic="Maximum",
                    period=period,
                    label=service,
                )
                for service in services
            ],
            width=WIDTH,
            height=HEIGHT,
        )
