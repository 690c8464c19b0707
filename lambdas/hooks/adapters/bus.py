"""Adapter: the hook's verdict on Tollgate's EventBridge bus."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.bus import AnnounceError, announce
from lambdas.core.errors import describe
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import AnnounceFailedError, OutOfTimeError


class EventBridgeAnnouncer:
    """The Announcer port on Tollgate's bus."""

    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name

    def announce(self, event: TollgateEvent, *, deadline: Deadline) -> None:
        try:
            announce(event, bus_name=self._bus_name, events_client=budgeted_client("events", deadline))
        except (AnnounceError, ClientError, BotoCoreError, OutOfTimeError) as error:
            raise AnnounceFailedError(describe(error)) from error
