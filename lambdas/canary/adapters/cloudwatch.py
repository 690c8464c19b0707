"""Adapter: one target group's ALB metrics per period from CloudWatch GetMetricData (ANALYSIS.json series)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig

SERIES = (
    ("RequestCount", "RequestCount", "Sum"),
    ("HTTPCode_Target_5XX_Count", "HTTPCode_Target_5XX_Count", "Sum"),
    ("TargetResponseTime_p99", "TargetResponseTime", "p99"),
)


class AlbMetrics:
    def __init__(self, config: EnvironmentConfig, *, client: Any | None = None) -> None:
        self._load_balancer = config.lms.load_balancer
        self._client = client

    def series(
        self, target_group: str, *, start: datetime, end: datetime, period_seconds: int
    ) -> dict[str, list[float | None]]:
        """One value per period from ``start`` (the weight change), oldest first; None where CloudWatch had none."""
        cloudwatch = self._client or aws.client("cloudwatch")
        periods = max(1, int((end - start).total_seconds()) // period_seconds)
        slots = [start + timedelta(seconds=i * period_seconds) for i in range(periods)]
        queries = [
            {
                "Id": f"m{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "TargetGroup", "Value": target_group},
                            {"Name": "LoadBalancer", "Value": self._load_balancer},
                        ],
                    },
                    "Period": period_seconds,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
            for index, (_, metric, stat) in enumerate(SERIES)
        ]
        found: dict[str, dict[datetime, float]] = {f"m{i}": {} for i in range(len(SERIES))}
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": start + timedelta(seconds=periods * period_seconds),
            "ScanBy": "TimestampAscending",
        }
        while True:
            answer = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                    found[result["Id"]][stamp] = float(value)
            token = answer.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        return {name: _align(found[f"m{i}"], slots, period_seconds) for i, (name, _, _) in enumerate(SERIES)}


def _align(values: dict[datetime, float], slots: list[datetime], period_seconds: int) -> list[float | None]:
    aligned: list[float | None] = []
    for slot in slots:
        inside = [v for stamp, v in values.items() if slot <= stamp < slot + timedelta(seconds=period_seconds)]
        aligned.append(inside[0] if inside else None)
    return aligned
