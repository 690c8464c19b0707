"""The ledger on the embedded AWS: duplicates, out-of-order delivery and a rollback -> exact records and metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.ledger import handler as ledger_handler
from lambdas.ledger.adapters.table import LedgerTable
from lambdas.ledger.description import format_description
from lambdas.ledger.metrics import as_table
from lambdas.ledger.model import Outcome
from lambdas.ledger.publish import compute
from tests.functional.ledger.ledger_world import LEDGER_TABLE, LedgerWorld, ledger_world
from tollgate.embedded_aws.seed import create_deployment_of

MIN = timedelta(minutes=1)


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with ledger_world(monkeypatch) as created:
        yield created


def _deployment(
    world: LedgerWorld, service: str, version: str, *, commit: str, committed_at: datetime, actor: str
) -> str:
    description = format_description(
        version=version, commit=commit, committed_at=committed_at.strftime("%Y-%m-%dT%H:%M:%SZ"), actor=actor
    )
    return create_deployment_of(world.config, service, description=description)


def test_a_release_history_gives_the_hand_computed_ledger_and_metrics(world: LedgerWorld) -> None:
    # Given four deployments three hours ago (before CodeDeploy's createTime, so START is each one's start)
    t = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    d1 = _deployment(world, "backend", "1.4.0", commit="a" * 40, committed_at=t - 30 * MIN, actor="alice")
    d2 = _deployment(world, "backend", "1.4.1", commit="b" * 40, committed_at=t + 20 * MIN, actor="bob")
    d3 = _deployment(world, "frontend", "2.0.0", commit="c" * 40, committed_at=t, actor="carol")
    d4 = _deployment(world, "backend", "1.4.2", commit="d" * 40, committed_at=t + 120 * MIN, actor="dave")
    start_d1 = world.codedeploy_event(d1, "START", t)
    verdict = world.announcement(
        "Hook Verdict", t + 5 * MIN, service="backend", deployment_id=d1, evidence={"hook": "AfterAllowTestTraffic"}
    )
    events = [
        # d1: SUCCESS is delivered before START, START twice (at-least-once), the hook verdict twice
        world.codedeploy_event(d1, "SUCCESS", t + 10 * MIN),
        start_d1,
        verdict,
        start_d1,
        verdict,
        # d2: fails and is rolled back; Tollgate measured 420 s to restore
        world.codedeploy_event(d2, "START", t + 40 * MIN),
        world.announcement(
            "Rollback Started",
            t + 48 * MIN,
            service="backend",
            deployment_id=d2,
            severity="critical",
            evidence={"alarm_name": "tollgate-staging-backend-5xx-rate"},
        ),
        world.codedeploy_event(d2, "FAILURE", t + 50 * MIN),
        world.announcement(
            "Rollback Restored",
            t + 55 * MIN,
            service="backend",
            deployment_id=d2,
            evidence={"time_to_restore_seconds": 420, "rollback_deployment_id": "d-ROLLBACK01"},
        ),
        # d3 (frontend) goes live at t+70 and a critical alarm fires 30 minutes later: its failure
        world.for_service(world.codedeploy_event(d3, "START", t + 60 * MIN), "frontend"),
        world.for_service(world.codedeploy_event(d3, "SUCCESS", t + 70 * MIN), "frontend"),
        world.announcement("Alarm Announced", t + 100 * MIN, service="frontend", severity="critical"),
        # a backend alarm 120 minutes after d1 went live: outside the 60-minute window, nobody's failure
        world.announcement("Alarm Announced", t + 130 * MIN, service="backend", severity="critical"),
        # d4 goes live at t+150; the alarm at t+160 is d4's (the live one), not d1's
        world.codedeploy_event(d4, "START", t + 140 * MIN),
        world.codedeploy_event(d4, "SUCCESS", t + 150 * MIN),
        world.announcement("Alarm Announced", t + 160 * MIN, service="backend", severity="critical"),
    ]

    # When every event reaches the ledger writer
    results = [ledger_handler.handler(event, world.context()) for event in events]

    # Then every event was recorded, and the table holds exactly: 5 deployment items (4 + the rollback
    # Tollgate named), 1 hook verdict (not 2), 2 rollback decisions and 3 alarms
    assert [r["decision"] for r in results] == ["recorded"] * len(events)
    kinds = sorted(item["kind"]["S"] for item in world.items())
    assert kinds == ["decision"] * 6 + ["deployment"] * 5
    ledger = LedgerTable(LEDGER_TABLE)
    first = ledger.deployment(d1)
    assert first is not None
    assert (first.outcome, first.started_at, first.ended_at, first.duration_seconds) == (
        Outcome.SUCCEEDED,
        t,
        t + 10 * MIN,
        600.0,
    )
    assert (first.service, first.version, first.commit, first.started_by) == ("backend", "1.4.0", "a" * 40, "alice")
    assert first.committed_at == t - 30 * MIN and not first.rolled_back
    assert [d.what for d in ledger.decisions_of(d1)] == ["Hook Verdict"]
    second = ledger.deployment(d2)
    assert second is not None
    assert (second.outcome, second.rolled_back, second.rollback_deployment_id, second.restore_seconds) == (
        Outcome.FAILED,
        True,
        "d-ROLLBACK01",
        420.0,
    )
    rollback = ledger.deployment("d-ROLLBACK01")
    assert rollback is not None and rollback.is_rollback and rollback.rollback_of == d2
    # History is in start order whatever the delivery order
    now = t + 180 * MIN
    listed = [d.deployment_id for d in ledger.deployments("staging", t - MIN, now)]
    assert listed == [d1, d2, d3, d4]

    # And the metrics are the hand-computed ones (7-day lookback, 60-minute change-failure window)
    metrics = as_table(compute(world.config, ledger, now))
    assert metrics["backend"] == {
        "DeploymentCount": 3.0,
        "DeploymentFrequency": pytest.approx(2 / 7),
        "RollbackCount": 1.0,
        "CanaryStepCount": 0.0,
        "LeadTimeSeconds": 2100.0,  # median of d1's 2400 s and d4's 1800 s
        "ChangeFailureRate": pytest.approx(200 / 3),  # d2 (failed, rolled back) and d4 (alarm at t+160)
        "TimeToRestoreSeconds": 420.0,
    }
    assert metrics["frontend"] == {
        "DeploymentCount": 1.0,
        "DeploymentFrequency": pytest.approx(1 / 7),
        "RollbackCount": 0.0,
        "CanaryStepCount": 0.0,
        "LeadTimeSeconds": 4200.0,
        "ChangeFailureRate": 100.0,
    }


def test_foreign_and_malformed_events_are_ignored_and_nothing_is_written(world: LedgerWorld) -> None:
    # Given events the ledger does not record
    foreign = world.codedeploy_event("d-FOREIGN01", "START", datetime.now(UTC))
    foreign["detail"]["application"] = "someone-else"
    events: list[Any] = [
        foreign,
        {"detail-type": "x"},
        [],
        None,
        world.announcement("Nope", datetime.now(UTC), service="backend"),
    ]
    # When they reach the writer
    results = [ledger_handler.handler(event, world.context()) for event in events]
    # Then each is ignored with a reason and the table stays empty
    assert all(r["decision"] == "ignored" and r["reason"] for r in results)
    assert world.items() == []
