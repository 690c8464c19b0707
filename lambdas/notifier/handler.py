"""Notifier: tell the right people about deployment events in Slack and by email, once.

EventBridge (asynchronous): CodeDeploy/ECS state changes and Tollgate's announcements. A failed delivery raises
NotificationDeliveryError: Lambda retries, then keeps the event in the dead-letter queue (decision 0050).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, metrics
from lambdas.notifier.adapters.slack_client import RetryPolicy
from lambdas.notifier.adapters.wiring import aws_ports
from lambdas.notifier.notification import Notification
from lambdas.notifier.notify import NotifierPorts, budget_for, notify
from lambdas.notifier.settings import notifier_settings
from lambdas.notifier.sources import notification_from_event


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    return process_event(event, context)


def process_event(
    event: Any,
    context: Any | None = None,
    *,
    slack_retry: RetryPolicy | None = None,
    ports: NotifierPorts | None = None,
) -> dict[str, Any]:
    """Handle one EventBridge event in-process (the Lambda handler, the local replay, the bench, the tests)."""
    settings = notifier_settings()
    parsed = notification_from_event(event, settings.config)
    if isinstance(parsed, Notification):  # ``service`` is Powertools' key (the function's name)
        logger.append_keys(event_id=parsed.event_id, deployment_id=parsed.deployment_id, lms_service=parsed.service)
    ports = ports or aws_ports(settings, slack_retry)
    result = notify(parsed, settings.config, ports, budget_for(context, ports.clock))
    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=result.sent)
    return result.as_dict()
