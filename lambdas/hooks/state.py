"""Adapter: the hooks' records in Tollgate's state table (approvals, and which executions were reported)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from lambdas.core import aws
from lambdas.hooks.policy import Approval

REPORT_RETENTION = timedelta(days=90)
APPROVAL_RETENTION = timedelta(days=30)


class StateError(Exception):
    """The state table could not be read or written."""


class ReportRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: str
    reason: str
    hook: str
    reported_at: str


def _report_key(deployment_id: str, execution_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"hook-report#{deployment_id}"}, "sk": {"S": execution_id}}


def _approval_key(deployment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"approval#{deployment_id}"}, "sk": {"S": "approval"}}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def find_report(table: str, deployment_id: str, execution_id: str, *, client: Any | None = None) -> ReportRecord | None:
    dynamodb = client or aws.client("dynamodb")
    try:
        item = dynamodb.get_item(
            TableName=table, Key=_report_key(deployment_id, execution_id), ConsistentRead=True
        ).get("Item")
    except ClientError as error:
        raise StateError(f"reading the report record: {_code(error)}") from error
    except BotoCoreError as error:
        raise StateError(f"reading the report record: {error}") from error
    if not item:
        return None
    return ReportRecord(
        status=item["status"]["S"],
        reason=item.get("reason", {}).get("S", ""),
        hook=item.get("hook", {}).get("S", ""),
        reported_at=item.get("reported_at", {}).get("S", ""),
    )


def claim_report(
    table: str,
    deployment_id: str,
    execution_id: str,
    *,
    status: str,
    reason: str,
    hook: str,
    now: datetime,
    client: Any | None = None,
) -> bool:
    """Record that this invocation reports the execution; False when another invocation already did."""
    dynamodb = client or aws.client("dynamodb")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **_report_key(deployment_id, execution_id),
                "status": {"S": status},
                "reason": {"S": reason[:2000]},
                "hook": {"S": hook},
                "reported_at": {"S": now.isoformat()},
                "expires_at": {"N": str(int((now + REPORT_RETENTION).timestamp()))},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as error:
        if _code(error) == "ConditionalCheckFailedException":
            return False
        raise StateError(f"recording the report: {_code(error)}") from error
    except BotoCoreError as error:
        raise StateError(f"recording the report: {error}") from error
    return True


def release_report(table: str, deployment_id: str, execution_id: str, *, client: Any | None = None) -> None:
    """Forget a claim whose report failed, so a retried invocation can report."""
    dynamodb = client or aws.client("dynamodb")
    try:
        dynamodb.delete_item(TableName=table, Key=_report_key(deployment_id, execution_id))
    except ClientError as error:
        raise StateError(f"releasing the report record: {_code(error)}") from error
    except BotoCoreError as error:
        raise StateError(f"releasing the report record: {error}") from error


def record_approval(table: str, approval: Approval, *, client: Any | None = None) -> None:
    dynamodb = client or aws.client("dynamodb")
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                **_approval_key(approval.deployment_id),
                "environment": {"S": approval.environment},
                "approved_by": {"S": approval.approved_by},
                "approved_at": {"S": approval.approved_at.isoformat()},
                "reason": {"S": approval.reason},
                "expires_at": {"N": str(int((approval.approved_at + APPROVAL_RETENTION).timestamp()))},
            },
        )
    except ClientError as error:
        raise StateError(f"recording the approval: {_code(error)}") from error
    except BotoCoreError as error:
        raise StateError(f"recording the approval: {error}") from error


def find_approval(table: str, deployment_id: str, *, client: Any | None = None) -> Approval | None:
    dynamodb = client or aws.client("dynamodb")
    try:
        item = dynamodb.get_item(TableName=table, Key=_approval_key(deployment_id), ConsistentRead=True).get("Item")
    except ClientError as error:
        raise StateError(f"reading the approval: {_code(error)}") from error
    except BotoCoreError as error:
        raise StateError(f"reading the approval: {error}") from error
    if not item or item.get("decision", {}).get("S") == "rejected":
        # The canary's approve/reject share this record (first decision wins); a rejection is no approval.
        return None
    return Approval(
        deployment_id=deployment_id,
        environment=item["environment"]["S"],
        approved_by=item["approved_by"]["S"],
        approved_at=datetime.fromisoformat(item["approved_at"]["S"]),
        reason=item.get("reason", {}).get("S", ""),
    )
