"""Worlds seeded once per test process and restored for each test (tollgate/embedded_aws/snapshot.py).

Seeding an LMS environment is most of a functional test's set-up; restoring a copy of the embedded AWS taken
right after it is ~50 times cheaper and leaves each test the same fresh state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from tollgate.embedded_aws import EmbeddedAws
from tollgate.embedded_aws.snapshot import Snapshot

T = TypeVar("T")

_built: dict[Hashable, tuple[Any, Snapshot]] = {}


def built_once(embedded: EmbeddedAws, key: Hashable, build: Callable[[], T]) -> T:
    """``build()``'s result on a reset embedded AWS: built the first time for ``key``, then restored."""
    saved = _built.get(key)
    if saved is not None:
        value, snapshot = saved
        embedded.restore(snapshot)
        return value  # type: ignore[no-any-return]
    embedded.reset()
    value = build()
    _built[key] = (value, embedded.snapshot())
    return value
