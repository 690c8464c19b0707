"""In-memory fakes for every port of the notifier (lambdas/notifier/ports.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.core.errors import StateTableError
from lambdas.notifier.email_message import EmailMessage
from lambdas.notifier.errors import SlackDeliveryError
from lambdas.notifier.living_message import DeploymentStatus
from lambdas.notifier.notify import NotifierPorts
from lambdas.notifier.ports import ClaimOutcome, CreationClaim, CreationOutcome, DeliveryClaim, LivingRecord
from lambdas.notifier.slack_message import SlackMessage


@dataclass
class FakeClock:
    moment: datetime = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    ticks: float = 1000.0
    slept: list[float] = field(default_factory=list)
    on_sleep: Callable[[], None] | None = None

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        self.ticks += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        if self.on_sleep is not None:
            self.on_sleep()


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
    metadata: dict[str, Any] | None = None
    edits: list[SlackMessage] = field(default_factory=list)


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
    update_answers: list[BaseException | None] = field(default_factory=list)
    lookups: int = 0
    deleted: list[str] = field(default_factory=list)

    def sender(self, deadline: float) -> FakeSlack:
        if self.secret_error is not None:
            raise self.secret_error
        return self

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str | None:
        ts = self.post_message(channel, message, thread_ts=thread_ts, broadcast=broadcast)
        return ts if self.uses_threads else None

    def post_message(
        self,
        channel: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        self.attempts += 1
        answer = self.answers.pop(0) if self.answers else None
        ts = f"1700000000.{self.attempts:06d}"  # unique even after a deletion, as Slack's
        if answer is None or self.posted_before_raise:
            posted = PostedMessage(channel, message, thread_ts, broadcast, ts, dict(metadata) if metadata else None)
            self.posted.append(posted)
        if answer is not None:
            raise answer
        return ts

    def delete(self, channel: str, ts: str) -> None:
        self.posted = [p for p in self.posted if not (p.ts == ts and p.channel == channel)]
        self.deleted.append(ts)

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        answer = self.update_answers.pop(0) if self.update_answers else None
        if answer is not None:
            raise answer
        target = next((p for p in self.posted if p.ts == ts and p.channel == channel), None)
        if target is None:
            raise SlackDeliveryError("chat.update failed: message_not_found")
        target.edits.append(target.message)
        target.message = message

    def find_message(self, channel: str, *, event_type: str, deployment_id: str, oldest: float) -> str | None:
        self.lookups += 1
        return next(
            (
                p.ts
                for p in self.posted
                if p.channel == channel
                and p.metadata
                and p.metadata.get("event_type") == event_type
                and p.metadata["event_payload"].get("deployment_id") == deployment_id
            ),
            None,
        )

    def top_level(self, channel: str) -> list[PostedMessage]:
        return [p for p in self.posted if p.channel == channel and p.thread_ts is None]


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
class _Living:
    owner: str
    lease_until: datetime | None
    attributes: dict[str, str]
    done: bool = False


@dataclass
class FakeLiving:
    """Living-message records with the state table's lease and version semantics; ``fail`` as FakeLedger's."""

    records: dict[str, _Living] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    # What the container last read or wrote, as the adapter's KnownRecords keeps it (tests may plant stale ones).
    known_records: dict[str, LivingRecord] = field(default_factory=dict)
    reads: int = 0
    # Runs as a repoint begins: another event racing this one (e.g. re-posting a deleted message first).
    on_repoint: Callable[[], None] | None = None

    def _check(self, operation: str) -> None:
        if operation in self.fail:
            raise StateTableError(f"state table: {operation}: InternalFailure (fake)")

    def _keep(self, record: LivingRecord | None, deployment_id: str) -> None:
        if record is None or record.ts is None:
            self.known_records.pop(deployment_id, None)
        else:
            self.known_records[deployment_id] = record

    def known(self, deployment_id: str) -> LivingRecord | None:
        return self.known_records.get(deployment_id)

    def get(self, deployment_id: str) -> LivingRecord | None:
        self._check("get")
        self.reads += 1
        item = self.records.get(deployment_id)
        record = _record(deployment_id, item) if item else None
        self._keep(record, deployment_id)
        return record

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
        self._check("claim_creation")
        item = self.records.get(deployment_id)
        previous = _record(deployment_id, item) if item else None
        if item is not None and item.done:
            self._keep(previous, deployment_id)
            return CreationClaim(CreationOutcome.EXISTS, deployment_id, owner, previous)
        if item is not None and item.lease_until is not None and item.lease_until >= now:
            return CreationClaim(CreationOutcome.HELD, deployment_id, owner, previous)
        attributes = {"channel": channel, "status_json": status, "claimed_at": f"{claimed_at or now.timestamp():.3f}"}
        self.records[deployment_id] = _Living(owner, now + lease, attributes)
        outcome = CreationOutcome.WON if item is None else CreationOutcome.TAKEN_OVER
        return CreationClaim(outcome, deployment_id, owner, previous)

    def created(self, claim: CreationClaim, *, ts: str, status: str, now: datetime) -> None:
        self._check("created")
        item = self.records[claim.deployment_id]
        if item.owner == claim.owner:
            item.done, item.lease_until = True, None
            item.attributes.update({"ts": ts, "status_json": status, "version": "1"})
            self._keep(_record(claim.deployment_id, item), claim.deployment_id)

    def repoint(self, deployment_id: str, *, old_ts: str, ts: str, now: datetime) -> bool:
        self._check("repoint")
        if self.on_repoint is not None:
            race, self.on_repoint = self.on_repoint, None
            race()
        self.known_records.pop(deployment_id, None)
        item = self.records[deployment_id]
        if item.attributes.get("ts") != old_ts:
            return False
        item.attributes["ts"] = ts
        return True

    def save(self, record: LivingRecord, status: str, *, now: datetime) -> bool:
        self._check("save")
        item = self.records.get(record.deployment_id)
        current = (item.attributes.get("version"), item.attributes.get("ts")) if item and item.done else None
        if current != (str(record.version), record.ts):
            self.known_records.pop(record.deployment_id, None)
            return False
        assert item is not None
        item.attributes.update({"status_json": status, "version": str(record.version + 1)})
        self._keep(_record(record.deployment_id, item), record.deployment_id)
        return True

    def status(self, deployment_id: str) -> DeploymentStatus:
        return DeploymentStatus.from_json(self.records[deployment_id].attributes["status_json"])


def _record(deployment_id: str, item: _Living) -> LivingRecord:
    claimed = item.attributes.get("claimed_at")
    return LivingRecord(
        deployment_id=deployment_id,
        channel=item.attributes.get("channel", ""),
        ts=item.attributes.get("ts") if item.done else None,
        status=item.attributes.get("status_json", ""),
        version=int(item.attributes.get("version") or 0),
        claimed_at=float(claimed) if claimed else None,
    )


@dataclass
class FakeWorld:
    ledger: FakeLedger = field(default_factory=FakeLedger)
    slack: FakeSlack = field(default_factory=FakeSlack)
    email: FakeEmail = field(default_factory=FakeEmail)
    revisions: FakeRevisions = field(default_factory=FakeRevisions)
    clock: FakeClock = field(default_factory=FakeClock)
    living: FakeLiving = field(default_factory=FakeLiving)

    @property
    def ports(self) -> NotifierPorts:
        return NotifierPorts(self.ledger, self.slack, self.email, self.revisions, self.clock, self.living)


FakeFactory = Callable[[], FakeWorld]
