"""One rollback per deployment, however many alarms, duplicates and flaps arrive."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.rollback.adapters.deployments import Deployments, RollbackActionError
from lambdas.rollback.adapters.ledger import RollbackLedger
from lambdas.rollback.alarms import AlarmKind
from lambdas.rollback.execute import RollbackPorts, carry_out
from lambdas.rollback.models import Outcome, RollbackAction, RollbackDecision
from tests.functional.rollback.scenario import RollbackScenario

STORM_SIZE = 1000  # the bench plays the full storm and times it
TEST_STORM_SIZE = 300  # enough duplicates, flaps and kinds for the invariant, fast on a loaded machine
KINDS = [AlarmKind.ERROR_RATE, AlarmKind.P99_LATENCY, AlarmKind.UNHEALTHY_HOSTS, AlarmKind.SERVICE_UNHEALTHY]


def _storm(scenario: RollbackScenario, services: list[str], size: int, seed: int) -> list[dict[str, Any]]:
    """ALARM events for ``services``, with exact duplicates (same event id) and ALARM->OK->ALARM flaps."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    events: list[dict[str, Any]] = []
    while len(events) < size:
        service = rng.choice(services)
        roll = rng.random()
        if roll < 0.3 and events:
            events.append(rng.choice(events))  # EventBridge delivered the same event again
        elif roll < 0.5:
            state = rng.choice(["OK", "INSUFFICIENT_DATA"])  # the alarm flapped
            events.append(scenario.alarm_event(service, rng.choice(KINDS), state=state))
        else:
            events.append(scenario.alarm_event(service, rng.choice(KINDS)))
    return events


def _deliver(scenario: RollbackScenario, events: list[dict[str, Any]], workers: int = 8) -> dict[str, dict[str, Any]]:
    """Deliver concurrently, as Lambda would (a duplicate still in progress is retried later, as EventBridge
    does); return each event id's answers, which must agree."""
    answers: dict[str, list[dict[str, Any]]] = {}
    retry: list[dict[str, Any]] = []

    def one(event: dict[str, Any]) -> None:
        answer = scenario.handle(event)  # no invocation raises: a duplicate in flight answers "in_progress"
        if answer["decision"] == "in_progress":
            retry.append(event)
        else:
            answers.setdefault(event["id"], []).append(answer)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, events))
    for event in retry:
        one(event)
    assert sum(len(a) for a in answers.values()) == len(events)
    assert [each for each in answers.values() if any(answer != each[0] for answer in each)] == []
    return {event_id: each[0] for event_id, each in answers.items()}


def test_a_storm_of_alarms_stops_the_deployment_once(production: RollbackScenario) -> None:
    # Given a backend deployment in flight
    deployment_id = production.in_flight_deployment("backend")
    events = _storm(production, ["backend"], TEST_STORM_SIZE, seed=7)
    production.recorder.clear()

    # When a storm of alarm events arrives at once: duplicates, flaps, every kind of alarm
    # (how long it takes is measured by `make bench`, never asserted here)
    results = _deliver(production, events)

    # Then the deployment is stopped exactly once, and every event got one consistent answer
    stops = production.recorder.named("StopDeployment")
    assert [c.params for c in stops] == [{"deploymentId": deployment_id, "autoRollbackEnabled": True}]
    assert [r["decision"] for r in results.values()].count("rollback") == 1


def test_a_storm_for_two_services_rolls_each_back_once(production: RollbackScenario) -> None:
    # Given deployments of both services in flight
    deployments = {s: production.in_flight_deployment(s) for s in ("backend", "frontend")}
    events = _storm(production, ["backend", "frontend"], 300, seed=11)
    production.recorder.clear()

    # When alarms for both arrive mixed together
    results = _deliver(production, events)

    # Then each deployment is stopped exactly once
    stopped = sorted(c.params["deploymentId"] for c in production.recorder.named("StopDeployment"))
    assert stopped == sorted(deployments.values())
    assert sorted(r["service"] for r in results.values() if r["decision"] == "rollback") == ["backend", "frontend"]


def test_a_duplicated_event_acts_once_and_answers_the_same(production: RollbackScenario) -> None:
    # Given a deployment in flight and one alarm event
    production.in_flight_deployment("backend")
    event = production.alarm_event("backend")

    # When EventBridge delivers it twice
    first = production.handle(event)
    second = production.handle(event)

    # Then it acted once; the duplicate returns the stored answer
    assert len(production.recorder.named("StopDeployment")) == 1
    assert second == first


def test_the_claim_lets_only_the_first_rollback_act(production: RollbackScenario) -> None:
    # Given two alarms that both decided to roll back the same finished deployment
    finished = production.finished_deployment("backend")
    previous = production.seeded.service("backend").previous_task_definition_arn
    decision = RollbackDecision(
        outcome=Outcome.ROLLBACK,
        action=RollbackAction.REDEPLOY_PREVIOUS,
        reason="test",
        environment="production",
        service="backend",
        deployment_id=finished,
        target_task_definition=previous,
    )
    ports = RollbackPorts(deployments=Deployments(production.config), ledger=RollbackLedger("tollgate-state"))
    now = datetime.now(UTC)
    lease = timedelta(seconds=30)
    production.recorder.clear()

    # When both carry their decision out
    first = carry_out(decision, ports, trigger="alarm-a", trigger_time=now, now=now, owner="a", lease=lease)
    second = carry_out(decision, ports, trigger="alarm-b", trigger_time=now, now=now, owner="b", lease=lease)

    # Then only the first deploys; the second joins the rollback (announced as info), naming the first
    assert len(production.recorder.named("CreateDeployment")) == 1
    assert first.decision.outcome is Outcome.ROLLBACK
    assert second.decision.outcome is Outcome.JOINED
    assert "alarm-a" in second.decision.reason


def test_a_failed_action_releases_the_claim_so_a_retry_can_act(
    production: RollbackScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment in flight and CodeDeploy refusing the first stop
    deployment_id = production.in_flight_deployment("backend")
    original = Deployments.stop_with_rollback
    failures = iter([RollbackActionError("StopDeployment: ThrottlingException")])

    def flaky_stop(self: Deployments, deployment: str) -> str:
        error = next(failures, None)
        if error:
            raise error
        return original(self, deployment)

    monkeypatch.setattr(Deployments, "stop_with_rollback", flaky_stop)
    event = production.alarm_event("backend")

    # When the alarm is handled, fails, and Lambda retries it a minute later (after the lease ran out)
    with pytest.raises(RollbackActionError):
        production.handle(event)
    later = datetime.now(UTC) + timedelta(minutes=2)
    monkeypatch.setattr("lambdas.rollback.wiring.now", lambda: later)
    result = production.handle(event)

    # Then the retry stops the deployment
    assert result["decision"] == "rollback"
    assert [c.params["deploymentId"] for c in production.recorder.named("StopDeployment")] == [deployment_id]


def test_the_same_event_twice_stops_once_and_answers_the_same(production: RollbackScenario) -> None:
    # Given a deployment in flight (the lease is the idempotency record: no separate table is used)
    production.in_flight_deployment("backend")
    event = production.alarm_event("backend")

    # When the same event arrives twice
    results = [production.handle(event), production.handle(event)]

    # Then the deployment is stopped once and the duplicate answers as the first did
    assert len(production.recorder.named("StopDeployment")) == 1
    assert [r["decision"] for r in results] == ["rollback", "rollback"]
    assert results[0] == results[1]
