"""Issue 9's rollback failures, reproduced, and the fault-injection suite: every AWS call site on the alarm
path x {throttle, AccessDenied, 5xx, timeout, kill before, kill after}, then the platform's retry (the same
event, after the dying invocation's lease ran out). Invariant: the in-flight deployment is stopped exactly
once, and "Rollback Started" (critical) is announced."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.rollback import wiring
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.rollback.scenario import RollbackScenario
from tollgate.embedded_aws import extensions

# The alarm path's AWS calls, in order: group, deployment, lease, stop, lease done, announce, announced.
CALL_SITES = (
    "codedeploy:GetDeploymentGroup",
    "codedeploy:GetDeployment",
    "dynamodb:PutItem",
    "codedeploy:StopDeployment",
    "dynamodb:UpdateItem",
    "events:PutEvents",
)


def _detail_types(scenario: RollbackScenario) -> list[str]:
    return [e["DetailType"] for p in scenario.announcements() for e in p["Entries"]]


def _stops_reaching_aws(scenario: RollbackScenario, deployment_id: str) -> int:
    """StopDeployment calls CodeDeploy accepted: one rollback deployment per accepted stop."""
    return len([c for c in scenario.recorder.named("StopDeployment") if c.params["deploymentId"] == deployment_id])


def _retry_later(monkeypatch: pytest.MonkeyPatch, minutes: int = 2) -> None:
    """Lambda retries a failed asynchronous invocation 1 and then 2 minutes later."""
    later = datetime.now(UTC) + timedelta(minutes=minutes)
    monkeypatch.setattr(wiring, "now", lambda: later)


@pytest.mark.parametrize("kind", [*CALL_FAULTS, *KILLS])
@pytest.mark.parametrize("site", CALL_SITES)
def test_any_fault_then_the_retry_stops_once_and_pages(
    production: RollbackScenario, monkeypatch: pytest.MonkeyPatch, site: str, kind: FaultKind
) -> None:
    # Given a deployment in flight guarded by a critical alarm, and a fault at one AWS call
    deployment_id = production.in_flight_deployment("backend")
    event = production.alarm_event("backend")
    with injected_faults() as faults:
        faults.inject(site, kind)

        # When the alarm is handled (it may fail or die), then the platform retries the same event
        with contextlib.suppress(Exception, SimulatedKill):  # the invocation failed: Lambda will retry
            production.handle(event)
        _retry_later(monkeypatch)
        retried = production.handle(event)

    # Then the deployment was stopped exactly once and "Rollback Started" went out
    assert extensions.deployment_status(deployment_id) == "Stopped"
    accepted = _stops_reaching_aws(production, deployment_id) - (
        site.endswith("StopDeployment") and kind in CALL_FAULTS
    )
    assert accepted - (site.endswith("StopDeployment") and kind is FaultKind.KILL_BEFORE) == 1
    assert "Rollback Started" in _detail_types(production)
    assert retried["decision"] == "rollback"


def test_killed_after_the_claim_before_the_stop_the_retry_stops(
    production: RollbackScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function dies after its claim and before StopDeployment (issue 9: stranded forever)
    deployment_id = production.in_flight_deployment("backend")
    event = production.alarm_event("backend")
    with injected_faults() as faults:
        faults.inject("codedeploy:StopDeployment", FaultKind.KILL_BEFORE)
        with pytest.raises(SimulatedKill):
            production.handle(event)
    # When the platform retries, and a later alarm arrives too
    _retry_later(monkeypatch)
    production.handle(event)
    production.handle(production.alarm_event("backend", at=datetime.now(UTC) + timedelta(minutes=2)))
    # Then the deployment is stopped
    assert extensions.deployment_status(deployment_id) == "Stopped"


def test_throttled_stop_and_failed_release_the_retry_still_stops(
    production: RollbackScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given StopDeployment is throttled and giving the claim back fails too
    deployment_id = production.in_flight_deployment("backend")
    event = production.alarm_event("backend")
    with injected_faults() as faults:
        faults.inject("codedeploy:StopDeployment", FaultKind.THROTTLE)
        faults.inject("dynamodb:DeleteItem", FaultKind.SERVER_ERROR)
        with pytest.raises(Exception, match="ThrottlingException"):
            production.handle(event)
    # When the platform retries after the lease ran out
    _retry_later(monkeypatch)
    result = production.handle(event)
    # Then it stops the deployment
    assert result["decision"] == "rollback"
    assert extensions.deployment_status(deployment_id) == "Stopped"


def test_put_events_failing_after_the_stop_the_retry_announces_rollback_started(
    production: RollbackScenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stop succeeds and the announcement fails
    production.in_flight_deployment("backend")
    event = production.alarm_event("backend")
    with injected_faults() as faults:
        faults.inject("events:PutEvents", FaultKind.SERVER_ERROR)
        with pytest.raises(Exception, match="InternalFailure"):
            production.handle(event)
        # When the platform retries
        _retry_later(monkeypatch)
        production.handle(event)
    # Then the retry announces the critical "Rollback Started", not only "Rollback Skipped"
    sent = [json.loads(e["Detail"]) for p in production.announcements() for e in p["Entries"]]
    started = [d for d in sent if d["summary"].startswith("Rollback started")]
    assert len(started) == 2  # the failed attempt, then the retry's
    assert started[-1]["severity"] == "critical"
    assert "Rollback Skipped" not in _detail_types(production)


def test_twenty_distinct_alarms_one_stop_one_page(production: RollbackScenario) -> None:
    # Given a deployment in flight
    deployment_id = production.in_flight_deployment("backend")
    # When 20 distinct alarms about it arrive
    results = [production.handle(production.alarm_event("backend")) for _ in range(20)]
    # Then one stop, one "Rollback Started", and 19 "Alarm Joined Rollback" (info)
    assert _stops_reaching_aws(production, deployment_id) == 1
    types = _detail_types(production)
    assert types.count("Rollback Started") == 1
    assert types.count("Alarm Joined Rollback") == 19
    joined = [json.loads(e["Detail"]) for p in production.announcements() for e in p["Entries"]][1:]
    assert {d["severity"] for d in joined} == {"info"}
    assert [r["decision"] for r in results].count("joined") == 19


def test_sixteen_concurrent_duplicates_one_stop_no_errors(production: RollbackScenario) -> None:
    # Given one alarm event delivered 16 times at once
    deployment_id = production.in_flight_deployment("backend")
    event = production.alarm_event("backend")
    # When all 16 run concurrently
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: production.handle(event), range(16)))
    # Then one stop, no invocation raised, and one page
    assert _stops_reaching_aws(production, deployment_id) == 1
    assert {a["decision"] for a in answers} <= {"rollback", "in_progress"}
    assert _detail_types(production).count("Rollback Started") == 1


@pytest.mark.parametrize(
    ("account", "region"), [("999999999999", "eu-west-1"), ("123456789012", "us-east-1"), ("333333333333", "eu-west-1")]
)
def test_alarm_from_another_account_or_region_is_ignored(
    production: RollbackScenario, account: str, region: str
) -> None:
    production.in_flight_deployment("backend")
    production.recorder.clear()
    event = production.alarm_event("backend")
    event.update(account=account, region=region)
    result = production.handle(event)
    assert result["decision"] == "ignored"
    assert "account" in result["reason"] or "region" in result["reason"]
    assert production.recorder.mutating() == []
    assert production.announcements() == []


@pytest.mark.parametrize(
    "began", [timedelta(hours=-3), datetime(2001, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)]
)
def test_alarm_older_than_the_deployment_is_announced_not_acted_on(production: RollbackScenario, began: Any) -> None:
    production.in_flight_deployment("backend")
    production.recorder.clear()
    at = datetime.now(UTC) + began if isinstance(began, timedelta) else began
    result = production.handle(production.alarm_event("backend", at=at))
    assert result["decision"] == "announced"
    assert "before deployment" in result["reason"]
    assert production.recorder.mutating() == []


@pytest.mark.parametrize("tags", ["x", 5, None, [1, "a"], [{"Key": 1}], {"a": [1]}, True])
def test_malformed_alarm_tags_are_ignored_cleanly(production: RollbackScenario, tags: Any) -> None:
    event = production.alarm_event("backend", name="lms-backend-queue-errors")
    event["detail"]["alarmTags"] = tags
    result = production.handle(event)
    assert result["decision"] == "ignored"
    assert production.recorder.mutating() == []


def test_the_alarm_path_makes_three_calls_before_the_stop(production: RollbackScenario) -> None:
    production.in_flight_deployment("backend")
    production.recorder.clear()
    production.handle(production.alarm_event("backend"))
    names = [c.operation for c in production.recorder.calls]
    assert names.index("StopDeployment") == 3
    assert names[:3] == ["GetDeploymentGroup", "GetDeployment", "PutItem"]
