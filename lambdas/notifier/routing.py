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


# With only a webhook (no chat.update), Slack hears only these: start, outcome, failure, rollback and
# approval-needed; nothing per hook (docs/decisions/0100-living-slack-message.md).
WEBHOOK_KINDS = frozenset(
    {
        NotificationKind.DEPLOYMENT_STARTED,
        NotificationKind.DEPLOYMENT_SUCCEEDED,
        NotificationKind.DEPLOYMENT_STOPPED,
        NotificationKind.DEPLOYMENT_FAILED,
        NotificationKind.DEPLOYMENT_ROLLING_BACK,
        NotificationKind.CANARY_STEP_FAILED,
        NotificationKind.CANARY_ABORTED,
        NotificationKind.ROLLBACK_STARTED,
        NotificationKind.ROLLBACK_RESTORED,
        NotificationKind.ROLLBACK_SKIPPED,
        NotificationKind.OPERATOR_ROLLBACK_REQUESTED,
        NotificationKind.APPROVAL_NEEDED,
    }
)


def plan_deliveries(notification: Notification, config: EnvironmentConfig) -> list[Delivery]:
    """The routed deliveries, reshaped for Slack's two ways in.

    - Bot token and a deployment: the living-message channel gets one ``SLACK_LIVING`` delivery (update the
      deployment's message, reply the details in its thread) instead of a post of its own; when the
      notification was routed to that channel as a warning or critical, the reply is broadcast to it.
      Other routed channels and email are as ``route_notification`` says (alerts, approvals, rollbacks).
    - Webhook only: Slack gets only ``WEBHOOK_KINDS`` (and critical alarms, which are failures); email as routed.
    """
    routed = route_notification(notification, config)
    alerts = config.alerts
    if not alerts.slack_bot_token_secret:
        if notification.kind in WEBHOOK_KINDS or (
            notification.kind is NotificationKind.ALARM and notification.severity is Severity.CRITICAL
        ):
            return routed
        return [d for d in routed if d.channel is not DeliveryChannel.SLACK]
    living = alerts.living_route()
    if not notification.deployment_id or living is None or not living.slack_channel:
        return routed
    channel = living.slack_channel
    in_channel = any(d.channel is DeliveryChannel.SLACK and d.to == (channel,) for d in routed)
    broadcast = in_channel and notification.severity is not Severity.INFO
    others = [d for d in routed if not (d.channel is DeliveryChannel.SLACK and d.to == (channel,))]
    return [*others, Delivery(channel=DeliveryChannel.SLACK_LIVING, to=(channel,), broadcast=broadcast)]
