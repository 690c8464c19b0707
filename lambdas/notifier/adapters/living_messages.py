"""Adapter: each deployment's living Slack message in the state table (lambdas/core/state_table.py).

Item ``slack#<deployment id>`` / ``message``: while being created a lease (``status = leased``, with
``channel``, ``status_json`` and ``claimed_at``); once posted ``done`` with ``ts`` and a ``version`` that
every status write checks and moves on (a conditional write: two events never overwrite each other).
The notifier's grant allows exactly the ``notifier#`` and ``slack#`` key prefixes (stacks/constructs/notifier.py).

``KnownRecords`` keeps the records this container last read or wrote, so a warm container's next event for a
deployment saves at once: one conditional write instead of a read and a write. What it keeps may be stale
(another container moved the record on): only a save, conditional on the version and the message's ts, acts
on it, and one that fails forgets it, so the next try reads the record afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta

from lambdas.core.state_table import Claim, ClaimState, StateItem, StateTable, key
from lambdas.notifier.ports import CreationClaim, CreationOutcome, LivingRecord

LIVING_KIND = "slack"
LIVING_RECORD = "message"
LIVING_RECORD_DAYS = 30


class KnownRecords:
    """The newest ``size`` posted records this container read or wrote, by table and deployment (local tooling runs
    several environments' tables in one process, with the same sample deployment ids; a Lambda container handles
    one event at a time, and the lock is for local tooling that runs handlers on threads)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._records: OrderedDict[tuple[str, str], LivingRecord] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, table: str, deployment_id: str) -> LivingRecord | None:
        with self._lock:
            return self._records.get((table, deployment_id))

    def keep(self, table: str, record: LivingRecord) -> None:
        where = (table, record.deployment_id)
        with self._lock:
            if record.ts is None:
                self._records.pop(where, None)
                return
            self._records[where] = record
            self._records.move_to_end(where)
            while len(self._records) > self._size:
                self._records.popitem(last=False)

    def forget(self, table: str, deployment_id: str) -> None:
        with self._lock:
            self._records.pop((table, deployment_id), None)


class StateTableLivingMessages:
    def __init__(self, table: StateTable, known: KnownRecords | None = None) -> None:
        self._table = table
        self._known = known if known is not None else KnownRecords()
        self._table_name = table.table_name
        self._claims: dict[tuple[str, str], tuple[Claim, str]] = {}

    def known(self, deployment_id: str) -> LivingRecord | None:
        return self._known.get(self._table_name, deployment_id)

    def get(self, deployment_id: str) -> LivingRecord | None:
        item = self._table.get(key(LIVING_KIND, deployment_id, LIVING_RECORD))
        if item is None:
            self._known.forget(self._table_name, deployment_id)
            return None
        record = _record(deployment_id, item)
        self._known.keep(self._table_name, record)
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
        claim = self._table.claim(
            key(LIVING_KIND, deployment_id, LIVING_RECORD),
            owner=owner,
            lease=lease,
            now=now,
            retain=timedelta(days=LIVING_RECORD_DAYS),
            attributes={
                "channel": channel,
                "status_json": status,
                "claimed_at": f"{claimed_at or now.timestamp():.3f}",
            },
        )
        previous = _record(deployment_id, claim.previous) if claim.previous else None
        if claim.state is ClaimState.DONE:
            if previous is not None:
                self._known.keep(self._table_name, previous)
            return CreationClaim(CreationOutcome.EXISTS, deployment_id, owner, previous)
        if claim.state is ClaimState.HELD:
            return CreationClaim(CreationOutcome.HELD, deployment_id, owner, previous)
        self._claims[(deployment_id, owner)] = (claim, channel)
        outcome = CreationOutcome.TAKEN_OVER if claim.state is ClaimState.TAKEN_OVER else CreationOutcome.WON
        return CreationClaim(outcome, deployment_id, owner, previous)

    def created(self, claim: CreationClaim, *, ts: str, status: str, now: datetime) -> None:
        lease, channel = self._claims.pop((claim.deployment_id, claim.owner))
        if self._table.complete(lease, now=now, attributes={"ts": ts, "status_json": status, "version": "1"}):
            self._known.keep(self._table_name, LivingRecord(claim.deployment_id, channel, ts, status, version=1))

    def repoint(self, deployment_id: str, *, old_ts: str, ts: str, now: datetime) -> bool:
        self._known.forget(self._table_name, deployment_id)
        return self._table.update_if(
            key(LIVING_KIND, deployment_id, LIVING_RECORD),
            {"ts": ts, "reposted_at": now.isoformat()},
            expected={"ts": old_ts},
        )

    def save(self, record: LivingRecord, status: str, *, now: datetime) -> bool:
        # The ts too: a record re-pointed at a re-posted message (same version) is not the one ``record`` shows.
        saved = self._table.update_if(
            key(LIVING_KIND, record.deployment_id, LIVING_RECORD),
            {"status_json": status, "version": str(record.version + 1), "updated_at": now.isoformat()},
            expected={"version": str(record.version), "ts": str(record.ts)},
        )
        if saved:
            self._known.keep(self._table_name, replace(record, status=status, version=record.version + 1))
        else:
            self._known.forget(self._table_name, record.deployment_id)
        return saved


def _record(deployment_id: str, item: StateItem) -> LivingRecord:
    attributes = item.attributes
    claimed = attributes.get("claimed_at")
    return LivingRecord(
        deployment_id=deployment_id,
        channel=attributes.get("channel", ""),
        ts=attributes.get("ts") if item.done else None,
        status=attributes.get("status_json", ""),
        version=int(attributes.get("version") or 0),
        claimed_at=float(claimed) if claimed else None,
    )
