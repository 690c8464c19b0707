"""What the notifier's use case needs from the world (Protocols); adapters/ implements them on AWS and Slack,
tests/unit/notifier/fakes.py in memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from lambdas.notifier.email_message import EmailMessage
from lambdas.notifier.slack_message import SlackMessage


class SlackSender(Protocol):
    """Posts one message; raises SlackDeliveryError (not posted) or SlackUnconfirmedError (maybe posted)."""

    @property
    def uses_threads(self) -> bool: ...

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None: ...


@runtime_checkable
class SlackWebApi(SlackSender, Protocol):
    """The bot token's Web API: post (with metadata), update in place, delete its own, find one by its metadata.

    ``update`` is idempotent (the same blocks twice show the same message), so any failure of it is a
    SlackDeliveryError and may be retried; ``find_message`` reads only, likewise.
    """

    def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> str: ...

    def update(self, channel: str, ts: str, message: SlackMessage) -> None: ...

    def delete(self, channel: str, ts: str) -> None:
        """Delete a message this bot posted (``chat.delete``); a message already gone counts as deleted."""
        ...

    def find_message(self, channel: str, *, event_type: str, deployment_id: str, oldest: float) -> str | None: ...


class SlackConnector(Protocol):
    """The Slack sender for this environment (reads the Slack secret; raises SlackSecretError)."""

    def sender(self, deadline: float) -> SlackSender: ...


class EmailSender(Protocol):
    """Publishes one email to the alert topic; returns the message id; raises EmailDeliveryError."""

    def send(self, message: EmailMessage, *, recipients: tuple[str, ...], environment: str, severity: str) -> str: ...


class ClaimOutcome(StrEnum):
    WON = "won"  # nobody tried this delivery yet: send it
    RETRY = "retry"  # an earlier attempt failed for sure (nothing sent): send it
    ABANDONED = "abandoned"  # an earlier attempt died after claiming: it may or may not have sent
    IN_FLIGHT = "in_flight"  # another invocation is sending it now
    DONE = "done"  # already delivered (or given up as unconfirmed)


@dataclass(frozen=True)
class DeliveryClaim:
    outcome: ClaimOutcome
    event_id: str
    delivery_key: str
    owner: str
    attempts: int = 1
    previous: Mapping[str, str] = field(default_factory=dict)


class DeliveryLedger(Protocol):
    """Per-delivery leases in the state table; every failure is a StateTableError."""

    def claim(
        self, event_id: str, delivery_key: str, *, owner: str, now: datetime, lease: timedelta
    ) -> DeliveryClaim: ...

    def complete(self, claim: DeliveryClaim, *, now: datetime, outcome: str, detail: str) -> None: ...

    def give_back(self, claim: DeliveryClaim, *, now: datetime, error: str) -> None: ...

    def thread_ts(self, deployment_id: str, channel: str) -> str | None: ...

    def remember_thread(self, deployment_id: str, channel: str, ts: str, *, now: datetime) -> None: ...


class CreationOutcome(StrEnum):
    WON = "won"  # nobody created the deployment's message: post it
    TAKEN_OVER = "taken_over"  # an earlier creator died after claiming: it may have posted; look before posting
    HELD = "held"  # another invocation is creating it now
    EXISTS = "exists"  # it exists (the record names its ts)


@dataclass(frozen=True)
class LivingRecord:
    """A deployment's living message: where it is (``ts`` None while being created) and what it shows."""

    deployment_id: str
    channel: str
    ts: str | None
    status: str  # DeploymentStatus JSON
    version: int
    claimed_at: float | None = None  # epoch seconds the creation was claimed (the history lookup's start)


@dataclass(frozen=True)
class CreationClaim:
    outcome: CreationOutcome
    deployment_id: str
    owner: str
    record: LivingRecord | None = None


class LivingMessages(Protocol):
    """Each deployment's living-message record in the state table; every failure is a StateTableError."""

    def known(self, deployment_id: str) -> LivingRecord | None:
        """The posted record as this container last read or wrote it, without a call; may be stale, so only a
        conditional ``save`` may act on it."""
        ...

    def get(self, deployment_id: str) -> LivingRecord | None: ...

    def claim_creation(
        self,
        deployment_id: str,
        channel: str,
        status: str,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
        claimed_at: float | None = None,
    ) -> CreationClaim:
        """``claimed_at`` (epoch seconds) is kept from the first claim when taking over: the history lookup starts
        there, so a chain of creators that died still finds the first one's message."""
        ...

    def created(self, claim: CreationClaim, *, ts: str, status: str, now: datetime) -> None: ...

    def repoint(self, deployment_id: str, *, old_ts: str, ts: str, now: datetime) -> bool:
        """Point the record at a new message (the old one was deleted); False when it no longer names ``old_ts``."""
        ...

    def save(self, record: LivingRecord, status: str, *, now: datetime) -> bool:
        """Write ``status`` if the record is still at ``record.version`` and ``record.ts``; False when another event
        got there first (or the message was re-posted)."""
        ...


class RevisionLookup(Protocol):
    """What a CodeDeploy deployment deploys (``family:revision``), or None when it cannot be told."""

    def deployed_version(self, deployment_id: str) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...
