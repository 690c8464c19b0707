"""Adapter: the approval records in Tollgate's state table (report records: adapters/report_claims.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.hooks.policy import Approval

APPROVAL_RETENTION = timedelta(days=30)


class StateError(Exception):
    """The state table could not be read or written."""


def _approval_key(deployment_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"approval#{deployment_id}"}, "sk": {"S": "approval"}}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


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
