"""Who hears about a notification: the environment's alert routes, matched on severity."""

from __future__ import annotations

from lambdas.core.config import EnvironmentConfig
from lambdas.notifier.notification import Delivery, DeliveryChannel, Notification


def route_notification(notification: Notification, config: EnvironmentConfig) -> list[Delivery]:
    """Deliveries for every route whose severities include the notification's.

    A Slack channel named by several matching routes gets one message; every matching route's emails
    go out as one email (one SNS publish whose ``recipient`` attribute lists them, see sns_email.py).
    """
    channels: list[str] = []
    emails: list[str] = []
    for route in config.alerts.routes:
        if notification.severity not in route.severities:
            continue
        if route.slack_channel and route.slack_channel not in channels:
            channels.append(route.slack_channel)
        emails.extend(address for address in route.emails if address not in emails)
    deliveries = [Delivery(channel=DeliveryChannel.SLACK, to=(channel,)) for channel in channels]
    if emails:
        deliveries.append(Delivery(channel=DeliveryChannel.EMAIL, to=tuple(emails)))
    return deliveries
