"""Adapter: the canary's announcements on Tollgate's bus (the notifier routes them)."""

from __future__ import annotations

from lambdas.core.bus import announce
from lambdas.core.tollgate_events import TollgateEvent


class BusAnnouncer:
    def __init__(self, bus_name: str) -> None:
        self._bus = bus_name

    def announce(self, event: TollgateEvent) -> None:
        announce(event, bus_name=self._bus)
