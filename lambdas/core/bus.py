"""Adapter: announce Tollgate events on Tollgate's EventBridge bus."""

from __future__ import annotations

import json
from typing import Any

from lambdas.core import aws
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, TollgateEvent


class AnnounceError(Exception):
    """EventBridge did not accept an announcement."""


def announce(event: TollgateEvent, *, bus_name: str, events_client: Any | None = None) -> str:
    """Put one event on the bus and return its id; raises AnnounceError if it was not accepted."""
    client = events_client or aws.client("events")
    response = client.put_events(
        Entries=[
            {
                "Source": TOLLGATE_SOURCE,
                "DetailType": event.detail_type.value,
                "Detail": json.dumps(event.detail()),
                "EventBusName": bus_name,
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise AnnounceError(f"{event.detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
    return str(entry["EventId"])
