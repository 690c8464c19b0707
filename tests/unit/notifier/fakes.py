"""In-memory fakes for every port of the notifier (lambdas/notifier/ports.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from lambdas.core.errors import StateTableError
from lambdas.notifier.email_message import EmailMessage
from lambdas.notifier.notify import NotifierPorts
from lambdas.notifier.ports import ClaimOutcome, DeliveryClaim
from lambdas.notifier.slack_message import SlackMessage


@dataclass
class FakeClock:
    moment: datetime = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    ticks: float = 1000.0

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        self.ticks += seconds


@dataclass
class _Lease:
    owner: str
    lease_until: datetime | None
    done: bool = False
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeLedger:
    """The state table's lease semantics in memory; ``fail`` names the operations that raise StateTableError."""

    leases: dict[tuple[str, str], _Lease] = field(default_factory=dict)
    threads: dict[tuple[str, str], str] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)

    def _check(self, operation: str) -> None:
        if operation in self.fail:
            raise StateTableError(f"state table: {operation}: InternalFailure (fake)")

    def claim(self, event_id: str, delivery_key: str, *, owner: str, now: datetime, lease: timedelta) -> DeliveryClaim:
        self._check("claim")
        item = self.leases.get((event_id, delivery_key))
        previous = dict(item.attributes) if item else {}
        attempts = int(previous.get("attempts", "0")) + 1
        if item is not None and item.done:
            return DeliveryClaim(ClaimOutcome.DONE, event_id, delivery_key, owner, attempts, previous)
        if item is not None and item.lease_until is not None and item.lease_until >= now:
            return DeliveryClaim(ClaimOutcome.IN_FLIGHT, event_id, delivery_key, owner, attempts, previous)
        self.leases[(event_id, delivery_key)] = _Lease(owner=owner, lease_until=now + lease)
        if item is None:
            return DeliveryClaim(ClaimOutcome.WON, event_id, delivery_key, owner, attempts, previous)
        outcome = ClaimOutcome.RETRY if previous.get("outcome") == "failed" else ClaimOutcome.ABANDONED
        return DeliveryClaim(outcome, event_id, delivery_key, owner, attempts, previous)

    def complete(self, claim: DeliveryClaim, *, now: datetime, outcome: str, detail: str) -> None:
        self._check("complete")
        item = self.leases[(claim.event_id, claim.delivery_key)]
        if item.owner == claim.owner:
            item.done, item.lease_until = True, None
            item.attributes = {"outcome": outcome, "detail": detail, "attempts": str(claim.attempts)}

    def give_back(self, claim: DeliveryClaim, *, now: datetime, error: str) -> None:
        self._check("give_back")
        item = self.leases[(claim.event_id, claim.delivery_key)]
        if item.owner == claim.owner and not item.done:
            item.lease_until = now - timedelta(milliseconds=1)
            item.attributes = {"outcome": "failed", "detail": error, "attempts": str(claim.attempts)}

    def thread_ts(self, deployment_id: str, channel: str) -> str | None:
        self._check("thread_ts")
        return self.threads.get((deployment_id, channel))

    def remember_thread(self, deployment_id: str, channel: str, ts: str, *, now: datetime) -> None:
        self._check("remember_thread")
        self.threads.setdefault((deployment_id, channel), ts)

    def outcome(self, event_id: str, delivery_key: str) -> str | None:
        item = self.leases.get((event_id, delivery_key))
        return item.attributes.get("outcome") if item else None


@dataclass
class PostedMessage:
    channel: str
    message: SlackMessage
    thread_ts: str | None
    broadcast: bool
    ts: str


@dataclass
class FakeSlack:
    """A Slack sender and its connector. ``answers`` is consumed per post: None posts, an exception is raised
    (after recording the post when ``posted_before_raise`` holds: the unconfirmed case)."""

    uses_threads: bool = True
    posted: list[PostedMessage] = field(default_factory=list)
    answers: list[BaseException | None] = field(default_factory=list)
    posted_before_raise: bool = False
    secret_error: Exception | None = None
    attempts: int = 0

    def sender(self, deadline: float) -> FakeSlack:
        if self.secret_error is not None:
            raise self.secret_error
        return self

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None:
        self.attempts += 1
        answer = self.answers.pop(0) if self.answers else None
        ts = f"1700000000.{len(self.posted) + 1:06d}"
        if answer is None or self.posted_before_raise:
            self.posted.append(PostedMessage(channel, message, thread_ts, broadcast, ts))
        if answer is not None:
            raise answer
        return ts if self.uses_threads else None


@dataclass
class FakeEmail:
    sent: list[tuple[EmailMessage, tuple[str, ...]]] = field(default_factory=list)
    answers: list[BaseException | None] = field(default_factory=list)

    def send(self, message: EmailMessage, *, recipients: tuple[str, ...], environment: str, severity: str) -> str:
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        self.sent.append((message, recipients))
        return f"msg-{len(self.sent)}"


@dataclass
class FakeRevisions:
    versions: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def deployed_version(self, deployment_id: str) -> str | None:
        self.asked.append(deployment_id)
        return self.versions.get(deployment_id)


@dataclass
class FakeWorld:
    ledger: FakeLedger = field(default_factory=FakeLedger)
    slack: FakeSlack = field(default_factory=FakeSlack)
    email: FakeEmail = field(default_factory=FakeEmail)
    revisions: FakeRevisions = field(default_factory=FakeRevisions)
    clock: FakeClock = field(default_factory=FakeClock)

    @property
    def ports(self) -> NotifierPorts:
        return NotifierPorts(self.ledger, self.slack, self.email, self.revisions, self.clock)


FakeFactory = Callable[[], FakeWorld]
