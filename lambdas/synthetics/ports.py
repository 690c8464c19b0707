"""What the synthetics run needs: a lease per environment, flows to run, a place for metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from lambdas.hooks.flows import FlowRun
from lambdas.hooks.model import CheckResult


class RunLease(Protocol):
    def acquire(self) -> bool:
        """True when this invocation may run now (no other run of this environment holds the lease)."""
        ...

    def release(self) -> None: ...


class FlowRunner(Protocol):
    def run(self, runs: Sequence[FlowRun]) -> tuple[CheckResult, ...]: ...


class MetricsSink(Protocol):
    def publish(self, *, environment: str, service: str, values: Mapping[str, tuple[str, float]]) -> None: ...
