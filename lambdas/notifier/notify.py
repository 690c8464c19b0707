"""Use case: deliver one notification on every routed channel, each delivery once (ports only, no boto3).

Each delivery is a lease in the ledger: claim -> send -> record the outcome (docs/decisions/0050-deliveries.md).
- Slack is at most once: a delivery whose earlier attempt died after claiming (or whose answer was
  unreadable) is not posted again; only a failure that proves nothing was posted is retried.
- Email is at least once: an abandoned claim is sent again, and a ledger that cannot be written does
  not stop the email.
- A failure of one delivery never stops another; the ledger failing is never a reason to post twice.
- With a bot token, a deployment's event updates its one living message (``_living``): the update at least
  once (``chat.update`` is idempotent), the thread reply at most once, the message's creation once
  (docs/decisions/0100-living-slack-message.md). A kind with no thread reply (START, alarms) has nothing at
  most once, so it takes no delivery claim (``_update_only``): the record keeps it once.
Failed deliveries are given back and ``NotificationDeliveryError`` is raised, so Lambda retries the event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.errors import StateTableError
from lambdas.core.observability import logger
from lambdas.notifier.email_message import build_email
from lambdas.notifier.errors import (
    EmailDeliveryError,
    NotificationDeliveryError,
    SlackDeliveryError,
    SlackUnconfirmedError,
)
from lambdas.notifier.living_message import (
    METADATA_EVENT_TYPE,
    NO_THREAD_REPLY,
    DeploymentStatus,
    new_status,
)
from lambdas.notifier.living_message import apply as apply_status
from lambdas.notifier.living_message import metadata as living_metadata
from lambdas.notifier.living_message import render as render_status
from lambdas.notifier.notification import Delivery, DeliveryChannel, IgnoredEvent, Notification
from lambdas.notifier.ports import (
    ClaimOutcome,
    Clock,
    CreationOutcome,
    DeliveryClaim,
    DeliveryLedger,
    EmailSender,
    LivingMessages,
    LivingRecord,
    RevisionLookup,
    SlackConnector,
    SlackSender,
    SlackWebApi,
)
from lambdas.notifier.routing import plan_deliveries, route_notification
from lambdas.notifier.slack_message import build_slack_message

SENT, FAILED, UNCONFIRMED = "sent", "failed", "unconfirmed"
# Email first (it is the page), then the routed Slack channels, then the living message.
_ORDER = {DeliveryChannel.EMAIL: 0, DeliveryChannel.SLACK: 1, DeliveryChannel.SLACK_LIVING: 2}
SAFETY_MARGIN_SECONDS = 3.0  # kept back from Slack retries to record the outcome and return in time
DEFAULT_TIME_BUDGET_SECONDS = 30.0  # without a Lambda context (in-process callers)


@dataclass(frozen=True)
class NotifierPorts:
    ledger: DeliveryLedger
    slack: SlackConnector
    email: EmailSender
    revisions: RevisionLookup
    clock: Clock
    living: LivingMessages


@dataclass(frozen=True)
class Budget:
    """The invocation's time: ``deadline`` on the clock's monotonic scale, and how long a lease lasts."""

    deadline: float
    lease: timedelta
    owner: str


def budget_for(context: Any | None, clock: Clock) -> Budget:
    """The invocation's time from its Lambda context. A delivery's lease lasts as long as the invocation
    can: once it has timed out its lease has run out, and Lambda's retry (a minute or more later) takes over."""
    remaining = DEFAULT_TIME_BUDGET_SECONDS
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = context.get_remaining_time_in_millis() / 1000
    owner = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    deadline = clock.monotonic() + max(0.0, remaining - SAFETY_MARGIN_SECONDS)
    return Budget(deadline=deadline, lease=timedelta(seconds=max(1.0, remaining)), owner=owner)


@dataclass
class NotifyResult:
    decision: str
    reason: str
    notification: dict[str, Any] | None = None
    deliveries: list[dict[str, str]] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if d["status"] == SENT)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision": self.decision, "reason": self.reason}
        if self.notification is not None:
            out["notification"] = self.notification
        if self.deliveries:
            out["deliveries"] = self.deliveries
        return out


