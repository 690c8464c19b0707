"""Adapter: CodeDeploy calls the hooks make (which deployment is this, and the report)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.hooks.model import ReportStatus

THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
# CodeDeploy answers this when the hook execution already has a status: the report is done.
ALREADY_COMPLETED = "LifecycleEventAlreadyCompletedException"
REPORT_ATTEMPTS = 5


class DeploymentLookupError(Exception):
    """GetDeployment failed or the deployment does not exist."""


# Errors no retry can fix: the deployment or execution is unknown, or the request is malformed.
PERMANENT_REPORT_ERRORS = frozenset(
    {
        "DeploymentDoesNotExistException",
        "InvalidDeploymentIdException",
        "DeploymentIdRequiredException",
        "InvalidLifecycleEventHookExecutionIdException",
        "InvalidLifecycleEventHookExecutionStatusException",
        "UnsupportedActionForDeploymentTypeException",
        "AccessDeniedException",
    }
)


class ReportError(Exception):
    """PutLifecycleEventHookExecutionStatus failed after every retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class DeploymentTarget:
    application: str
    deployment_group: str
    status: str


def describe_deployment(deployment_id: str, *, client: Any | None = None) -> DeploymentTarget:
    codedeploy = client or aws.client("codedeploy")
    try:
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise DeploymentLookupError(f"GetDeployment {deployment_id}: {code}") from error
    except BotoCoreError as error:
        raise DeploymentLookupError(f"GetDeployment {deployment_id}: {error}") from error
    return DeploymentTarget(
        application=str(info.get("applicationName", "")),
        deployment_group=str(info.get("deploymentGroupName", "")),
        status=str(info.get("status", "")),
    )


def report_hook_status(
    *,
    deployment_id: str,
    execution_id: str,
    status: ReportStatus,
    client: Any | None = None,
    attempts: int = REPORT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> Literal["reported", "already_completed"]:
    """Report the hook's status. The client already retries in standard mode; on top, throttling is retried
    a bounded number of times with backoff, because a lost report hangs the deployment for an hour."""
    codedeploy = client or aws.client("codedeploy")
    for attempt in range(1, attempts + 1):
        try:
            codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status.value
            )
            return "reported"
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == ALREADY_COMPLETED:
                return "already_completed"
            if code not in THROTTLING_CODES or attempt == attempts:
                raise ReportError(
                    f"PutLifecycleEventHookExecutionStatus {deployment_id}: {code}",
                    permanent=code in PERMANENT_REPORT_ERRORS,
                ) from error
        except BotoCoreError as error:
            if attempt == attempts:
                raise ReportError(f"PutLifecycleEventHookExecutionStatus {deployment_id}: {error}") from error
        sleep(min(0.25 * 2 ** (attempt - 1), 2.0))
    raise ReportError(f"PutLifecycleEventHookExecutionStatus {deployment_id}: no attempts made")
