"""The version a CodeDeploy revision names."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.notifier.revision import version_from_revision

APPSPEC = """version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:42"
"""


@pytest.mark.parametrize(
    ("revision", "version"),
    [
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": APPSPEC}}, "lms-production-backend:42"),
        ({"revisionType": "AppSpecContent", "appSpecContent": {"content": "TaskDefinition: <TASK_DEFINITION>"}}, None),
        (
            {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "lms/app.zip", "version": "v7"}},
            "s3://b/lms/app.zip (v7)",
        ),
        ({"revisionType": "S3", "s3Location": {"bucket": "b", "key": "lms/app.zip"}}, "s3://b/lms/app.zip"),
        ({"revisionType": "GitHub", "gitHubLocation": {"commitId": "abc"}}, None),
        ({}, None),
    ],
)
def test_version_from_revision(revision: dict[str, Any], version: str | None) -> None:
    assert version_from_revision(revision) == version
