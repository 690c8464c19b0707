"""Adapter: the CodeDeploy calls of the hooks (which deployment is this, and the report)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.errors import describe, error_code, is_access_denied, is_throttling
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import DeploymentLookupError, OutOfTimeError, ReportError
from lambdas.hooks.model import ReportStatus

# CodeDeploy answers this when the hook execution already has a status: the report is done. It is CodeDeploy's
# own idempotence: "An attempt to return the status of an already completed lifecycle event occurred."
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html
ALREADY_COMPLETED = "LifecycleEventAlreadyCompletedException"
REPORT_ATTEMPTS = 5

# Errors no retry can fix: the deployment or execution is unknown, or the request is malformed.
PERMANENT_REPORT_ERRORS = frozenset(
    {
        "DeploymentDoesNotExistException",
        "InvalidDeploymentIdException",
        "DeploymentIdRequiredException",
        "InvalidLifecycleEventHookExecutionIdException",
        "InvalidLifecycleEventHookExecutionStatusException",
        "UnsupportedActionForDeploymentTypeException",
        "ValidationException",
    }
)

ReportOutcome = Literal["reported", "already_completed"]

__all__ = [
    "CodeDeployDeployments",
    "CodeDeployReporter",
    "DeploymentLookupError",
    "DeploymentTarget",
    "ReportError",
    "describe_deployment",
    "report_hook_status",
]


@dataclass(frozen=True)
class DeploymentTarget:
    application: str
    deployment_group: str
    status: str


def describe_deployment(
    deployment_id: str, *, deadline: Deadline | None = None, client: Any | None = None
) -> DeploymentTarget:
    try:
        codedeploy = client or budgeted_client("codedeploy", deadline or Deadline(at=time.monotonic() + 30))
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    except (ClientError, BotoCoreError, OutOfTimeError) as error:
        raise DeploymentLookupError(f"GetDeployment {deployment_id}: {error_code(error)}") from error
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
    deadline: Deadline,
    client: Any | None = None,
    attempts: int = REPORT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportOutcome:
    """Report the hook's status before ``deadline``. Each attempt's client fits what is left; throttling is
    retried on top while time remains, because a lost report hangs the deployment for an hour."""
    for attempt in range(1, attempts + 1):
        try:
            codedeploy = client or budgeted_client("codedeploy", deadline)
            codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status.value
            )
            return "reported"
        except OutOfTimeError as error:
            raise ReportError(f"PutLifecycleEventHookExecutionStatus {deployment_id}: {error}") from error
        except (ClientError, BotoCoreError) as error:
            code = error_code(error)
            if code == ALREADY_COMPLETED:
                return "already_completed"
            pause = min(0.25 * 2 ** (attempt - 1), 2.0)
            retryable = is_throttling(error) or _server_side(error) or isinstance(error, BotoCoreError)
            if not retryable or attempt == attempts or deadline.remaining_seconds() < pause + 0.5:
                raise ReportError(
                    f"PutLifecycleEventHookExecutionStatus {deployment_id}: {describe(error)}",
                    permanent=code in PERMANENT_REPORT_ERRORS,
                    access_denied=is_access_denied(error),
                ) from error
        sleep(pause)
    raise ReportError(f"PutLifecycleEventHookExecutionStatus {deployment_id}: no attempts made")


def _server_side(error: BaseException) -> bool:
    if not isinstance(error, ClientError):
        return False
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500


class CodeDeployReporter:
    """The HookReporter port on CodeDeploy."""

    def report(
        self, deployment_id: str, execution_id: str, status: ReportStatus, *, deadline: Deadline
    ) -> ReportOutcome:
        return report_hook_status(
            deployment_id=deployment_id, execution_id=execution_id, status=status, deadline=deadline
        )


class CodeDeployDeployments:
    """The DeploymentLookup port on CodeDeploy."""

    def describe(self, deployment_id: str, *, deadline: Deadline) -> DeploymentTarget:
        return describe_deployment(deployment_id, deadline=deadline)
