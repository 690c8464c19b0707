"""A synthetics run over fakes: lease held -> nothing runs; per-service success and latency; lease freed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from lambdas.core.config import load_environment
from lambdas.hooks.flows import FlowRun
from lambdas.hooks.model import CheckKind, CheckResult
from lambdas.synthetics.model import plan_runs
from lambdas.synthetics.run import SyntheticsPorts, run_synthetics
from tests.unit.ledger.fakes import FakeMetrics

STAGING = load_environment("staging")


@dataclass
class FakeLease:
    free: bool = True
    released: int = 0

    def acquire(self) -> bool:
        return self.free

    def release(self) -> None:
        self.released += 1


@dataclass
class FakeFlows:
    failing: frozenset[str] = frozenset()
    ran: list[str] = field(default_factory=list)
    explode: bool = False

    def run(self, runs: Sequence[FlowRun]) -> tuple[CheckResult, ...]:
        if self.explode:
            raise RuntimeError("killed mid-run")
        self.ran += [r.name for r in runs]
        return tuple(
            CheckResult(
                name=f"flow {r.name}",
                kind=CheckKind.SYNTHETIC_FLOW,
                passed=r.name not in self.failing,
                reason="HTTP 503" if r.name in self.failing else "ok",
                details={"service": r.flow.service, "steps": [{"elapsed_ms": 100.0}, {"elapsed_ms": 20.5}]},
            )
            for r in runs
        )


def test_a_held_lease_means_no_flow_runs() -> None:
    flows, metrics = FakeFlows(), FakeMetrics()
    result = run_synthetics(STAGING, SyntheticsPorts(FakeLease(free=False), flows, metrics))
    assert result.decision == "skipped" and "already under way" in result.reason
    assert flows.ran == [] and metrics.published == []


def test_success_and_latency_per_service_and_the_lease_is_freed() -> None:
    lease, flows, metrics = FakeLease(), FakeFlows(failing=frozenset({"loan-application"})), FakeMetrics()
    result = run_synthetics(STAGING, SyntheticsPorts(lease, flows, metrics))
    assert result.decision == "ran" and "loan-application" in result.reason
    by_service = {p["service"]: p for p in metrics.published}
    assert by_service["backend"]["SyntheticSuccess"] == 0.0 and by_service["backend"]["SyntheticLatency"] == 120.5
    assert lease.released == 1
    assert sorted(flows.ran) == sorted(STAGING.checks.flows)


def test_a_run_that_fails_still_frees_the_lease() -> None:
    lease = FakeLease()
    with pytest.raises(RuntimeError):
        run_synthetics(STAGING, SyntheticsPorts(lease, FakeFlows(explode=True), FakeMetrics()))
    assert lease.released == 1


def test_flows_run_against_the_production_listener_or_the_local_override() -> None:
    runs = plan_runs(STAGING)
    assert {r.base_url for r in runs} <= {s.base_url for s in STAGING.lms.services.values()}
    assert {r.base_url for r in plan_runs(STAGING, "http://127.0.0.1:9")} == {"http://127.0.0.1:9"}
