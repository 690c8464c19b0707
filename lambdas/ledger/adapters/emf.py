"""Adapter: metrics as CloudWatch embedded metric format (EMF) through Powertools Metrics.

Lambda sends what a function prints to CloudWatch Logs, and CloudWatch extracts EMF documents into
metrics asynchronously: no PutMetricData call, no cloudwatch:PutMetricData permission
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
Powertools adds a ``service`` dimension from POWERTOOLS_SERVICE_NAME unless one is given; Tollgate gives
the LMS service, so every metric's dimensions are exactly ``{Environment, service}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

ENVIRONMENT_DIMENSION = "Environment"
SERVICE_DIMENSION = "service"
UNITS = {
    "Count": MetricUnit.Count,
    "Seconds": MetricUnit.Seconds,
    "Percent": MetricUnit.Percent,
    "Milliseconds": MetricUnit.Milliseconds,
}


class EmfMetrics:
    """Writes one EMF document per (environment, service) with every value given."""

    def __init__(self, namespace: str, *, write: Callable[[str], None] | None = None) -> None:
        self._namespace = namespace
        self._write = write

    def publish(self, *, environment: str, service: str, values: Mapping[str, tuple[str, float]]) -> None:
        metrics = EphemeralMetrics(namespace=self._namespace, service=service)
        metrics.add_dimension(name=ENVIRONMENT_DIMENSION, value=environment)
        for name, (unit, value) in values.items():
            metrics.add_metric(name=name, unit=UNITS[unit], value=value)
        if self._write is None:
            metrics.flush_metrics()  # prints the EMF document: Lambda ships stdout to CloudWatch Logs
            return
        document = metrics.serialize_metric_set()
        metrics.clear_metrics()
        import json  # noqa: PLC0415 - only for tests and local runs that capture the document

        self._write(json.dumps(document))
