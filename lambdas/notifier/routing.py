"""Who hears about a notification: the environment's alert routes, matched on severity (pure)."""

from __future__ import annotations

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.notifier.notification import NEVER_EMAILED, Delivery, DeliveryChannel, Notification, NotificationKind


def route_notification(notification: Notification, config: EnvironmentConfig) -> list[Delivery]:
    """Deliveries for every route whose severities include the notification's.

    A Slack channel named by several matching routes gets one message; every matching route's emails
    go out as one email (one SNS publish whose ``recipient`` attribute lists them, see adapters/sns_email.py).

    An alarm that joined a rollback (info) goes where the rollback's page went, the channels of the
    critical routes, to be threaded under the deployment's message there; it is never emailed
    (CONTRACTS.md: one page per rollback).
    """
    routed_on = Severity.CRITICAL if notification.kind is NotificationKind.ROLLBACK_JOINED else notification.severity
    channels: list[str] = []
    emails: list[str] = []
    for route in config.alerts.routes:
        if routed_on not in route.severities:
            continue
        if route.slack_channel and route.slack_channel not in channels:
            channels.append(route.slack_channel)
        emails.extend(address for address in route.emails if address not in emails)
    deliveries = [Delivery(channel=DeliveryChannel.SLACK, to=(channel,)) for channel in channels]
    if emails and notification.kind not in NEVER_EMAILED:
        deliveries.append(Delivery(channel=DeliveryChannel.EMAIL, to=tuple(emails)))
    return deliveries
