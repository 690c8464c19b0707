"""Adapter: each delivery's lease and outcome, and each deployment's Slack thread, in the state table.

Items (pk / sk), through lambdas/core/state_table.py:
- ``notifier#delivery#<event id>`` / ``<channel>#<destination>``: the delivery's lease (claimed before
  sending), then ``done`` with ``outcome`` sent or unconfirmed, or an expired lease with ``outcome``
  failed and the error when the send failed for sure; ``attempts`` counts the claims.
- ``notifier#thread#<deployment id>`` / ``slack#<channel>``: the ``ts`` of the deployment's first
  message in that channel; later messages reply in its thread.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lambdas.core.state_table import Claim, ClaimState, StateTable, key
from lambdas.notifier.ports import ClaimOutcome, DeliveryClaim

DELIVERY_RECORD_DAYS = 7
THREAD_RECORD_DAYS = 30
FAILED = "failed"
_DETAIL_LIMIT = 1000


class StateTableDeliveryLedger:
    def __init__(self, table: StateTable) -> None:
        self._table = table
        self._claims: dict[tuple[str, str, str], Claim] = {}

    def claim(self, event_id: str, delivery_key: str, *, owner: str, now: datetime, lease: timedelta) -> DeliveryClaim:
        state_key = key("notifier", f"delivery#{event_id}", delivery_key)
        claim = self._table.claim(
            state_key, owner=owner, lease=lease, now=now, retain=timedelta(days=DELIVERY_RECORD_DAYS)
        )
        previous = dict(claim.previous.attributes) if claim.previous else {}
        attempts = _int(previous.get("attempts")) + 1
        if claim.state is ClaimState.DONE:
            outcome = ClaimOutcome.DONE
        elif claim.state is ClaimState.HELD:
            outcome = ClaimOutcome.IN_FLIGHT
        elif claim.state is ClaimState.TAKEN_OVER:
            outcome = ClaimOutcome.RETRY if previous.get("outcome") == FAILED else ClaimOutcome.ABANDONED
        else:
            outcome = ClaimOutcome.WON
        self._claims[(event_id, delivery_key, owner)] = claim
        return DeliveryClaim(outcome, event_id, delivery_key, owner, attempts=attempts, previous=previous)

    def complete(self, claim: DeliveryClaim, *, now: datetime, outcome: str, detail: str) -> None:
        self._table.complete(
            self._claim(claim),
            now=now,
            attributes={"outcome": outcome, "detail": detail[:_DETAIL_LIMIT], "attempts": str(claim.attempts)},
        )

    def give_back(self, claim: DeliveryClaim, *, now: datetime, error: str) -> None:
        self._table.give_back(
            self._claim(claim),
            now=now,
            attributes={"outcome": FAILED, "detail": error[:_DETAIL_LIMIT], "attempts": str(claim.attempts)},
        )

    def thread_ts(self, deployment_id: str, channel: str) -> str | None:
        item = self._table.get(key("notifier", f"thread#{deployment_id}", f"slack#{channel}"))
        return item.attributes.get("ts") if item else None

    def remember_thread(self, deployment_id: str, channel: str, ts: str, *, now: datetime) -> None:
        """Keep the first ``ts`` only: two first messages racing leave the earlier thread in place."""
        self._table.put(
            key("notifier", f"thread#{deployment_id}", f"slack#{channel}"),
            {"ts": ts},
            now=now,
            retain=timedelta(days=THREAD_RECORD_DAYS),
            only_if_absent=True,
        )

    def _claim(self, claim: DeliveryClaim) -> Claim:
        return self._claims.pop((claim.event_id, claim.delivery_key, claim.owner))


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
