"""Adapter: what CodeDeploy says about a deployment (GetDeployment), for the ledger.

GetDeployment's ``deploymentInfo`` carries ``description`` (what the LMS workflow wrote), ``createTime``,
``completeTime``, ``creator`` (``user`` | ``autoscaling`` | ``codeDeployRollback`` | ...) and
``rollbackInfo`` (``rollbackDeploymentId`` on the rolled-back deployment, ``rollbackTriggeringDeploymentId``
on the rollback): https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.core.observability import logger
from lambdas.ledger.ports import DeploymentInfo


def _moment(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


class CodeDeployDeployments:
    def __init__(self, *, client: Any | None = None) -> None:
        self._client = client

    def describe(self, deployment_id: str) -> DeploymentInfo | None:
        client = self._client or aws.client("codedeploy")
        try:
            info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except (ClientError, BotoCoreError) as error:
            # The record is still written from the event; the next event of this deployment fills the rest.
            logger.warning("GetDeployment failed", extra={"deployment_id": deployment_id, "error": describe(error)})
            return None
        rollback = info.get("rollbackInfo") or {}
        return DeploymentInfo(
            deployment_id=deployment_id,
            status=str(info.get("status", "")),
            created_at=_moment(info.get("createTime")),
            completed_at=_moment(info.get("completeTime")),
            description=info.get("description") or None,
            creator=info.get("creator"),
            rollback_of=rollback.get("rollbackTriggeringDeploymentId") or None,
            rollback_deployment_id=rollback.get("rollbackDeploymentId") or None,
        )
