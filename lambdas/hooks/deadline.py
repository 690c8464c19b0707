"""The time a hook has left, and how every AWS call's retries and timeouts fit inside it.

A hook invocation has a hard end (Lambda stops it) and reserves its last ``margin`` for the report: the
checks stop at ``Deadline`` (end minus margin); the report path (claim, report, complete) spends the margin.
Each AWS call gets a ``CallPolicy`` derived from the time left before the point it must finish by:
botocore's standard retry mode makes at most ``attempts`` attempts, each bounded by the connect and read
timeouts, with a backoff between them of at most ``rand * 2**i`` seconds for throttling (base 1 s;
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html, botocore/retries/standard.py
``ExponentialBackoff``), so ``attempts * (connect + read) + 2**(attempts-1) - 1`` bounds the call.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from lambdas.hooks.errors import OutOfTimeError

# A call's timeouts are whole quarter seconds, so the few distinct policies can share cached clients.
TIMEOUT_QUANTUM_SECONDS = 0.25
MAX_ATTEMPTS = 3
MAX_TIMEOUT_SECONDS = 5.0


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Deadline:
    """A point on a monotonic clock by which something must be finished."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def from_context(
        cls, context: LambdaContextLike, *, margin_ms: int, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        return cls(at=clock() + (context.get_remaining_time_in_millis() - margin_ms) / 1000, clock=clock)

    def remaining_seconds(self) -> float:
        return self.at - self.clock()

    def within(self, seconds: float) -> Deadline:
        """This deadline or ``seconds`` from now, whichever comes first."""
        return Deadline(at=min(self.at, self.clock() + seconds), clock=self.clock)

    def before(self, seconds: float) -> Deadline:
        """``seconds`` earlier than this deadline (to leave them to a later step)."""
        return Deadline(at=self.at - seconds, clock=self.clock)


@dataclass(frozen=True)
class CallPolicy:
    attempts: int
    connect_timeout: float
    read_timeout: float

    @property
    def worst_case_seconds(self) -> float:
        return self.attempts * (self.connect_timeout + self.read_timeout) + backoff_bound(self.attempts)


def backoff_bound(attempts: int) -> float:
    """The most botocore's standard mode sleeps between ``attempts`` attempts (throttling: 1, 2, 4 ... s)."""
    return float(2 ** (attempts - 1) - 1)


def call_policy(
    seconds: float, *, max_attempts: int = MAX_ATTEMPTS, max_timeout: float = MAX_TIMEOUT_SECONDS
) -> CallPolicy:
    """The most attempts (then the longest timeouts) whose worst case fits in ``seconds``."""
    for attempts in range(max_attempts, 0, -1):
        per_attempt = (seconds - backoff_bound(attempts)) / attempts
        timeout = min(max_timeout, per_attempt / 2)
        timeout = math.floor(timeout / TIMEOUT_QUANTUM_SECONDS) * TIMEOUT_QUANTUM_SECONDS
        if timeout >= TIMEOUT_QUANTUM_SECONDS:
            return CallPolicy(attempts=attempts, connect_timeout=timeout, read_timeout=timeout)
    raise OutOfTimeError(f"{max(seconds, 0.0):.2f} s left: too little for one AWS call")


@dataclass(frozen=True)
class ReportPlan:
    """How the report path shares what is left: the claim first (short), then the report (most of it),
    then the completion, leaving ``tail`` for returning. Each is a deadline on the same clock."""

    claim: Deadline
    report: Deadline
    complete: Deadline


CLAIM_SHARE = 0.2
COMPLETE_SHARE = 0.15
CLAIM_CAP_SECONDS = 1.5
COMPLETE_CAP_SECONDS = 1.0
TAIL_SECONDS = 0.2


def plan_report(end: Deadline) -> ReportPlan:
    """Split the time until ``end`` (the invocation's hard end) among the report path's calls."""
    left = end.remaining_seconds() - TAIL_SECONDS
    finish = end.before(TAIL_SECONDS)
    complete_slice = min(COMPLETE_CAP_SECONDS, max(0.0, left * COMPLETE_SHARE))
    claim_slice = min(CLAIM_CAP_SECONDS, max(0.0, left * CLAIM_SHARE))
    return ReportPlan(
        claim=finish.before(complete_slice).within(claim_slice),
        report=finish.before(complete_slice),
        complete=finish,
    )
