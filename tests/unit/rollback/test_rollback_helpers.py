"""Pure helpers of the rollback: AppSpec reading and writing, alarm names, announcements."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from lambdas.core.config import load_environment
from lambdas.core.tollgate_events import DetailType
from lambdas.rollback.adapters.deployments import rollback_appspec, task_definition_in_appspec
from lambdas.rollback.alarms import AlarmKind, alarm_name, guard_from_name
from lambdas.rollback.announcements import decision_event, restored_event
from lambdas.rollback.models import Outcome, RollbackDecision, RollbackRecord

ARN = "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:6"
YAML = f"""version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "{ARN}"
        LoadBalancerInfo:
          ContainerName: "backend"
          ContainerPort: 8000
"""


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        (rollback_appspec(ARN, load_environment("production").lms.services["backend"]), ARN),
        ({"appSpecContent": {"content": YAML}}, ARN),
        ({"appSpecContent": {"content": json.dumps({"Resources": []})}}, None),
        ({"revisionType": "S3"}, None),
        (None, None),
    ],
)
def test_task_definition_is_read_from_json_or_yaml_appspec(revision: dict[str, object] | None, expected: str) -> None:
    assert task_definition_in_appspec(revision) == expected


def test_rollback_appspec_deploys_the_container_with_a_matching_digest_and_no_hooks() -> None:
    backend = load_environment("production").lms.services["backend"]
    revision = rollback_appspec(ARN, backend)
    content = revision["appSpecContent"]["content"]
    spec = json.loads(content)
    properties = spec["Resources"][0]["TargetService"]["Properties"]
    assert properties["LoadBalancerInfo"] == {"ContainerName": "backend", "ContainerPort": 8000}
    assert "Hooks" not in spec
    assert revision["appSpecContent"]["sha256"] == hashlib.sha256(content.encode()).hexdigest()


@pytest.mark.parametrize("kind", list(AlarmKind))
def test_every_alarm_name_maps_back_to_its_service(kind: AlarmKind) -> None:
    config = load_environment("staging")
    for service in config.lms.services:
        guard = guard_from_name(alarm_name("staging", service, kind), config)
        assert guard is not None
        assert (guard.service, guard.kind) == (service, kind)


def test_restored_event_measures_from_the_alarm() -> None:
    alarm_time = datetime(2026, 3, 12, 14, 20, 42, tzinfo=UTC)
    record = RollbackRecord(
        environment="production",
        service="backend",
        deployment_id="d-ABCDEF123",
        action="stop_deployment",
        alarm_name="tollgate-production-backend-5xx-rate",
        alarm_time=alarm_time,
        started_at=alarm_time + timedelta(seconds=3),
    )
    event = restored_event(record, restored_at=alarm_time + timedelta(seconds=95), rollback_deployment_id="d-ROLLBACK1")
    assert event.detail_type is DetailType.ROLLBACK_RESTORED
    assert event.evidence["time_to_restore_seconds"] == 95
    assert event.deployment_id == "d-ABCDEF123"


@pytest.mark.parametrize(
    ("outcome", "detail_type"),
    [
        (Outcome.ROLLBACK, DetailType.ROLLBACK_STARTED),
        (Outcome.SKIPPED, DetailType.ROLLBACK_SKIPPED),
        (Outcome.ANNOUNCED, DetailType.ALARM_ANNOUNCED),
        (Outcome.IGNORED, None),
    ],
)
def test_each_outcome_has_its_announcement(outcome: Outcome, detail_type: DetailType | None) -> None:
    decision = RollbackDecision(outcome=outcome, reason="because", environment="staging", service="frontend")
    event = decision_event(decision, now=datetime(2026, 3, 12, tzinfo=UTC), evidence={"alarm_name": "x"})
    assert (event.detail_type if event else None) == detail_type
    if event:
        assert event.reason == "because"
        assert event.evidence["alarm_name"] == "x"
