"""The version a CodeDeploy revision names."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.notifier.adapters.codedeploy_revision import CodeDeployRevisionLookup
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


class _CodeDeploy:
    """A stand-in CodeDeploy client: GetDeployment answers the AppSpec revision, or ``failing`` errors."""

    def __init__(self, failing: int = 0) -> None:
        self.asked: list[str] = []
        self.failing = failing

    def get_deployment(self, deploymentId: str) -> dict[str, Any]:  # noqa: N803 - boto3's parameter name
        self.asked.append(deploymentId)
        if self.failing:
            self.failing -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetDeployment")
        return {
            "deploymentInfo": {"revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": APPSPEC}}}
        }


def test_a_deployments_version_is_asked_of_codedeploy_once_and_a_failed_lookup_again() -> None:
    # Given a lookup whose first GetDeployment is throttled
    codedeploy = _CodeDeploy(failing=1)
    lookup = CodeDeployRevisionLookup(codedeploy)
    # When the deployment's events ask for its version, and another deployment's
    versions = [lookup.deployed_version("d-ONE") for _ in range(3)] + [lookup.deployed_version("d-TWO")]
    # Then the failure is not kept (asked again), the answer is (the revision never changes)
    assert versions == [None, "lms-production-backend:42", "lms-production-backend:42", "lms-production-backend:42"]
    assert codedeploy.asked == ["d-ONE", "d-ONE", "d-TWO"]
