"""Notifier: tell the right people about deployment events in Slack and by email, once.

Triggers (EventBridge): CodeDeploy Deployment State-change Notification and ECS Deployment State
Change on the default bus; every Tollgate event on Tollgate's bus.

Never doubled: the whole event is idempotent on its EventBridge ``id`` (Powertools idempotency,
TOLLGATE_IDEMPOTENCY_TABLE), and each delivery (one Slack channel, one email) is recorded in the
state table once sent, so a retry after a partial failure sends only what did not go out.

Never lost: every delivery is attempted even when an earlier one failed (Slack down does not stop
the email); failures are recorded, then the handler raises ``NotificationDeliveryError``. The raise
makes Powertools forget the idempotency record and Lambda retry the asynchronous invocation (twice),
then hand the event to the dead-letter queue, where it is kept for a redrive. We chose this over an
SQS retry queue: it needs no extra resource and EventBridge already invokes asynchronously.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.observability import logger, metrics
from lambdas.core.settings import FunctionSettings, settings
from lambdas.notifier.codedeploy_revision import deployed_version
from lambdas.notifier.delivery_ledger import DeliveryLedger, LedgerError
from lambdas.notifier.email_message import build_email
from lambdas.notifier.notification import Delivery, DeliveryChannel, IgnoredEvent, Notification
from lambdas.notifier.routing import route_notification
from lambdas.notifier.slack_client import (
    RetryPolicy,
    SlackBotSender,
    SlackDeliveryError,
    SlackHttp,
    SlackWebhookSender,
)
from lambdas.notifier.slack_message import build_slack_message
from lambdas.notifier.slack_secrets import SlackSecretError, bot_token, webhook_urls
from lambdas.notifier.sns_email import EmailDeliveryError, send_email
from lambdas.notifier.sources import notification_from_event

IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600
# Time kept back from Slack retries to record the outcome and return before Lambda's timeout.
SAFETY_MARGIN_SECONDS = 3.0
# Without a Lambda context (in-process callers), retries may take this long.
DEFAULT_TIME_BUDGET_SECONDS = 30.0

_DELIVERY_ERRORS = (SlackDeliveryError, SlackSecretError, EmailDeliveryError)


class NotifierSetupError(Exception):
    """The function lacks a setting it cannot work without."""


class NotificationDeliveryError(Exception):
    """Some deliveries failed (the others went out and are recorded); raised so the event is retried."""


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_event(event, context)


def process_event(
    event: dict[str, Any], context: Any | None = None, *, slack_retry: RetryPolicy | None = None
) -> dict[str, Any]:
    """Handle one EventBridge event in-process (the Lambda handler, the local replay and the bench)."""
    function_settings = settings()
    config = function_settings.config
    parsed = notification_from_event(event, config)
    if isinstance(parsed, IgnoredEvent):
        logger.info("event ignored", extra={"reason": parsed.reason, "event_id": event.get("id")})
        return {"decision": "ignored", "reason": parsed.reason}
    logger.append_keys(
        event_id=parsed.event_id,
        deployment_id=parsed.deployment_id,
        service=parsed.service,
        environment=parsed.environment,
    )
    deliver_once = idempotent_function(
        data_keyword_argument="event",
        persistence_store=DynamoDBPersistenceLayer(
            table_name=_required(function_settings.idempotency_table, "TOLLGATE_IDEMPOTENCY_TABLE"),
            boto3_client=aws.client("dynamodb"),
        ),
        config=_idempotency_config(context),
    )(_deliver_notification)
    result: dict[str, Any] = deliver_once(
        event=event,
        notification=parsed,
        function_settings=function_settings,
        deadline=_deadline(context),
        slack_retry=slack_retry or RetryPolicy(),
    )
    return result


def _deliver_notification(
    *,
    event: dict[str, Any],
    notification: Notification,
    function_settings: FunctionSettings,
    deadline: float,
    slack_retry: RetryPolicy,
) -> dict[str, Any]:
    config = function_settings.config
    notification = _with_version(notification)
    deliveries = route_notification(notification, config)
    if not deliveries:
        reason = f"no alert route for {notification.severity.value} in {config.name}"
        logger.info("notification not routed", extra={"reason": reason})
        return {"decision": "not_routed", "reason": reason, "notification": _describe(notification)}
    ledger = DeliveryLedger(_required(function_settings.state_table, "TOLLGATE_STATE_TABLE"))
    slack = _LazySlack(function_settings, config, SlackHttp(deadline=deadline, retry=slack_retry))
    outcomes = []
    for delivery in deliveries:
        outcome = _deliver(delivery, notification, function_settings, ledger, slack)
        outcomes.append(outcome)
    failed = [o for o in outcomes if o["status"] == "failed"]
    sent = [o for o in outcomes if o["status"] == "sent"]
    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=len(sent))
    if failed:
        metrics.add_metric(name="NotificationDeliveriesFailed", unit=MetricUnit.Count, value=len(failed))
        summary = "; ".join(f"{o['channel']} {o['to']}: {o['error']}" for o in failed)
        logger.error("deliveries failed; raising so the event is retried", extra={"failed": failed})
        raise NotificationDeliveryError(f"{len(failed)} of {len(outcomes)} deliveries failed: {summary}")
    reason = f"{notification.severity.value} {notification.kind.value} sent to " + ", ".join(
        f"{o['channel']} {o['to']}" for o in outcomes
    )
    logger.info("notification delivered", extra={"deliveries": outcomes})
    return {"decision": "notified", "reason": reason, "notification": _describe(notification), "deliveries": outcomes}


def _deliver(
    delivery: Delivery,
    notification: Notification,
    function_settings: FunctionSettings,
    ledger: DeliveryLedger,
    slack: _LazySlack,
) -> dict[str, str]:
    outcome = {"channel": delivery.channel.value, "to": ", ".join(delivery.to)}
    now = datetime.now(UTC)
    if ledger.already_sent(notification.event_id, delivery):
        return {**outcome, "status": "already_sent"}
    try:
        if delivery.channel is DeliveryChannel.SLACK:
            receipt = slack.send(delivery.to[0], notification, ledger=ledger, now=now)
        else:
            receipt = send_email(
                build_email(notification),
                recipients=delivery.to,
                topic_arn=_required(function_settings.alert_topic_arn, "TOLLGATE_ALERT_TOPIC_ARN"),
                environment=notification.environment,
                severity=notification.severity.value,
            )
    except _DELIVERY_ERRORS as error:
        ledger.record_failed(notification.event_id, delivery, now=now, error=str(error))
        logger.warning("delivery failed", extra={"delivery": delivery.key, "error": str(error)})
        return {**outcome, "status": "failed", "error": str(error)}
    ledger.record_sent(notification.event_id, delivery, now=now, receipt=receipt)
    return {**outcome, "status": "sent"}


class _LazySlack:
    """Reads the Slack secret only when a Slack delivery is due; bot token (threads) over webhooks."""

    def __init__(self, function_settings: FunctionSettings, config: EnvironmentConfig, http: SlackHttp) -> None:
        self._settings = function_settings
        self._config = config
        self._http = http
        self._sender: SlackBotSender | SlackWebhookSender | None = None

    def _get_sender(self) -> SlackBotSender | SlackWebhookSender:
        if self._sender is None:
            alerts = self._config.alerts
            if alerts.slack_bot_token_secret:
                token = bot_token(alerts.slack_bot_token_secret)
                self._sender = SlackBotSender(self._http, token, self._settings.slack_api_url)
            else:
                self._sender = SlackWebhookSender(self._http, webhook_urls(alerts.slack_webhook_secret))
        return self._sender

    def send(self, channel: str, notification: Notification, *, ledger: DeliveryLedger, now: datetime) -> str | None:
        sender = self._get_sender()
        deployment_id = notification.deployment_id if sender.uses_threads else None
        thread_ts = ledger.thread_ts(deployment_id, channel) if deployment_id else None
        ts = sender.post(
            channel,
            build_slack_message(notification),
            thread_ts=thread_ts,
            # A critical reply also shows in the channel, not only inside the thread.
            broadcast=notification.severity is Severity.CRITICAL,
        )
        if deployment_id and ts and thread_ts is None:
            try:
                ledger.remember_thread(deployment_id, channel, ts, now=now)
            except LedgerError:
                # The message went out; losing the thread only costs threading of later messages.
                logger.warning("could not remember the Slack thread", extra={"channel": channel})
        return ts


def _with_version(notification: Notification) -> Notification:
    """Ask CodeDeploy what a deployment deploys when the event did not say."""
    if notification.version or not (notification.deployment_id or "").startswith("d-"):
        return notification
    version = deployed_version(str(notification.deployment_id))
    return notification.model_copy(update={"version": version}) if version else notification


def _idempotency_config(context: Any | None) -> IdempotencyConfig:
    config = IdempotencyConfig(
        event_key_jmespath="id",
        expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
        raise_on_no_idempotency_key=True,
        response_hook=_mark_duplicate,
    )
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        config.register_lambda_context(context)
    return config


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """A repeated event returns the first answer, marked so the replay report shows it sent nothing."""
    if not isinstance(response, dict):
        return response
    return {**response, "decision": "duplicate", "reason": f"already handled: {response.get('reason', '')}"}


def _deadline(context: Any | None) -> float:
    remaining = DEFAULT_TIME_BUDGET_SECONDS
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = context.get_remaining_time_in_millis() / 1000
    return time.monotonic() + max(0.0, remaining - SAFETY_MARGIN_SECONDS)


def _describe(notification: Notification) -> dict[str, Any]:
    return {
        "kind": notification.kind.value,
        "severity": notification.severity.value,
        "environment": notification.environment,
        "service": notification.service,
        "deployment_id": notification.deployment_id,
        "summary": notification.summary(),
    }


def _required(value: str | None, name: str) -> str:
    if not value:
        raise NotifierSetupError(f"the notifier needs {name}")
    return value