def notify(
    parsed: Notification | IgnoredEvent, config: EnvironmentConfig, ports: NotifierPorts, budget: Budget
) -> NotifyResult:
    if isinstance(parsed, IgnoredEvent):
        logger.info("event ignored", extra={"reason": parsed.reason})
        return NotifyResult("ignored", parsed.reason)
    notification = _with_version(parsed, ports.revisions)
    deliveries = plan_deliveries(notification, config)
    if not deliveries:
        reason = f"no alert route for {notification.severity.value} in {config.name}"
        if route_notification(notification, config):
            reason = f"{notification.kind.value} is not posted to Slack with only a webhook (and emails nobody)"
        logger.info("notification not routed", extra={"reason": reason})
        return NotifyResult("not_routed", reason, describe(notification))
    run = _Run(notification, ports, budget, config)
    # Email first: it is the page, and nothing Slack does (hanging until the deadline) may delay it.
    by_key = {d.key: run.deliver(d) for d in sorted(deliveries, key=lambda d: _ORDER[d.channel])}
    outcomes = [by_key[d.key] for d in deliveries]
    failed = [o for o in outcomes if o["status"] == FAILED]
    if failed:
        summary = "; ".join(f"{o['channel']} {o['to']}: {o['error']}" for o in failed)
        logger.error("deliveries failed; raising so the event is retried", extra={"failed": failed})
        raise NotificationDeliveryError(f"{len(failed)} of {len(outcomes)} deliveries failed: {summary}")
    describe_notification = describe(notification)
    if all(o["status"] in ("already_sent", "in_flight") for o in outcomes):
        reason = "already handled: " + ", ".join(f"{o['channel']} {o['to']} {o['status']}" for o in outcomes)
        return NotifyResult("duplicate", reason, describe_notification, outcomes)
    reason = f"{notification.severity.value} {notification.kind.value} sent to " + ", ".join(
        f"{o['channel']} {o['to']}" for o in outcomes
    )
    logger.info("notification delivered", extra={"deliveries": outcomes})
    return NotifyResult("notified", reason, describe_notification, outcomes)


# What a delivery answers instead of sending, when its claim says another attempt did or is doing it.
_SETTLED = {ClaimOutcome.DONE: ("already_sent", ""), ClaimOutcome.IN_FLIGHT: ("in_flight", "")}


def _not_sending(claim: DeliveryClaim | None) -> tuple[str, str]:
    """The answer of a delivery that is not sent: settled by its claim, or unclaimed (the state table failed:
    a Slack post is then not made and fails, so Lambda's retry claims it again)."""
    if claim is None:
        return FAILED, "the delivery could not be claimed (state table); not posted, to be retried"
    return _SETTLED[claim.outcome]


_SAVE_ATTEMPTS = 8  # conditional writes lost to concurrent events, or waits for the message being created
_HELD_WAIT_SECONDS = 0.5


class _CreationHeldError(Exception):
    """Another invocation holds the lease on creating the deployment's message."""


def _status_of(record: LivingRecord | None, notification: Notification) -> DeploymentStatus:
    if record is None or not record.status:
        return new_status(notification)
    try:
        return DeploymentStatus.from_json(record.status)
    except ValueError:
        logger.warning("unreadable living-message status; starting afresh", extra={"deployment": record.deployment_id})
        return new_status(notification)


