"""A copy of everything the embedded AWS holds, to put back instead of creating it all again.

Seeding an LMS environment takes ~40 AWS calls (0.2-0.5 s); copying moto's backends once they hold it
takes ~4 ms (docs/decisions/0110-test-suite-speed.md). ``take`` copies every backend moto has created;
``restore`` forgets everything (moto's reset) and puts a fresh copy of them back, so whatever a test does
to the restored resources never reaches the snapshot or the next test. Tollgate's own additions to moto
(``extensions``) live on moto's objects and are copied with them.

moto keeps its state in module globals of this process (one ``BackendDict`` per service: account ->
region -> backend); objects inside a backend may refer to those globals, which stay shared, never copied.
"""

from __future__ import annotations

import copy
import copyreg
import gc
import threading
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict, backend_lock

# The BackendDicts moto lists as in use, the ones its reset resets (a list moto clears in place, never replaces).
_IN_USE: list[BackendDict[Any]] = BackendDict._instances  # type: ignore[misc]
# Some backends hold locks (an SQS queue's, say): a copy gets a new, unlocked one, as a new backend would.
copyreg.pickle(type(threading.Lock()), lambda _lock: (threading.Lock, ()))
copyreg.pickle(type(threading.RLock()), lambda _lock: (threading.RLock, ()))


@dataclass(frozen=True)
class Snapshot:
    """The backends moto had created, as (service's BackendDict, its accounts' backends copied)."""

    _services: list[tuple[BackendDict[Any], dict[str, Any]]]
    _shared: tuple[BackendDict[Any], ...]  # every BackendDict of the process: referred to, never copied

    def copied(self) -> list[tuple[BackendDict[Any], dict[str, Any]]]:
        return _copy(self._services, self._shared)


def take() -> Snapshot:
    """Copy every backend moto has created so far (call between requests, not during one)."""
    shared = tuple(o for o in gc.get_objects() if isinstance(o, BackendDict))
    with backend_lock:
        return Snapshot(_copy([(service, dict(service)) for service in _IN_USE], shared), shared)


def install(snapshot: Snapshot) -> None:
    """Put a fresh copy of the snapshot's backends in place; call right after moto's reset."""
    restored = snapshot.copied()
    with backend_lock:
        for service, accounts in restored:
            for account_id, backends in accounts.items():
                dict.__setitem__(service, account_id, backends)
            # moto resets only the BackendDicts it lists as in use (identity, not dict equality, decides).
            if not any(known is service for known in _IN_USE):
                _IN_USE.append(service)


def _copy(
    services: list[tuple[BackendDict[Any], dict[str, Any]]], shared: tuple[BackendDict[Any], ...]
) -> list[tuple[BackendDict[Any], dict[str, Any]]]:
    """A deep copy in which every BackendDict stays itself (the memo maps each to itself)."""
    memo: dict[int, Any] = {id(service): service for service in shared}
    return copy.deepcopy(services, memo)
