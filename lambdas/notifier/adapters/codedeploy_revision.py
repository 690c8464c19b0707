"""Adapter: what a CodeDeploy deployment is deploying, for the notification's "version" (best effort).

CodeDeploy state-change events carry no revision; GetDeployment has it. When it cannot be found the
notification says "unknown": never a reason not to send. A deployment's revision never changes, so what
GetDeployment answered is kept for the later events of that deployment (a failed lookup is not), as long as
the client is the same: one per container in Lambda; local tooling gets a new one per embedded AWS, whose
replays reuse the samples' deployment ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.core.observability import logger
from lambdas.notifier.revision import version_from_revision

KNOWN_DEPLOYMENTS = 256  # a container sees a few deployments at a time, each with a few dozen events


class CodeDeployRevisionLookup:
    def __init__(self, codedeploy_client: Any | None = None) -> None:
        self._client = codedeploy_client
        self._known: dict[str, str | None] = {}
        self._known_by: Any = None  # the client that answered what is known

    def deployed_version(self, deployment_id: str) -> str | None:
        client = self._client or aws.client("codedeploy")
        if client is not self._known_by:
            self._known.clear()
            self._known_by = client
        if deployment_id in self._known:
            return self._known[deployment_id]
        try:
            info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except (ClientError, BotoCoreError) as error:
            logger.info("deployment revision unknown", extra={"deployment_id": deployment_id, "error": describe(error)})
            return None
        revision = info.get("revision")
        version = version_from_revision(revision) if isinstance(revision, Mapping) else None
        if len(self._known) >= KNOWN_DEPLOYMENTS:
            self._known.clear()  # rare (a container sees a few deployments at a time): start afresh
        self._known[deployment_id] = version
        return version
