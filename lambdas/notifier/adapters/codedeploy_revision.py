"""Adapter: what a CodeDeploy deployment is deploying, for the notification's "version" (best effort).

CodeDeploy state-change events carry no revision; GetDeployment has it. When it cannot be found the
notification says "unknown": never a reason not to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.core.observability import logger
from lambdas.notifier.revision import version_from_revision


class CodeDeployRevisionLookup:
    def __init__(self, codedeploy_client: Any | None = None) -> None:
        self._client = codedeploy_client

    def deployed_version(self, deployment_id: str) -> str | None:
        client = self._client or aws.client("codedeploy")
        try:
            info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except (ClientError, BotoCoreError) as error:
            logger.info("deployment revision unknown", extra={"deployment_id": deployment_id, "error": describe(error)})
            return None
        revision = info.get("revision")
        return version_from_revision(revision) if isinstance(revision, Mapping) else None
