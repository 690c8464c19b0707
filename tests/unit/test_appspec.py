"""One ECS AppSpec builder for the pipeline, the rollback redeploy and the embedded AWS."""

from __future__ import annotations

import hashlib
import json

from lambdas.core.appspec import appspec_content, appspec_revision, ecs_appspec

ARN = "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:41"


def test_appspec_names_task_definition_container_and_hooks_in_the_given_order() -> None:
    spec = ecs_appspec(
        ARN, container_name="backend", container_port=8000, hooks={"BeforeInstall": "a", "AfterAllowTraffic": "b"}
    )
    properties = spec["Resources"][0]["TargetService"]["Properties"]
    assert properties == {
        "TaskDefinition": ARN,
        "LoadBalancerInfo": {"ContainerName": "backend", "ContainerPort": 8000},
    }
    assert spec["Hooks"] == [{"BeforeInstall": "a"}, {"AfterAllowTraffic": "b"}]


def test_no_hooks_means_no_hooks_section() -> None:
    assert "Hooks" not in ecs_appspec(ARN, container_name="frontend", container_port=80)


def test_revision_carries_the_content_and_its_sha256() -> None:
    content = appspec_content(ecs_appspec(ARN, container_name="backend", container_port=8000))
    revision = appspec_revision(content)
    assert revision["revisionType"] == "AppSpecContent"
    assert json.loads(revision["appSpecContent"]["content"])["Resources"][0]["TargetService"]["Type"] == (
        "AWS::ECS::Service"
    )
    assert revision["appSpecContent"]["sha256"] == hashlib.sha256(content.encode()).hexdigest()
