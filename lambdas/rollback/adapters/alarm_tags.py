"""Adapter: the tags of an alarm created outside Tollgate (how it opts in to rollback)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.rollback.errors import AlarmTagsError

__all__ = ["AlarmTagsError", "read_alarm_tags"]


def read_alarm_tags(alarm_arn: str, *, cloudwatch: Any | None = None) -> dict[str, str]:
    client = cloudwatch or aws.client("cloudwatch")
    try:
        tags = client.list_tags_for_resource(ResourceARN=alarm_arn).get("Tags") or []
    except (ClientError, BotoCoreError) as error:
        raise AlarmTagsError(f"{alarm_arn}: {describe(error)}") from error
    return {str(t["Key"]): str(t["Value"]) for t in tags}
