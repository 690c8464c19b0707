"""The alarm rollback function on the embedded AWS: each branch of the decision, with the AWS calls it made."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.codedeploy.models import codedeploy_backends

from lambdas.core import aws
from lambdas.rollback.adapters.deployments import ROLLBACK_DEPLOYMENT_CONFIG, task_definition_in_appspec
from lambdas.rollback.alarms import AlarmKind
from tests.functional.rollback.scenario import RollbackScenario, alarm_state_change
from tollgate.embedded_aws import extensions


def _detail_types(scenario: RollbackScenario) -> list[str]:
    return [entry["DetailType"] for params in scenario.announcements() for entry in params["Entries"]]


def _details(scenario: RollbackScenario) -> list[dict[str, Any]]:
    return [json.loads(entry["Detail"]) for params in scenario.announcements() for entry in params["Entries"]]


def _claim(deployment_id: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(
        TableName="tollgate-state", Key={"pk": {"S": f"rollback#{deployment_id}"}, "sk": {"S": "claim"}}
    )
    return item.get("Item")


@pytest.mark.parametrize("fixture", ["production", "staging"])
def test_in_flight_deployment_is_stopped_with_rollback(fixture: str, request: Any) -> None:
    # Given a deployment of the backend in flight
    scenario: RollbackScenario = request.getfixturevalue(fixture)
    deployment_id = scenario.in_flight_deployment("backend")
    scenario.recorder.clear()

    # When its 5xx alarm goes to ALARM
    result = scenario.handle(scenario.alarm_event("backend"))

    # Then the deployment is stopped with CodeDeploy's rollback, once, and nothing else is deployed
    stops = scenario.recorder.named("StopDeployment")
    assert [c.params for c in stops] == [{"deploymentId": deployment_id, "autoRollbackEnabled": True}]
    assert scenario.recorder.named("CreateDeployment") == []
    assert scenario.recorder.named("UpdateService") == []
    assert result["decision"] == "rollback"
    assert result["action"] == "stop_deployment"
    assert extensions.deployment_status(deployment_id) == "Stopped"
    assert _detail_types(scenario) == ["Rollback Started"]
    assert _claim(deployment_id) is not None


@pytest.mark.parametrize("fixture", ["production", "staging"])
def test_recently_finished_deployment_redeploys_the_previous_revision(fixture: str, request: Any) -> None:
    # Given the backend's current revision finished deploying a moment ago
    scenario: RollbackScenario = request.getfixturevalue(fixture)
    finished = scenario.finished_deployment("backend")
    previous = scenario.seeded.service("backend").previous_task_definition_arn
    scenario.recorder.clear()

    # When the p99 latency alarm fires
    result = scenario.handle(scenario.alarm_event("backend", AlarmKind.P99_LATENCY))

    # Then the previous task definition is redeployed through CodeDeploy, all at once
    creates = scenario.recorder.named("CreateDeployment")
    assert len(creates) == 1
    params = creates[0].params
    assert params["deploymentGroupName"] == scenario.config.lms.services["backend"].deployment_group
    assert task_definition_in_appspec(params["revision"]) == previous
    assert params["deploymentConfigName"] == ROLLBACK_DEPLOYMENT_CONFIG
    assert scenario.recorder.named("StopDeployment") == []
    assert result["deployment_id"] == finished
    assert result["rollback_deployment_id"]
    assert _detail_types(scenario) == ["Rollback Started"]
    assert _details(scenario)[0]["evidence"]["target_task_definition"] == previous


def test_development_rolls_back_with_an_ecs_service_update(development: RollbackScenario) -> None:
    # Given the development backend runs the current revision, deployed by a rolling update just now
    seeded = development.seeded.service("backend")

    # When its unhealthy hosts alarm fires
    result = development.handle(development.alarm_event("backend", AlarmKind.UNHEALTHY_HOSTS))

    # Then the ECS service is updated to the previous task definition; CodeDeploy is not involved
    updates = development.recorder.named("UpdateService")
    assert len(updates) == 1
    assert updates[0].params["taskDefinition"] == seeded.previous_task_definition_arn
    assert updates[0].params["service"] == development.config.lms.services["backend"].ecs_service
    assert [c for c in development.recorder.calls if c.service == "codedeploy"] == []
    assert result["action"] == "update_service"
    service = aws.client("ecs").describe_services(
        cluster=development.config.lms.ecs_cluster, services=[updates[0].params["service"]]
    )["services"][0]
    assert service["taskDefinition"] == seeded.previous_task_definition_arn


def test_development_rollback_is_not_rolled_back_again(development: RollbackScenario) -> None:
    # Given an alarm already rolled the development backend back
    development.handle(development.alarm_event("backend"))
    development.recorder.clear()

    # When another alarm fires for the backend
    result = development.handle(development.alarm_event("backend", AlarmKind.SERVICE_UNHEALTHY))

    # Then the rollback deployment is recognised and left alone
    assert development.recorder.named("UpdateService") == []
    assert result["decision"] == "skipped"


def test_deployment_outside_the_watch_window_is_only_announced(production: RollbackScenario) -> None:
    # Given the last deployment finished longer ago than the watch window
    finished = production.finished_deployment("backend")
    backend = codedeploy_backends[production.seeded.account_id][production.seeded.region]
    window = timedelta(minutes=production.config.deployment.watch_window_minutes)
    backend.deployments[finished].complete_time = datetime.now(UTC) - window - timedelta(minutes=1)
    production.recorder.clear()

    # When an alarm fires
    result = production.handle(production.alarm_event("backend"))

    # Then nothing is rolled back, and people are told
    assert production.recorder.mutating() == []
    assert result["decision"] == "announced"
    assert "outside" in result["reason"]
    assert _detail_types(production) == ["Alarm Announced"]


def test_a_rollback_deployment_is_never_rolled_back(production: RollbackScenario) -> None:
    # Given CodeDeploy is rolling back a stopped deployment (its rollback deployment is the latest)
    deployment_id = production.in_flight_deployment("backend")
    extensions.stop_deployment(deployment_id, auto_rollback=True)
    production.recorder.clear()

    # When an alarm fires
    result = production.handle(production.alarm_event("backend"))

    # Then the rollback is left alone
    assert production.recorder.mutating() == []
    assert result["decision"] == "skipped"
    assert "never rolls back a rollback" in result["reason"]
    assert _detail_types(production) == ["Rollback Skipped"]


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_ok_and_insufficient_data_do_nothing(production: RollbackScenario, state: str) -> None:
    # Given a deployment in flight
    production.in_flight_deployment("backend")
    production.recorder.clear()

    # When an alarm moves to OK or INSUFFICIENT_DATA
    result = production.handle(production.alarm_event("backend", state=state))

    # Then nothing is read, changed or announced
    assert [c for c in production.recorder.calls if c.service != "dynamodb"] == []
    assert result["decision"] == "ignored"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"suppressed_by": "Alarm"}, "suppressed"),
        ({"muted": True}, "muted"),
    ],
)
def test_suppressed_or_muted_alarms_are_announced_not_acted_on(
    production: RollbackScenario, options: dict[str, Any], expected: str
) -> None:
    # Given a deployment in flight
    production.in_flight_deployment("backend")
    production.recorder.clear()

    # When its composite alarm fires while suppressed or muted
    result = production.handle(production.alarm_event("backend", AlarmKind.SERVICE_UNHEALTHY, **options))

    # Then nothing is rolled back, and the alarm is announced with why
    assert production.recorder.mutating() == []
    assert result["decision"] == "announced"
    assert expected in result["reason"]
    assert _detail_types(production) == ["Alarm Announced"]


def test_alarm_tollgate_does_not_guard_is_ignored(production: RollbackScenario) -> None:
    # Given a deployment in flight and an alarm of someone else's, without Tollgate's tags
    production.in_flight_deployment("backend")
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_alarm(**_alarm_definition("billing-queue-depth"), Tags=[{"Key": "team", "Value": "billing"}])
    production.recorder.clear()

    # When it fires
    result = production.handle(alarm_state_change("billing-queue-depth"))

    # Then its tags were read, and it is ignored with a reason: no rollback, no announcement
    assert production.recorder.named("ListTagsForResource")
    assert production.recorder.mutating() == []
    assert production.announcements() == []
    assert result["decision"] == "ignored"
    assert "guards nothing" in result["reason"]


def test_alarm_created_outside_tollgate_opts_in_with_tags(production: RollbackScenario) -> None:
    # Given a deployment in flight and an LMS team's own alarm tagged for Tollgate
    deployment_id = production.in_flight_deployment("frontend")
    tags = {"tollgate:environment": "production", "tollgate:service": "frontend", "tollgate:severity": "critical"}
    aws.client("cloudwatch").put_metric_alarm(
        **_alarm_definition("lms-frontend-js-errors"), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    production.recorder.clear()

    # When it fires (the event carries no alarmTags)
    result = production.handle(alarm_state_change("lms-frontend-js-errors"))

    # Then Tollgate reads its tags and rolls the frontend back
    assert production.recorder.named("ListTagsForResource")
    assert [c.params["deploymentId"] for c in production.recorder.named("StopDeployment")] == [deployment_id]
    assert result["service"] == "frontend"


def test_alarm_tags_in_the_event_are_used_without_reading_cloudwatch(production: RollbackScenario) -> None:
    # Given a deployment in flight
    deployment_id = production.in_flight_deployment("backend")
    production.recorder.clear()
    tags = {"tollgate:environment": "production", "tollgate:service": "backend"}

    # When an alarm with Tollgate's tags in the event fires
    production.handle(alarm_state_change("lms-backend-queue-errors", tags=tags))

    # Then no tag lookup is needed and the deployment is stopped
    assert production.recorder.named("ListTagsForResource") == []
    assert [c.params["deploymentId"] for c in production.recorder.named("StopDeployment")] == [deployment_id]


def test_warning_alarm_is_announced_without_rollback(production: RollbackScenario) -> None:
    # Given a deployment in flight
    production.in_flight_deployment("backend")
    production.recorder.clear()

    # When the loan submissions anomaly alarm (a warning) fires
    result = production.handle(production.alarm_event("backend", AlarmKind.LOAN_SUBMISSIONS_ANOMALY))

    # Then it is announced, not acted on
    assert production.recorder.mutating() == []
    assert result["decision"] == "announced"
    assert _details(production)[0]["severity"] == "warning"


def test_malformed_alarm_event_is_ignored_with_a_reason(production: RollbackScenario) -> None:
    # Given an alarm state change without a state
    event = production.alarm_event("backend")
    del event["detail"]["state"]

    # When it arrives
    result = production.handle(event)

    # Then it is ignored, nothing is called but the idempotency record
    assert result["decision"] == "ignored"
    assert "malformed" in result["reason"]
    assert production.recorder.mutating() == []


def test_unknown_event_is_ignored(production: RollbackScenario) -> None:
    result = production.handle({"id": "x", "detail-type": "Something Else", "detail": {}})
    assert result["decision"] == "ignored"
    assert production.recorder.calls == []


def _alarm_definition(name: str) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "MetricName": "Errors",
        "Namespace": "LMS",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
