"""Adapter: what the notifier already sent, and each deployment's Slack thread, in the state table.

Items (pk / sk):
- ``notifier#delivery#<event id>`` / ``<channel>#<destination>``: status ``sent`` or ``failed``,
  attempts, last error. A retry of the event skips the deliveries marked sent.
- ``notifier#thread#<deployment id>`` / ``slack#<channel>``: the ``ts`` of the deployment's first
  message in that channel; later messages reply in its thread.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.notifier.notification import Delivery

DELIVERY_RECORD_DAYS = 7
THREAD_RECORD_DAYS = 30


class LedgerError(Exception):
    """The state table could not be read or written."""


class DeliveryLedger:
    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self._table = table_name
        self._client = dynamodb_client

    @property
    def _dynamodb(self) -> Any:
        return self._client or aws.client("dynamodb")

    def already_sent(self, event_id: str, delivery: Delivery) -> bool:
        item = self._get(f"notifier#delivery#{event_id}", delivery.key)
        return item is not None and item.get("status", {}).get("S") == "sent"

    def record_sent(self, event_id: str, delivery: Delivery, *, now: datetime, receipt: str | None) -> None:
        self._record(event_id, delivery, now=now, status="sent", detail=receipt or "")

    def record_failed(self, event_id: str, delivery: Delivery, *, now: datetime, error: str) -> None:
        self._record(event_id, delivery, now=now, status="failed", detail=error)

    def thread_ts(self, deployment_id: str, channel: str) -> str | None:
        item = self._get(f"notifier#thread#{deployment_id}", f"slack#{channel}")
        return item["ts"]["S"] if item and "ts" in item else None

    def remember_thread(self, deployment_id: str, channel: str, ts: str, *, now: datetime) -> None:
        """Keep the first ``ts`` only: two first messages racing leave the earlier thread in place."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": f"notifier#thread#{deployment_id}"},
                    "sk": {"S": f"slack#{channel}"},
                    "ts": {"S": ts},
                    "expires_at": {"N": str(_epoch(now + timedelta(days=THREAD_RECORD_DAYS)))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise LedgerError(f"cannot remember the Slack thread of {deployment_id}") from error
        except BotoCoreError as error:
            raise LedgerError(f"cannot remember the Slack thread of {deployment_id}") from error

    def _record(self, event_id: str, delivery: Delivery, *, now: datetime, status: str, detail: str) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"notifier#delivery#{event_id}"}, "sk": {"S": delivery.key}},
                UpdateExpression=(
                    "SET #status = :status, detail = :detail, updated_at = :now, expires_at = :expires "
                    "ADD attempts :one"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":detail": {"S": detail[:1000]},
                    ":now": {"S": now.isoformat()},
                    ":expires": {"N": str(_epoch(now + timedelta(days=DELIVERY_RECORD_DAYS)))},
                    ":one": {"N": "1"},
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise LedgerError(f"cannot record delivery {delivery.key} of event {event_id}") from error

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self._dynamodb.get_item(
                TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise LedgerError(f"cannot read {pk}") from error
        item: dict[str, Any] | None = response.get("Item")
        return item


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
