"""Adapter: the state table records which deployments were rolled back, and by which rollback.

* ``pk=rollback#<deployment>``, ``sk=claim``: the one claim on a deployment. A conditional put makes
  the first alarm (or operator) win; every later alarm, duplicate or flap finds the claim and stands down.
* ``pk=rollback#<rollback deployment>``, ``sk=rollback``: a deployment Tollgate started as a rollback,
  so its success can be announced as restored and it is never rolled back itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lambdas.core import aws
from lambdas.rollback.models import RollbackRecord

CLAIM = "claim"
ROLLBACK = "rollback"
KEEP_FOR = timedelta(days=90)


class LedgerError(Exception):
    """The state table could not be read or written."""


def _key(deployment_id: str, kind: str) -> dict[str, Any]:
    return {"pk": {"S": f"rollback#{deployment_id}"}, "sk": {"S": kind}}


def _item(record: RollbackRecord, key: dict[str, Any], now: datetime) -> dict[str, Any]:
    item: dict[str, Any] = {**key, "expires_at": {"N": str(int((now + KEEP_FOR).timestamp()))}}
    for name, value in record.model_dump(mode="json", exclude_none=True).items():
        item[name] = {"S": str(value)}
    return item


def _record(item: dict[str, Any]) -> RollbackRecord:
    return RollbackRecord.model_validate({k: v["S"] for k, v in item.items() if "S" in v and k not in ("pk", "sk")})


class RollbackLedger:
    def __init__(self, table_name: str, *, dynamodb: Any | None = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = aws.client("dynamodb")
        return self._dynamodb

    def claim(self, record: RollbackRecord, now: datetime) -> RollbackRecord | None:
        """Claim ``record.deployment_id`` for one rollback; None when won, else the existing claim."""
        key = _key(record.deployment_id, CLAIM)
        try:
            self.dynamodb.put_item(
                TableName=self._table,
                Item=_item(record, key, now),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise LedgerError(f"claim {record.deployment_id}: {error.response['Error']['Code']}") from error
            existing = error.response.get("Item")
            return _record(existing) if existing else self.find_claim(record.deployment_id) or record
        return None

    def release(self, deployment_id: str) -> None:
        """Give the claim back after a failed action, so a retried event can act."""
        try:
            self.dynamodb.delete_item(TableName=self._table, Key=_key(deployment_id, CLAIM))
        except ClientError as error:
            raise LedgerError(f"release {deployment_id}: {error.response['Error']['Code']}") from error

    def remember_rollback(self, record: RollbackRecord, now: datetime) -> None:
        """Remember the deployment Tollgate started as a rollback (CreateDeployment or UpdateService)."""
        if not record.rollback_deployment_id:
            return
        try:
            self.dynamodb.put_item(
                TableName=self._table, Item=_item(record, _key(record.rollback_deployment_id, ROLLBACK), now)
            )
        except ClientError as error:
            raise LedgerError(f"remember {record.rollback_deployment_id}: {error.response['Error']['Code']}") from error

    def find_claim(self, deployment_id: str) -> RollbackRecord | None:
        return self._get(_key(deployment_id, CLAIM))

    def find_rollback(self, rollback_deployment_id: str) -> RollbackRecord | None:
        return self._get(_key(rollback_deployment_id, ROLLBACK))

    def is_rollback(self, deployment_id: str) -> bool:
        return self.find_rollback(deployment_id) is not None

    def mark_restored(self, deployment_id: str, kind: str, restored_at: datetime) -> bool:
        """Record the restore once; False when it was already recorded (a duplicated state change)."""
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=_key(deployment_id, kind),
                UpdateExpression="SET restored_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(restored_at)",
                ExpressionAttributeValues={":at": {"S": restored_at.isoformat()}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise LedgerError(f"restored {deployment_id}: {error.response['Error']['Code']}") from error
        return True

    def _get(self, key: dict[str, Any]) -> RollbackRecord | None:
        try:
            item = self.dynamodb.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        except ClientError as error:
            raise LedgerError(f"read {key['pk']['S']}: {error.response['Error']['Code']}") from error
        return _record(item) if item else None
