"""The time a hook has left to check and still report before Lambda stops it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Deadline:
    """A point on a monotonic clock; checks stop before it, leaving the margin for the report."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_context(
        cls, context: LambdaContextLike, *, margin_ms: int, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        return cls(at=clock() + (context.get_remaining_time_in_millis() - margin_ms) / 1000, clock=clock)

    def remaining_seconds(self) -> float:
        return self.at - self.clock()
