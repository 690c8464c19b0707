"""Adapter: one run at a time per environment, a lease on the state table (``synthetics#<environment>``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from lambdas.core.state_table import Claim, StateTable, key

LEASE_KIND = "synthetics"


class StateTableLease:
    def __init__(self, table: StateTable, environment: str, *, lease: timedelta) -> None:
        self._table, self._key, self._lease = table, key(LEASE_KIND, environment, "run"), lease
        self._owner = str(uuid.uuid4())
        self._claim: Claim | None = None

    def acquire(self) -> bool:
        # The lease is the function's timeout: a run killed mid-way frees the next tick after it.
        now = datetime.now(UTC)
        self._claim = self._table.claim(self._key, owner=self._owner, lease=self._lease, now=now, retain=self._lease)
        return self._claim.acts

    def release(self) -> None:
        if self._claim is not None and self._claim.acts:
            self._table.release(self._claim)