class _Run:
    def __init__(
        self, notification: Notification, ports: NotifierPorts, budget: Budget, config: EnvironmentConfig
    ) -> None:
        self._config = config
        self._buttons = bool(config.alerts.slack_signing_secret)
        self._notification = notification
        self._ports = ports
        self._budget = budget
        self._sender: SlackSender | None = None

    def deliver(self, delivery: Delivery) -> dict[str, str]:
        outcome = {"channel": delivery.channel.value, "to": ", ".join(delivery.to)}
        try:
            status, detail = self._deliver(delivery)
        except Exception as error:  # a bug in one delivery must not stop the others
            logger.exception("delivery crashed", extra={"delivery": delivery.key})
            status, detail = FAILED, f"{type(error).__name__}: {error}"
        if status == FAILED:
            logger.warning("delivery failed", extra={"delivery": delivery.key, "error": detail})
            return {**outcome, "status": status, "error": detail}
        return {**outcome, "status": status}

    def _deliver(self, delivery: Delivery) -> tuple[str, str]:
        if delivery.channel is DeliveryChannel.EMAIL:
            return self._email(delivery)
        if delivery.channel is DeliveryChannel.SLACK_LIVING:
            return self._living(delivery)
        return self._slack(delivery)

    # -- email: at least once ----------------------------------------------------------------------
    def _email(self, delivery: Delivery) -> tuple[str, str]:
        claim = self._claim(delivery)
        if claim is not None and claim.outcome in _SETTLED:  # an email whose claim failed is sent unguarded
            return _not_sending(claim)
        notification = self._notification
        try:
            receipt = self._ports.email.send(
                build_email(notification),
                recipients=delivery.to,
                environment=notification.environment,
                severity=notification.severity.value,
            )
        except EmailDeliveryError as error:
            self._give_back(claim, str(error))
            return FAILED, str(error)
        self._complete(claim, SENT, receipt)
        return SENT, receipt

    # -- Slack: at most once -------------------------------------------------------------------------
    def _slack(self, delivery: Delivery) -> tuple[str, str]:
        channel = delivery.to[0]
        notification = self._notification
        try:
            sender = self._slack_sender()
        except SlackDeliveryError as error:  # the secret: nothing claimed yet, a retry may post
            return FAILED, str(error)
        deployment_id = notification.deployment_id if sender.uses_threads else None
        thread_ts = self._thread(deployment_id, channel)
        message = build_slack_message(notification)  # before the claim: nothing between claim and post
        claim = self._claim(delivery)
        if claim is None or claim.outcome in _SETTLED:
            return _not_sending(claim)
        if claim.outcome is ClaimOutcome.ABANDONED:
            detail = "an earlier attempt died after claiming and may have posted: not posted again (at most once)"
            logger.warning("Slack delivery abandoned earlier; not reposting", extra={"delivery": delivery.key})
            self._complete(claim, UNCONFIRMED, detail)
            return UNCONFIRMED, detail
        try:
            ts = sender.post(
                channel,
                message,
                thread_ts=thread_ts,
                # A critical reply also shows in the channel, not only inside the thread.
                broadcast=notification.severity is Severity.CRITICAL,
            )
        except SlackUnconfirmedError as error:
            self._complete(claim, UNCONFIRMED, str(error))
            return UNCONFIRMED, str(error)
        except SlackDeliveryError as error:
            self._give_back(claim, str(error))
            return FAILED, str(error)
        except Exception as error:  # unknown: it may have posted, so never again
            self._complete(claim, UNCONFIRMED, f"{type(error).__name__}: {error}")
            return UNCONFIRMED, f"{type(error).__name__}: {error}"
        self._complete(claim, SENT, ts or "")
        if deployment_id and ts and thread_ts is None:
            try:
                self._ports.ledger.remember_thread(deployment_id, channel, ts, now=self._ports.clock.now())
            except StateTableError:
                # The message went out; losing the thread only costs threading of later messages.
                logger.warning("could not remember the Slack thread", extra={"channel": channel})
        return SENT, ts or ""

    # -- the living message: updates at least once, posts at most once ------------------------------------
    def _living(self, delivery: Delivery) -> tuple[str, str]:
        """Update the deployment's message (creating it once), then reply this event's details in its thread.

        The update re-renders a status each event is applied to once, so repeating it is harmless: an
        abandoned claim updates again. The thread reply is at most once, like any Slack post.
        """
        notification = self._notification
        channel = delivery.to[0]
        channel_id = self._config.alerts.channel_id(channel) or channel
        try:
            sender = self._slack_sender()
        except SlackDeliveryError as error:
            return FAILED, str(error)
        if not isinstance(sender, SlackWebApi):
            return FAILED, "the living message needs the Slack Web API (a bot token)"
        if notification.kind in NO_THREAD_REPLY:
            return self._update_only(sender, channel_id)
        claim = self._claim(delivery)
        if claim is None or claim.outcome in _SETTLED:
            return _not_sending(claim)
        try:
            ts, _ = self._living_message(sender, channel_id)
        except (SlackDeliveryError, StateTableError, _CreationHeldError) as error:
            self._give_back(claim, str(error))
            return FAILED, str(error)
        except SlackUnconfirmedError as error:  # the post may have landed: a later event takes over and looks
            self._complete(claim, UNCONFIRMED, str(error))
            return UNCONFIRMED, str(error)
        if claim.outcome is ClaimOutcome.ABANDONED:
            detail = "message updated; the thread reply may have been posted by the attempt that died: not again"
            self._complete(claim, UNCONFIRMED, detail)
            return UNCONFIRMED, detail
        try:
            sender.post_message(
                channel_id, build_slack_message(notification), thread_ts=ts, broadcast=delivery.broadcast
            )
        except SlackDeliveryError as error:  # the retry updates again (same status) and replies
            self._give_back(claim, str(error))
            return FAILED, str(error)
        except Exception as error:  # unknown: the reply may have been posted, so never again
            self._complete(claim, UNCONFIRMED, f"{type(error).__name__}: {error}")
            return UNCONFIRMED, f"{type(error).__name__}: {error}"
        self._complete(claim, SENT, ts)
        return SENT, ts

    def _update_only(self, sender: SlackWebApi, channel: str) -> tuple[str, str]:
        """An event shown only in the message (no thread reply: START, alarms), without a delivery claim.

        Nothing here is at most once, so nothing needs the claim: the record applies each event once (its seen
        ids) and orders concurrent events (the conditional save), the creation has its own lease, and
        ``chat.update`` is idempotent. A retry, or a duplicate, finds the event applied and updates the message
        again: killed between the save and the update, the retry still shows it.
        """
        try:
            ts, applied_before = self._living_message(sender, channel)
        except (SlackDeliveryError, StateTableError, _CreationHeldError) as error:
            return FAILED, str(error)
        except SlackUnconfirmedError as error:  # the post may have landed: a later event takes over and looks
            return UNCONFIRMED, str(error)
        return ("already_sent" if applied_before else SENT), ts

    def _living_message(self, sender: SlackWebApi, channel: str) -> tuple[str, bool]:
        """The message's ts after this event is shown in it, and whether the message had the event already
        (a duplicate, or a retry of an attempt that saved it)."""
        notification, living, clock = self._notification, self._ports.living, self._ports.clock
        deployment_id = str(notification.deployment_id)
        # First on the record as this container last saw it (no read); whatever does not save on it reads afresh.
        known = living.known(deployment_id)
        for _ in range(_SAVE_ATTEMPTS):
            record = known or living.get(deployment_id)
            before = _status_of(record, notification)
            status = apply_status(before, notification)
            if record is not None and record.ts is not None:
                if status == before and known is None:
                    return self._show(sender, record.channel or channel, record.ts, status), True
                if status != before and living.save(record, status.to_json(), now=clock.now()):
                    return self._show(sender, record.channel or channel, record.ts, status), False
                known = None  # another event saved first, or the event is shown already: read what is there
                continue
            first_claim = record.claimed_at if record is not None else None
            creation = living.claim_creation(
                deployment_id,
                channel,
                status.to_json(),
                owner=self._budget.owner,
                now=clock.now(),
                lease=self._budget.lease,
                claimed_at=first_claim,
            )
            if creation.outcome is CreationOutcome.EXISTS:
                continue
            if creation.outcome is CreationOutcome.HELD:
                # Another invocation is posting it now (START and the first verdict arrive together): wait a little.
                if clock.monotonic() + _HELD_WAIT_SECONDS < self._budget.deadline:
                    clock.sleep(_HELD_WAIT_SECONDS)
                    continue
                raise _CreationHeldError("another invocation is creating the deployment's message; to be retried")
            ts: str | None = None
            if creation.outcome is CreationOutcome.TAKEN_OVER:
                # The creator died after claiming: it may have posted. Look for the message by its metadata.
                since = (creation.record.claimed_at if creation.record and creation.record.claimed_at else 0.0) - 60
                ts = sender.find_message(
                    channel, event_type=METADATA_EVENT_TYPE, deployment_id=deployment_id, oldest=max(0.0, since)
                )
                if ts is not None:
                    sender.update(channel, ts, render_status(status, buttons=self._buttons))
            if ts is None:
                ts = sender.post_message(
                    channel, render_status(status, buttons=self._buttons), metadata=living_metadata(status)
                )
            try:
                living.created(creation, ts=ts, status=status.to_json(), now=clock.now())
            except StateTableError:
                # Posted, not recorded: the next event takes the lease over and finds the message by its metadata.
                logger.warning("could not record the living message", extra={"deployment_id": deployment_id})
            return ts, False
        raise _CreationHeldError(
            f"living message of {deployment_id}: still busy after {_SAVE_ATTEMPTS} tries; to be retried"
        )

    def _show(self, sender: SlackWebApi, channel: str, ts: str, status: DeploymentStatus) -> str:
        """Update the message; one a person deleted (``message_not_found``) is posted again and the record moved."""
        message = render_status(status, buttons=self._buttons)
        try:
            sender.update(channel, ts, message)
        except SlackDeliveryError as error:
            if "message_not_found" not in str(error):
                raise
            logger.warning("the living message was deleted; posting it again", extra={"ts": ts})
            new_ts = sender.post_message(channel, message, metadata=living_metadata(status))
            deployment_id = status.deployment_id
            if self._ports.living.repoint(deployment_id, old_ts=ts, ts=new_ts, now=self._ports.clock.now()):
                return new_ts
            return self._keep_the_first_repost(sender, channel, new_ts, deployment_id)
        return ts

    def _keep_the_first_repost(self, sender: SlackWebApi, channel: str, ours: str, deployment_id: str) -> str:
        """Another event re-posted the deleted message first (the record names its message): take ours back and
        show the record's status on that one, so the deployment keeps one message."""
        current = self._ports.living.get(deployment_id)
        if current is None or current.ts is None or current.ts == ours:
            return ours
        try:
            sender.delete(channel, ours)
        except SlackDeliveryError as error:  # two messages then, as before; the record names the first
            logger.warning("could not take back the second re-post", extra={"ts": ours, "error": str(error)})
        shown = _status_of(current, self._notification)
        sender.update(current.channel or channel, current.ts, render_status(shown, buttons=self._buttons))
        logger.info("another event re-posted the deleted message first; kept that one", extra={"ts": current.ts})
        return current.ts

    def _slack_sender(self) -> SlackSender:
        if self._sender is None:
            self._sender = self._ports.slack.sender(self._budget.deadline)
        return self._sender

    def _thread(self, deployment_id: str | None, channel: str) -> str | None:
        if not deployment_id:
            return None
        try:
            return self._ports.ledger.thread_ts(deployment_id, channel)
        except StateTableError:
            logger.warning("could not read the Slack thread; posting unthreaded", extra={"channel": channel})
            return None

    # -- the ledger: its failures are logged, never a reason to skip or repeat a send ------------------
    def _claim(self, delivery: Delivery) -> DeliveryClaim | None:
        try:
            return self._ports.ledger.claim(
                self._notification.event_id,
                delivery.key,
                owner=self._budget.owner,
                now=self._ports.clock.now(),
                lease=self._budget.lease,
            )
        except StateTableError as error:
            logger.warning("could not claim the delivery", extra={"delivery": delivery.key, "error": str(error)})
            return None

    def _complete(self, claim: DeliveryClaim | None, outcome: str, detail: str) -> None:
        if claim is None:
            return
        try:
            self._ports.ledger.complete(claim, now=self._ports.clock.now(), outcome=outcome, detail=detail)
        except StateTableError as error:
            # Sent but not recorded: a retry finds the lease abandoned; Slack is then not posted again.
            logger.warning("could not record the delivery", extra={"key": claim.delivery_key, "error": str(error)})

    def _give_back(self, claim: DeliveryClaim | None, error: str) -> None:
        if claim is None:
            return
        try:
            self._ports.ledger.give_back(claim, now=self._ports.clock.now(), error=error)
        except StateTableError as problem:
            logger.warning("could not record the failure", extra={"key": claim.delivery_key, "error": str(problem)})


def _with_version(notification: Notification, revisions: RevisionLookup) -> Notification:
    """Ask CodeDeploy what a deployment deploys when the event did not say."""
    if notification.version or not (notification.deployment_id or "").startswith("d-"):
        return notification
    version = revisions.deployed_version(str(notification.deployment_id))
    return notification.model_copy(update={"version": version}) if version else notification


def describe(notification: Notification) -> dict[str, Any]:
    return {
        "kind": notification.kind.value,
        "severity": notification.severity.value,
        "environment": notification.environment,
        "service": notification.service,
        "deployment_id": notification.deployment_id,
        "summary": notification.summary(),
    }
