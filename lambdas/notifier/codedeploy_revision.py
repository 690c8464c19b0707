"""What a CodeDeploy deployment is deploying, for the notification's "version" (best effort).

CodeDeploy state-change events carry no revision; GetDeployment has it. For ECS the revision is an
AppSpec whose TargetService names the task definition (``family:revision``), which is what people
call the version. When it cannot be found the notification says "unknown": never a reason not to send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.observability import logger

_TASK_DEFINITION = re.compile(r"task-definition/([A-Za-z0-9_-]{1,255}:\d+)")


def version_from_revision(revision: Mapping[str, Any]) -> str | None:
    """``family:revision`` from an ECS AppSpec, or the S3 bundle's key and version; else None."""
    content = revision.get("appSpecContent") or revision.get("string") or {}
    text = content.get("content") if isinstance(content, Mapping) else None
    if isinstance(text, str):
        match = _TASK_DEFINITION.search(text)
        return match.group(1) if match else None
    s3 = revision.get("s3Location")
    if isinstance(s3, Mapping) and s3.get("key"):
        version = s3.get("version") or s3.get("eTag")
        return f"s3://{s3.get('bucket')}/{s3['key']}" + (f" ({version})" if version else "")
    return None


def deployed_version(deployment_id: str, *, codedeploy_client: Any | None = None) -> str | None:
    client = codedeploy_client or aws.client("codedeploy")
    try:
        info = client.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    except (ClientError, BotoCoreError) as error:
        logger.info("deployment revision unknown", extra={"deployment_id": deployment_id, "error": str(error)})
        return None
    revision = info.get("revision")
    return version_from_revision(revision) if isinstance(revision, Mapping) else None
