"""Rollback Restored: announced once when the deployment Tollgate started as a rollback succeeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.codedeploy.models import codedeploy_backends

from lambdas.core import aws
from tests.faults import FaultKind, SimulatedKill, injected_faults
from tests.functional.rollback.scenario import RollbackScenario, deployment_state_change
from tollgate.embedded_aws import extensions
from tollgate.local.context import LocalLambdaContext


def _restored(scenario: RollbackScenario) -> list[dict[str, Any]]:
    return [
        json.loads(entry["Detail"])
        for params in scenario.announcements()
        for entry in params["Entries"]
        if entry["DetailType"] == "Rollback Restored"
    ]


def test_redeploy_success_announces_the_time_to_restore(production: RollbackScenario) -> None:
    # Given an alarm two minutes ago made Tollgate redeploy the previous revision
    finished = production.finished_deployment("backend")
    alarm_time = datetime.now(UTC) - timedelta(minutes=2)
    # (the release was created before the alarm: an alarm older than the deployment is only announced)
    backend = codedeploy_backends[production.seeded.account_id][production.seeded.region]
    for deployment in backend.deployments.values():  # keep their order: the latest stays the latest
        deployment.create_time -= timedelta(minutes=5)
    assert finished in backend.deployments
    started = production.handle(production.alarm_event("backend", at=alarm_time))
    rollback_id = started["rollback_deployment_id"]
    extensions.set_deployment_status(rollback_id, "Succeeded")
    finished_at = datetime.now(UTC).replace(microsecond=0)

    # When CodeDeploy reports the rollback deployment's success (twice: delivery is at least once)
    first = production.handle(deployment_state_change(rollback_id, at=finished_at))
    again = production.handle(deployment_state_change(rollback_id, at=finished_at))

    # Then Rollback Restored is announced once, with the time from the alarm to the restore
    restored = _restored(production)
    assert len(restored) == 1
    expected = (finished_at - alarm_time).total_seconds()
    assert abs(restored[0]["evidence"]["time_to_restore_seconds"] - expected) < 1.0
    assert restored[0]["deployment_id"] == started["deployment_id"]
    assert first["decision"] == "restored"
    assert again["decision"] == "ignored"


def test_codedeploy_rollback_after_a_stop_is_announced_restored(production: RollbackScenario) -> None:
    # Given Tollgate stopped an in-flight deployment, and CodeDeploy's rollback deployment finished
    deployment_id = production.in_flight_deployment("backend")
    production.handle(production.alarm_event("backend"))
    info = aws.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    rollback_id = info["rollbackInfo"]["rollbackDeploymentId"]

    # When its success arrives
    result = production.handle(deployment_state_change(rollback_id))

    # Then the restore is announced for the stopped deployment
    assert result["decision"] == "restored"
    assert [r["deployment_id"] for r in _restored(production)] == [deployment_id]


def test_success_of_an_ordinary_deployment_is_ignored(production: RollbackScenario) -> None:
    # Given an ordinary release that succeeded
    deployment_id = production.finished_deployment("backend")

    # When its success arrives
    result = production.handle(deployment_state_change(deployment_id))

    # Then nothing is announced
    assert result["decision"] == "ignored"
    assert _restored(production) == []


def test_other_deployment_states_are_ignored(production: RollbackScenario) -> None:
    result = production.handle(deployment_state_change("d-ANYTHING1", state="START"))
    assert result["decision"] == "ignored"
    assert production.recorder.calls == [c for c in production.recorder.calls if c.service == "dynamodb"]


def test_ecs_rollback_completion_is_announced_in_development(development: RollbackScenario) -> None:
    # Given an alarm rolled the development backend back with an ECS service update
    started = development.handle(development.alarm_event("backend"))

    # When ECS reports that deployment completed
    result = development.handle(deployment_state_change(started["rollback_deployment_id"], source="aws.ecs"))

    # Then the restore is announced
    assert result["decision"] == "restored"
    assert len(_restored(development)) == 1


def test_success_of_a_deployment_codedeploy_does_not_know_is_ignored(production: RollbackScenario) -> None:
    # Given a success notification for a deployment id the account has never seen
    # When it arrives
    result = production.handle(deployment_state_change("d-UNKNOWN99"))
    # Then it is ignored with the reason, and nothing is announced
    assert result["decision"] == "ignored"
    assert "not a rollback Tollgate started" in result["reason"]
    assert _restored(production) == []


def test_a_restore_recorded_by_an_invocation_killed_before_announcing_is_announced_by_its_retry(
    production: RollbackScenario,
) -> None:
    # Given Tollgate's redeploy of the previous revision has succeeded
    production.finished_deployment("backend")
    backend = codedeploy_backends[production.seeded.account_id][production.seeded.region]
    for deployment in backend.deployments.values():
        deployment.create_time -= timedelta(minutes=5)
    started = production.handle(production.alarm_event("backend", at=datetime.now(UTC) - timedelta(minutes=2)))
    rollback_id = started["rollback_deployment_id"]
    extensions.set_deployment_status(rollback_id, "Succeeded")
    succeeded = deployment_state_change(rollback_id, at=datetime.now(UTC).replace(microsecond=0))

    def invoke(request_id: str) -> Any:
        from lambdas.rollback.handler import handler  # noqa: PLC0415 - after the scenario's env vars

        return handler(succeeded, LocalLambdaContext(function_name="tollgate-rollback", aws_request_id=request_id))

    # When the invocation dies right after recording the restore (the record landed, nothing was announced)
    with injected_faults() as faults:
        faults.inject("dynamodb:PutItem", FaultKind.KILL_AFTER)
        with pytest.raises(SimulatedKill):
            invoke("request-1")
        assert faults.hit() == 1, faults.operations
    assert _restored(production) == []
    # Then Lambda's retry of it (the same request id) finds the record its own and announces it, once
    assert invoke("request-1")["decision"] == "restored"
    # And a duplicate delivery (another invocation) finds it someone else's
    assert invoke("request-2")["decision"] == "ignored"
    assert len(_restored(production)) == 1
