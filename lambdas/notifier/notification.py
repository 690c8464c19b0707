"""What the notifier tells people: one typed notification per event, and where it goes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.core.config import Severity
from lambdas.notifier.text import clean, clean_value


class NotificationKind(StrEnum):
    DEPLOYMENT_STARTED = "deployment_started"
    DEPLOYMENT_READY = "deployment_ready"
    DEPLOYMENT_SUCCEEDED = "deployment_succeeded"
    DEPLOYMENT_STOPPED = "deployment_stopped"
    DEPLOYMENT_FAILED = "deployment_failed"
    DEPLOYMENT_ROLLING_BACK = "deployment_rolling_back"
    HOOK_VERDICT = "hook_verdict"
    CANARY_STEP_PASSED = "canary_step_passed"
    CANARY_STEP_FAILED = "canary_step_failed"
    ROLLBACK_STARTED = "rollback_started"
    ROLLBACK_RESTORED = "rollback_restored"
    ROLLBACK_SKIPPED = "rollback_skipped"
    ALARM = "alarm"
    APPROVAL_NEEDED = "approval_needed"
    OPERATOR_ROLLBACK_REQUESTED = "operator_rollback_requested"
    CANARY_STARTED = "canary_started"
    CANARY_PROMOTED = "canary_promoted"
    CANARY_ABORTED = "canary_aborted"
    APPROVAL_GIVEN = "approval_given"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_REFUSED = "approval_refused"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    ROLLBACK_JOINED = "rollback_joined"


# Kinds that are recorded and threaded, never emailed: a further alarm joining a rollback already paged.
NEVER_EMAILED = frozenset({NotificationKind.ROLLBACK_JOINED})


class Notification(BaseModel):
    """One thing that happened to a deployment, ready to be told to people."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(min_length=1, description="EventBridge event id: the idempotency key")
    kind: NotificationKind
    title: str = Field(min_length=1, description="What happened, in a few words")
    environment: str
    severity: Severity
    occurred_at: datetime
    service: str | None = None
    version: str | None = None
    deployment_id: str | None = None
    reason: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    console_url: str | None = None

    @field_validator("title", "environment", "service", "version", "deployment_id", "reason", mode="after")
    @classmethod
    def _clean_text(cls, value: str | None) -> str | None:
        return clean(value) if isinstance(value, str) else value

    @field_validator("evidence", mode="after")
    @classmethod
    def _clean_evidence(cls, value: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = clean_value(value)
        return cleaned

    def summary(self) -> str:
        """One line for logs, reports and Slack's notification text."""
        where = f"{self.service} in {self.environment}" if self.service else self.environment
        deployment = f" ({self.deployment_id})" if self.deployment_id else ""
        return f"{self.title}: {where}{deployment}"


class IgnoredEvent(BaseModel):
    """An event the notifier does not tell anyone about, and why."""

    model_config = ConfigDict(frozen=True)

    reason: str

    @field_validator("reason", mode="after")
    @classmethod
    def _short(cls, value: str) -> str:
        """A reason quotes the event; a hostile event must not make the log line 256 KB."""
        cleaned = clean(value)
        return cleaned if len(cleaned) <= 500 else cleaned[:497] + "..."


class DeliveryChannel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"
    # The deployment's living message (bot token): posted once, updated in place, details in its thread.
    SLACK_LIVING = "slack_living"


class Delivery(BaseModel):
    """One message to send: a Slack channel, or one email to a list of addresses."""

    model_config = ConfigDict(frozen=True)

    channel: DeliveryChannel
    to: tuple[str, ...] = Field(min_length=1)
    # Living message only: the thread reply also shows in the channel (an alert routed to that channel).
    broadcast: bool = False

    @property
    def key(self) -> str:
        """Stable identity of this delivery within one event (the per-delivery idempotency key)."""
        return f"{self.channel.value}#{','.join(self.to)}"
