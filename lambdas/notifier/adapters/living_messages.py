"""Adapter: each deployment's living Slack message in the state table (lambdas/core/state_table.py).

Item ``slack#<deployment id>`` / ``message``: while being created a lease (``status = leased``, with
``channel``, ``status_json`` and ``claimed_at``); once posted ``done`` with ``ts`` and a ``version`` that
every status write checks and moves on (a conditional write: two events never overwrite each other).
The notifier's grant allows exactly the ``notifier#`` and ``slack#`` key prefixes (stacks/constructs/notifier.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lambdas.core.state_table import Claim, ClaimState, StateItem, StateTable, key
from lambdas.notifier.ports import CreationClaim, CreationOutcome, LivingRecord

LIVING_KIND = "slack"
LIVING_RECORD = "message"
LIVING_RECORD_DAYS = 30


class StateTableLivingMessages:
    def __init__(self, table: StateTable) -> None:
        self._table = table
        self._claims: dict[tuple[str, str], Claim] = {}

    def get(self, deployment_id: str) -> LivingRecord | None:
        item = self._table.get(key(LIVING_KIND, deployment_id, LIVING_RECORD))
        return _record(deployment_id, item) if item else None

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
            return CreationClaim(CreationOutcome.EXISTS, deployment_id, owner, previous)
        if claim.state is ClaimState.HELD:
            return CreationClaim(CreationOutcome.HELD, deployment_id, owner, previous)
        self._claims[(deployment_id, owner)] = claim
        outcome = CreationOutcome.TAKEN_OVER if claim.state is ClaimState.TAKEN_OVER else CreationOutcome.WON
        return CreationClaim(outcome, deployment_id, owner, previous)

    def created(self, claim: CreationClaim, *, ts: str, status: str, now: datetime) -> None:
        self._table.complete(
            self._claims.pop((claim.deployment_id, claim.owner)),
            now=now,
            attributes={"ts": ts, "status_json": status, "version": "1"},
        )

    def repoint(self, deployment_id: str, *, old_ts: str, ts: str, now: datetime) -> bool:
        return self._table.update_if(
            key(LIVING_KIND, deployment_id, LIVING_RECORD),
            {"ts": ts, "reposted_at": now.isoformat()},
            expected={"ts": old_ts},
        )

    def save(self, record: LivingRecord, status: str, *, now: datetime) -> bool:
        return self._table.update_if(
            key(LIVING_KIND, record.deployment_id, LIVING_RECORD),
            {"status_json": status, "version": str(record.version + 1), "updated_at": now.isoformat()},
            expected={"version": str(record.version)},
        )


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
