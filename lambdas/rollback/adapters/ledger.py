"""Adapter: the rollback's leases and records in Tollgate's state table (``lambdas.core.state_table``).

* ``rollback#<deployment>`` / ``claim``: the one lease on a deployment's rollback. The first alarm (or
  operator) wins it and marks it done only after StopDeployment / CreateDeployment / UpdateService
  succeeded; an invocation killed in between leaves a lease that runs out with its deadline, and the
  platform's retry takes it over (``TAKEN_OVER``) and checks CodeDeploy before acting. The claim also
  records the event that won it and that event's answer: it is the function's idempotency record.
* ``rollback#<deployment>`` / ``announced``: "Rollback Started" reached the bus (else a retry sends it).
* ``rollback#<rollback deployment>`` / ``rollback``: a deployment Tollgate started as a rollback, so its
  success is announced as restored and it is never rolled back itself.
* ``rollback#<event id>`` / ``event``: the once-per-event lease of an alarm that does not act.
* ``rollback#operator:<request>`` / ``plan``, ``database``: an operator request's plan, fixed by its first
  attempt (a retry resumes the same plan, not one made from the state the first attempt changed), and
  the lease on its database restore.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lambdas.core.state_table import Claim, StateItem, StateTable, key
from lambdas.rollback.models import RollbackRecord

KIND = "rollback"
CLAIM = "claim"
ROLLBACK = "rollback"
ANNOUNCED = "announced"
EVENT = "event"
RESTORED = "restored"
PLAN = "plan"
KEEP_FOR = timedelta(days=90)
# Duplicated events arrive within minutes; a day covers EventBridge's and Lambda's retries.
EVENTS_KEPT_FOR = timedelta(days=1)


def record_attributes(record: RollbackRecord) -> dict[str, str]:
    return {name: str(value) for name, value in record.model_dump(mode="json", exclude_none=True).items()}


def record_of(item: StateItem | None) -> RollbackRecord | None:
    if item is None:
        return None
    try:
        return RollbackRecord.model_validate(dict(item.attributes))
    except ValueError:
        return None  # a record of another shape (not one the rollback wrote)


class RollbackLedger:
    def __init__(self, table_name: str, *, dynamodb: Any | None = None) -> None:
        self._table = StateTable(table_name, client=dynamodb)

    def claim(
        self, record: RollbackRecord, *, owner: str, lease: timedelta, now: datetime, reclaim_own: bool = False
    ) -> Claim:
        return self._table.claim(
            key(KIND, record.deployment_id, CLAIM),
            owner=owner,
            lease=lease,
            now=now,
            retain=KEEP_FOR,
            attributes=record_attributes(record),
            reclaim_own=reclaim_own,
        )

    def complete(self, claim: Claim, record: RollbackRecord, *, now: datetime, result: str | None = None) -> bool:
        attributes = record_attributes(record)
        if result is not None:
            attributes["result"] = result
        return self._table.complete(claim, now=now, attributes=attributes)

    def release(self, claim: Claim) -> None:
        self._table.release(claim)

    def remember_rollback(self, record: RollbackRecord, now: datetime) -> None:
        if record.rollback_deployment_id:
            self._table.put(
                key(KIND, record.rollback_deployment_id, ROLLBACK), record_attributes(record), now=now, retain=KEEP_FOR
            )

    def find_claim(self, deployment_id: str) -> RollbackRecord | None:
        return record_of(self._table.get(key(KIND, deployment_id, CLAIM)))

    def find_rollback(self, rollback_deployment_id: str) -> RollbackRecord | None:
        return record_of(self._table.get(key(KIND, rollback_deployment_id, ROLLBACK)))

    def is_rollback(self, deployment_id: str) -> bool:
        return self.find_rollback(deployment_id) is not None

    def mark_restored(self, deployment_id: str, kind: str, restored_at: datetime, *, writer: str) -> bool:
        """Record the restore once; False when another invocation recorded it (a duplicated state change)."""
        return self._table.put(
            key(KIND, deployment_id, f"{kind}#{RESTORED}"),
            {"restored_at": restored_at.isoformat()},
            now=restored_at,
            retain=KEEP_FOR,
            only_if_absent=True,
            writer=writer,
        )

    def announced(self, deployment_id: str) -> bool:
        return self._table.get(key(KIND, deployment_id, ANNOUNCED)) is not None

    def mark_announced(self, deployment_id: str, now: datetime) -> None:
        self._table.put(
            key(KIND, deployment_id, ANNOUNCED), {"announced_at": now.isoformat()}, now=now, retain=KEEP_FOR
        )

    def claim_event(self, event_id: str, *, owner: str, lease: timedelta, now: datetime) -> Claim:
        return self._table.claim(key(KIND, event_id, EVENT), owner=owner, lease=lease, now=now, retain=EVENTS_KEPT_FOR)

    def complete_event(self, claim: Claim, *, now: datetime, result: str) -> None:
        self._table.complete(claim, now=now, attributes={"result": result})


class OperatorSteps:
    """The steps of one operator request (``rollback#operator:<request>`` / ``<step>``), so a retry resumes."""

    def __init__(self, table_name: str, *, dynamodb: Any | None = None) -> None:
        self._table = StateTable(table_name, client=dynamodb)

    def claim(
        self, request_id: str, step: str, *, owner: str, lease: timedelta, now: datetime, attributes: dict[str, str]
    ) -> Claim:
        return self._table.claim(
            key(KIND, f"operator:{request_id}", step),
            owner=owner,
            lease=lease,
            now=now,
            retain=KEEP_FOR,
            attributes=attributes,
            reclaim_own=True,  # the owner is the Lambda request id: Lambda's retry resumes its own attempt
        )

    def complete(self, claim: Claim, *, now: datetime, attributes: dict[str, str]) -> None:
        self._table.complete(claim, now=now, attributes=attributes)

    def release(self, claim: Claim) -> None:
        self._table.release(claim)

    def keep_plan(self, request_id: str, plan: str, *, now: datetime) -> str:
        """The request's plan, fixed by its first attempt: ``plan`` if none was kept yet, else the kept one."""
        plan_key = key(KIND, f"operator:{request_id}", PLAN)
        if self._table.put(plan_key, {"plan": plan}, now=now, retain=KEEP_FOR, only_if_absent=True):
            return plan
        return self.kept_plan(request_id) or plan

    def kept_plan(self, request_id: str) -> str | None:
        item = self._table.get(key(KIND, f"operator:{request_id}", PLAN))
        return item.attributes.get("plan") if item else None
