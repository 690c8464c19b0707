"""Adapter: the canary's plain records in Tollgate's state table (lambdas/core/state_table.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from lambdas.core.state_table import StateTable, key

RETENTION = timedelta(days=30)


class StateTableRecords:
    def __init__(self, table: StateTable) -> None:
        self._table = table

    def get(self, kind: str, identifier: str, record: str) -> dict[str, str] | None:
        item = self._table.get(key(kind, identifier, record))
        return dict(item.attributes) if item is not None else None

    def put(
        self,
        kind: str,
        identifier: str,
        record: str,
        attributes: Mapping[str, str],
        *,
        now: datetime,
        only_if_absent: bool,
        writer: str | None = None,
    ) -> bool:
        return self._table.put(
            key(kind, identifier, record),
            attributes,
            now=now,
            retain=RETENTION,
            only_if_absent=only_if_absent,
            writer=writer,
        )
