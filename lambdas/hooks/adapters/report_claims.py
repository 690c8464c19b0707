"""Adapter: which hook executions were reported, as leases in Tollgate's state table.

``hook-report#<deployment id>`` / ``<execution id>``: a claim is leased until the invocation's own end,
so a claim whose owner died (a Lambda timeout) is expired by the time Lambda retries, and the retry
takes it over and reports (CodeDeploy refuses a second status, so that is safe). The record is done
only after CodeDeploy accepted the report.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from lambdas.core.errors import StateTableError
from lambdas.core.state_table import Claim, StateKey, StateTable, key
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import OutOfTimeError

REPORT_RETENTION = timedelta(days=90)
KIND = "hook-report"
_MAX_SORT_KEY_BYTES = 1024  # DynamoDB's limit for a sort key


def report_key(deployment_id: str, execution_id: str) -> StateKey:
    encoded = execution_id.encode("utf-8", "surrogatepass")
    if len(encoded) <= _MAX_SORT_KEY_BYTES and execution_id.isprintable():
        return key(KIND, deployment_id, execution_id)
    return key(KIND, deployment_id, "sha256:" + hashlib.sha256(encoded).hexdigest())


class StateTableReportClaims:
    """The ReportClaims port on the state table; every call's client fits its deadline."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def _table(self, deadline: Deadline) -> StateTable:
        try:
            return StateTable(self._table_name, client=budgeted_client("dynamodb", deadline))
        except OutOfTimeError as error:
            raise StateTableError(f"state table: {error}") from error

    def find(self, deployment_id: str, execution_id: str, *, deadline: Deadline) -> dict[str, str] | None:
        item = self._table(deadline).get(report_key(deployment_id, execution_id))
        if item is None or not item.done:
            return None
        return dict(item.attributes)

    def claim(
        self,
        deployment_id: str,
        execution_id: str,
        *,
        owner: str,
        lease: timedelta,
        now: datetime,
        attributes: dict[str, str],
        deadline: Deadline,
    ) -> Claim:
        return self._table(deadline).claim(
            report_key(deployment_id, execution_id),
            owner=owner,
            lease=lease,
            now=now,
            retain=REPORT_RETENTION,
            attributes=attributes,
        )

    def complete(self, claim: Claim, *, now: datetime, attributes: dict[str, str], deadline: Deadline) -> bool:
        return self._table(deadline).complete(claim, now=now, attributes=attributes)

    def release(self, claim: Claim, *, deadline: Deadline) -> None:
        self._table(deadline).release(claim)
