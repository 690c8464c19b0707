"""What the notifier's use case needs from the world (Protocols); adapters/ implements them on AWS and Slack,
tests/unit/notifier/fakes.py in memory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from lambdas.notifier.email_message import EmailMessage
from lambdas.notifier.slack_message import SlackMessage


class SlackSender(Protocol):
    """Posts one message; raises SlackDeliveryError (not posted) or SlackUnconfirmedError (maybe posted)."""

    @property
    def uses_threads(self) -> bool: ...

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None: ...


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


class RevisionLookup(Protocol):
    """What a CodeDeploy deployment deploys (``family:revision``), or None when it cannot be told."""

    def deployed_version(self, deployment_id: str) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...
