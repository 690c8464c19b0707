"""The ledger's use cases over fakes: any order and any duplication of events gives one record; metrics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.core.config import load_environment
from lambdas.ledger.description import format_description, parse_description
from lambdas.ledger.metrics import Window, build_metrics, failed_changes
from lambdas.ledger.model import BuildRecord, DecisionRecord, DeploymentRecord, Outcome
from lambdas.ledger.ports import DeploymentInfo
from lambdas.ledger.publish import publish_pipeline_metrics
from lambdas.ledger.record import LedgerPorts, record_event
from tests.unit.ledger.fakes import FakeDeployments, FakeLedger, FakeMetrics

STAGING = load_environment("staging")
T = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def _state(deployment_id: str, state: str, at: datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{deployment_id}/{state}")),
        "source": "aws.codedeploy",
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": {
            "deploymentId": deployment_id,
            "application": "lms-staging",
            "deploymentGroup": "lms-staging-backend",
            "state": state,
        },
    }


def _ports(**infos: DeploymentInfo) -> tuple[FakeLedger, LedgerPorts]:
    ledger = FakeLedger()
    return ledger, LedgerPorts(ledger=ledger, deployments=FakeDeployments(infos=dict(infos)))


EVENTS = [_state("d-ONE", "START", T), _state("d-ONE", "READY", T + MIN), _state("d-ONE", "SUCCESS", T + 5 * MIN)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(EVENTS))), min_size=len(EVENTS), max_size=9).filter(
        lambda xs: set(xs) == {0, 1, 2}
    )
)
def test_any_order_and_duplication_gives_the_same_record(order: list[int]) -> None:
    # Given every event at least once, in any order, with duplicates
    ledger, ports = _ports()
    # When they are recorded
    for index in order:
        record_event(EVENTS[index], STAGING, ports)
    # Then the record is the one of the in-order delivery
    record = ledger.records["d-ONE"]
    assert (record.outcome, record.started_at, record.ended_at, record.service) == (
        Outcome.SUCCEEDED,
        T,
        T + 5 * MIN,
        "backend",
    )


def test_codedeploys_rollback_marks_the_rolled_back_deployment_restored_when_it_succeeds() -> None:
    # Given CodeDeploy's rollback deployment of d-BAD
    info = DeploymentInfo("d-RB", "Succeeded", T, T + 3 * MIN, "Rollback of d-BAD", "codeDeployRollback", "d-BAD", None)
    ledger, ports = _ports(**{"d-RB": info})
    # When the rollback's SUCCESS and then d-BAD's FAILURE arrive (reverse order)
    record_event(_state("d-RB", "SUCCESS", T + 3 * MIN), STAGING, ports)
    record_event(_state("d-BAD", "FAILURE", T + MIN), STAGING, ports)
    # Then d-BAD is rolled back and restored 2 minutes after it failed; d-RB is a rollback, not a change
    bad, rollback = ledger.records["d-BAD"], ledger.records["d-RB"]
    assert (bad.outcome, bad.rolled_back, bad.rollback_deployment_id, bad.restore_seconds) == (
        Outcome.FAILED,
        True,
        "d-RB",
        120.0,
    )
    assert rollback.is_rollback and rollback.rollback_of == "d-BAD" and rollback.started_by == "codeDeployRollback"


def test_the_release_description_round_trips_and_junk_is_none() -> None:
    text = format_description(version="1.4.2", commit="A" * 40, committed_at="2026-03-12T13:58:02Z", actor="octocat")
    parsed = parse_description(text)
    assert (parsed.version, parsed.commit, parsed.committed_at, parsed.actor) == (
        "1.4.2",
        "a" * 40,
        datetime(2026, 3, 12, 13, 58, 2, tzinfo=UTC),
        "octocat",
    )
    junk = parse_description("commit=nothex committed_at=yesterday")
    assert (junk.commit, junk.committed_at, junk.version) == (None, None, None)
    assert len(format_description(version="v" * 300, commit="a", committed_at="x", actor="y")) == 256


def _deployment(identifier: str, ended: datetime, outcome_state: str = "SUCCESS", **extra: Any) -> DeploymentRecord:
    return DeploymentRecord(identifier, "staging", "backend", {"START": ended - 5 * MIN, outcome_state: ended}, **extra)


def _alarm(at: datetime, deployment_id: str | None = None) -> DecisionRecord:
    return DecisionRecord(
        str(at),
        "staging",
        "Alarm Announced",
        "alarm",
        "",
        "critical",
        at,
        "tollgate rollback",
        "backend",
        deployment_id,
    )


def test_an_incident_counts_against_the_live_deployment_only_within_the_window() -> None:
    # Given three backend releases an hour apart
    first, second, third = (_deployment(f"d-{i}", T + i * 60 * MIN) for i in range(3))
    window = timedelta(minutes=30)
    # When alarms fire 10 min after the second went live, and 45 min after the third
    failed = failed_changes([first, second, third], [_alarm(T + 70 * MIN), _alarm(T + 165 * MIN)], window)
    # Then only the second counts: the first was no longer live, the third's alarm came after the window
    assert failed == {"d-1"}


def test_builds_count_the_latest_attempt_and_skip_cancelled_runs() -> None:
    def build(run: int, attempt: int, conclusion: str, minutes: int) -> BuildRecord:
        return BuildRecord(run, attempt, "acme/lms", "Deploy", conclusion, "a" * 40, "main", "me", T, T + minutes * MIN)

    window = Window(T - timedelta(days=1), T + timedelta(days=1), timedelta(hours=1))
    metrics = build_metrics(
        "staging",
        [build(1, 1, "failure", 4), build(1, 2, "success", 6), build(2, 1, "success", 10), build(3, 1, "cancelled", 1)],
        window,
    )
    assert metrics is not None and metrics.as_dict() == {
        "BuildCount": 2.0,
        "BuildSuccessRate": 100.0,
        "BuildDurationSeconds": 480.0,
    }


def test_the_publisher_sends_one_metric_set_per_service_to_the_sink() -> None:
    ledger, ports = _ports()
    for event in EVENTS:
        record_event(event, STAGING, ports)
    sink = FakeMetrics()
    result = publish_pipeline_metrics(STAGING, ledger, sink, T + timedelta(hours=1))
    assert result.decision == "published"
    assert [(p["service"], p["DeploymentCount"], p["ChangeFailureRate"]) for p in sink.published] == [
        ("backend", 1.0, 0.0)
    ]
    empty = publish_pipeline_metrics(STAGING, FakeLedger(), FakeMetrics(), T)
    assert (empty.decision, empty.reason) == ("published", "nothing in the window")
