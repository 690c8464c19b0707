"""Adapter: the new target group's raw ALB metrics from CloudWatch GetMetricData."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.errors import error_code
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import MetricsError, OutOfTimeError
from lambdas.hooks.metric_gate import TargetGroupMetrics


def _query(query_id: str, metric: str, stat: str, *, load_balancer: str, target_group: str, period: int) -> Any:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": metric,
                "Dimensions": [
                    {"Name": "TargetGroup", "Value": target_group},
                    {"Name": "LoadBalancer", "Value": load_balancer},
                ],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def fetch_target_group_metrics(
    *,
    load_balancer: str,
    target_group: str,
    start: datetime,
    end: datetime,
    deadline: Deadline,
    client: Any | None = None,
) -> TargetGroupMetrics:
    """Request count, target 5xx count and p99 response time over [start, end).

    One period spans the whole window, so the p99 is the window's p99 (not a max of per-minute p99s).
    """
    window_seconds = int((end - start).total_seconds())
    period = max(60, window_seconds - window_seconds % 60)
    queries = [
        _query(query_id, metric, stat, load_balancer=load_balancer, target_group=target_group, period=period)
        for query_id, metric, stat in (
            ("requests", "RequestCount", "Sum"),
            ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
            ("latency", "TargetResponseTime", "p99"),
        )
    ]
    values: dict[str, list[float]] = {"requests": [], "errors": [], "latency": []}
    request: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
    try:
        while True:
            cloudwatch = client or budgeted_client("cloudwatch", deadline)
            answer = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                values[result["Id"]].extend(float(v) for v in result.get("Values", []) if v is not None)
            token = answer.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    except (ClientError, BotoCoreError, OutOfTimeError) as error:
        raise MetricsError(f"GetMetricData for {target_group}: {error_code(error)}") from error
    latency = values["latency"]
    return TargetGroupMetrics(
        target_group=target_group,
        requests=sum(values["requests"]),
        errors_5xx=sum(values["errors"]),
        # TargetResponseTime is in seconds; the worst period's p99 if the window spans several.
        p99_latency_ms=max(latency) * 1000 if latency else None,
        window_minutes=max(1, window_seconds // 60),
    )


class CloudWatchMetrics:
    """The MetricsReader port on CloudWatch."""

    def target_group_metrics(
        self, *, load_balancer: str, target_group: str, start: datetime, end: datetime, deadline: Deadline
    ) -> TargetGroupMetrics:
        return fetch_target_group_metrics(
            load_balancer=load_balancer, target_group=target_group, start=start, end=end, deadline=deadline
        )
