"""Operations moto lacks, and moto crashes, fail at once instead of being retried as HTTP 500s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.codedeploy.models import CodeDeployBackend

from lambdas.core import aws

# Operations moto 5.2.5 does not implement, in services with different protocols.
UNIMPLEMENTED: list[tuple[str, str, Callable[[Any], Any]]] = [
    (
        "codedeploy",
        "BatchGetDeploymentGroups",
        lambda c: c.batch_get_deployment_groups(applicationName="lms", deploymentGroupNames=["lms-backend"]),
    ),
    ("cloudwatch", "DescribeAnomalyDetectors", lambda c: c.describe_anomaly_detectors()),
    ("ecs", "ListServiceDeployments", lambda c: c.list_service_deployments(service="lms-backend")),
]


@pytest.mark.parametrize(("service", "operation", "call"), UNIMPLEMENTED)
def test_unimplemented_operation_fails_fast_with_its_name(
    embedded_aws: Any, service: str, operation: str, call: Callable[[Any], Any]
) -> None:
    # Given a client with Tollgate's retry settings (standard mode, 5 attempts)
    client = aws.client(service)
    # When it calls an operation the embedded AWS lacks
    with pytest.raises(ClientError) as error:
        call(client)
    # Then one 400 answer names the operation, with no retries
    response = error.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert f"{service}:{operation}" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 0


def test_a_crash_inside_moto_fails_fast(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a moto backend that crashes (the server runs in this process)
    def crash(self: Any) -> list[str]:
        raise KeyError("securityGroups")

    monkeypatch.setattr(CodeDeployBackend, "list_applications", crash)
    # When a client calls it
    with pytest.raises(ClientError) as error:
        aws.client("codedeploy").list_applications()
    # Then the error names the operation and the crash, at once
    response = error.value.response
    assert response["Error"]["Code"] == "EmbeddedAwsFailure"
    assert "codedeploy:ListApplications" in response["Error"]["Message"]
    assert "KeyError" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
