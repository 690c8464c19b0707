"""Adapter: the ledger's DynamoDB table.

Keys (one table per environment's stack):

* deployment ``pk = deployment#<id>``, ``sk = deployment``; decisions about it ``sk = decision#<time>#<event id>``
* build ``pk = build#<repository>#<run id>#<attempt>``, ``sk = build``; delivery ``pk = delivery#<guid>``
* GSI ``ByTime``: ``gsi1pk = deployments#<env> | decisions#<env> | builds#<env>``, ``gsi1sk = <ISO time>#<id>``

A deployment is merged with ``SET x = if_not_exists(x, :x)`` per field and per state time, so the same
event twice, or events in any order, converge on one item. Its time on the GSI is the earliest time
seen (a second, conditional update that only ever lowers it: SUCCESS before START still sorts at START).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import CONDITION_FAILED, TollgateError, describe, error_code
from lambdas.ledger.model import KNOWN_STATES, BuildRecord, DecisionRecord, DeploymentRecord
from lambdas.ledger.ports import DeploymentUpdate, Value

BY_TIME_INDEX = "ByTime"
DEPLOYMENT_SK = "deployment"
BUILD_SK = "build"
DELIVERY_SK = "delivery"
_TIME_FIELDS = frozenset({"created_at", "committed_at", "restored_at"})
_FLAG_FIELDS = frozenset({"is_rollback", "rolled_back"})
_NUMBER_FIELDS = frozenset({"time_to_restore_seconds"})
TRANSACTION_CANCELED = "TransactionCanceledException"


class LedgerError(TollgateError):
    """The ledger table could not be read or written."""


def _iso(moment: datetime) -> str:
    # One fixed UTC format, so times sort as strings on the index.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def _attribute(value: Value) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(float(value))}
    if isinstance(value, datetime):
        return {"S": _iso(value)}
    return {"S": str(value)}


def deployment_from_item(item: Mapping[str, Any]) -> DeploymentRecord:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    def moment(name: str) -> datetime | None:
        value = text(name)
        return _time(value) if value else None

    number = item.get("time_to_restore_seconds", {}).get("N")
    return DeploymentRecord(
        deployment_id=str(item["deployment_id"]["S"]),
        environment=str(item["environment"]["S"]),
        service=text("service"),
        states={s: _time(item[f"state_{s}"]["S"]) for s in KNOWN_STATES if f"state_{s}" in item},
        created_at=moment("created_at"),
        version=text("version"),
        commit=text("commit"),
        committed_at=moment("committed_at"),
        started_by=text("started_by"),
        description=text("description"),
        is_rollback=bool(item.get("is_rollback", {}).get("BOOL", False)),
        rollback_of=text("rollback_of"),
        rolled_back=bool(item.get("rolled_back", {}).get("BOOL", False)),
        rollback_deployment_id=text("rollback_deployment_id"),
        restored_at=moment("restored_at"),
        time_to_restore_seconds=float(number) if number is not None else None,
    )


def decision_from_item(item: Mapping[str, Any]) -> DecisionRecord:
    return DecisionRecord(
        event_id=item["event_id"]["S"],
        environment=item["environment"]["S"],
        what=item["what"]["S"],
        summary=item["summary"]["S"],
        why=item.get("why", {}).get("S", ""),
        severity=item["severity"]["S"],
        occurred_at=_time(item["occurred_at"]["S"]),
        actor=item["actor"]["S"],
        service=item.get("service", {}).get("S"),
        deployment_id=item.get("deployment_id", {}).get("S"),
        evidence=json.loads(item.get("evidence", {}).get("S", "{}")),
    )


def build_from_item(item: Mapping[str, Any]) -> BuildRecord:
    return BuildRecord(
        run_id=int(item["run_id"]["N"]),
        run_attempt=int(item["run_attempt"]["N"]),
        repository=item["repository"]["S"],
        workflow=item["workflow"]["S"],
        conclusion=item["conclusion"]["S"],
        head_sha=item["head_sha"]["S"],
        head_branch=item.get("head_branch", {}).get("S"),
        actor=item.get("actor", {}).get("S"),
        started_at=_time(item["started_at"]["S"]),
        completed_at=_time(item["completed_at"]["S"]),
        url=item.get("url", {}).get("S"),
    )


class LedgerTable:
    """Reads and writes the ledger; every failure is a LedgerError naming the step."""

    def __init__(self, table_name: str, *, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def _call(self, what: str, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._dynamodb, operation)(TableName=self._table, **params)
        except (ClientError, BotoCoreError) as error:
            raise LedgerError(f"ledger: {what}: {describe(error)}") from error

    # -- writing ---------------------------------------------------------------------------------------

    def merge_deployment(self, update: DeploymentUpdate) -> None:
        key = {"pk": {"S": f"deployment#{update.deployment_id}"}, "sk": {"S": DEPLOYMENT_SK}}
        values: dict[str, Value] = {
            "deployment_id": update.deployment_id,
            "environment": update.environment,
            "kind": "deployment",
            "gsi1pk": f"deployments#{update.environment}",
            **{f"state_{state}": when for state, when in update.states.items()},
            **update.fields,
        }
        names = {f"#a{i}": name for i, name in enumerate(values)}
        assignments = [f"#a{i} = if_not_exists(#a{i}, :v{i})" for i in range(len(values))]
        self._call(
            f"merge deployment {update.deployment_id}",
            "update_item",
            Key=key,
            UpdateExpression="SET " + ", ".join(assignments),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={f":v{i}": _attribute(v) for i, v in enumerate(values.values())},
        )
        moments = [*update.states.values(), *(v for k, v in update.fields.items() if k == "created_at")]
        if moments:
            self._lower_sort_key(
                key, f"{_iso(min(m for m in moments if isinstance(m, datetime)))}#{update.deployment_id}"
            )

    def _lower_sort_key(self, key: dict[str, Any], sort_key: str) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="SET gsi1sk = :t",
                ConditionExpression="attribute_not_exists(gsi1sk) OR gsi1sk > :t",
                ExpressionAttributeValues={":t": {"S": sort_key}},
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:  # an earlier time is already there: keep it
                raise LedgerError(f"ledger: order {key['pk']['S']}: {describe(error)}") from error
        except BotoCoreError as error:
            raise LedgerError(f"ledger: order {key['pk']['S']}: {describe(error)}") from error

    def put_decision(self, decision: DecisionRecord) -> None:
        pk = f"deployment#{decision.deployment_id}" if decision.deployment_id else f"environment#{decision.environment}"
        stamp = f"{_iso(decision.occurred_at)}#{decision.event_id}"
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "sk": {"S": f"decision#{stamp}"},
            "kind": {"S": "decision"},
            "gsi1pk": {"S": f"decisions#{decision.environment}"},
            "gsi1sk": {"S": stamp},
            "event_id": {"S": decision.event_id},
            "environment": {"S": decision.environment},
            "what": {"S": decision.what},
            "summary": {"S": decision.summary},
            "why": {"S": decision.why},
            "severity": {"S": decision.severity},
            "occurred_at": {"S": _iso(decision.occurred_at)},
            "actor": {"S": decision.actor},
            "evidence": {"S": json.dumps(decision.evidence, sort_keys=True, default=str)},
        }
        if decision.service:
            item["service"] = {"S": decision.service}
        if decision.deployment_id:
            item["deployment_id"] = {"S": decision.deployment_id}
        # Keyed by the event's id: a redelivered event rewrites the same item with the same content.
        self._call(f"record decision {decision.event_id}", "put_item", Item=item)

    def put_build_once(self, build: BuildRecord, *, environment: str, delivery_id: str) -> bool:
        """The build and its delivery in one transaction: a replayed delivery changes nothing."""
        completed = _iso(build.completed_at)
        item: dict[str, Any] = {
            "pk": {"S": f"build#{build.repository}#{build.run_id}#{build.run_attempt}"},
            "sk": {"S": BUILD_SK},
            "kind": {"S": "build"},
            "gsi1pk": {"S": f"builds#{environment}"},
            "gsi1sk": {"S": f"{completed}#{build.run_id}#{build.run_attempt}"},
            "run_id": {"N": str(build.run_id)},
            "run_attempt": {"N": str(build.run_attempt)},
            "repository": {"S": build.repository},
            "workflow": {"S": build.workflow},
            "conclusion": {"S": build.conclusion},
            "head_sha": {"S": build.head_sha},
            "started_at": {"S": _iso(build.started_at)},
            "completed_at": {"S": completed},
            "delivery_id": {"S": delivery_id},
        }
        for name, value in (("head_branch", build.head_branch), ("actor", build.actor), ("url", build.url)):
            if value:
                item[name] = {"S": value}
        delivery = {
            "pk": {"S": f"delivery#{delivery_id}"},
            "sk": {"S": DELIVERY_SK},
            "kind": {"S": "delivery"},
            "build": {"S": item["pk"]["S"]},
        }
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": delivery,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": item}},
                ]
            )
        except ClientError as error:
            if error_code(error) == TRANSACTION_CANCELED and _condition_failed(error):
                return False
            raise LedgerError(f"ledger: record build {build.run_id}: {describe(error)}") from error
        except BotoCoreError as error:
            raise LedgerError(f"ledger: record build {build.run_id}: {describe(error)}") from error
        return True

    # -- reading ---------------------------------------------------------------------------------------

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        answer = self._call(
            f"read deployment {deployment_id}",
            "get_item",
            Key={"pk": {"S": f"deployment#{deployment_id}"}, "sk": {"S": DEPLOYMENT_SK}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return deployment_from_item(item) if item else None

    def decisions_of(self, deployment_id: str) -> Sequence[DecisionRecord]:
        items = self._pages(
            f"read decisions of {deployment_id}",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": {"S": f"deployment#{deployment_id}"}, ":d": {"S": "decision#"}},
        )
        return [decision_from_item(i) for i in items]

    def deployments(self, environment: str, since: datetime, until: datetime) -> Sequence[DeploymentRecord]:
        return [deployment_from_item(i) for i in self._between(f"deployments#{environment}", since, until)]

    def decisions(self, environment: str, since: datetime, until: datetime) -> Sequence[DecisionRecord]:
        return [decision_from_item(i) for i in self._between(f"decisions#{environment}", since, until)]

    def builds(self, environment: str, since: datetime, until: datetime) -> Sequence[BuildRecord]:
        return [build_from_item(i) for i in self._between(f"builds#{environment}", since, until)]

    def _between(self, partition: str, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
        # "~" sorts after every "#<id>" suffix, so `until` itself is included.
        return self._pages(
            f"read {partition}",
            IndexName=BY_TIME_INDEX,
            KeyConditionExpression="gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": {"S": partition},
                ":a": {"S": _iso(since)},
                ":b": {"S": _iso(until) + "~"},
            },
        )

    def _pages(self, what: str, **params: Any) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            answer = self._call(what, "query", **params, **({"ExclusiveStartKey": start} if start else {}))
            yield from answer.get("Items", [])
            start = answer.get("LastEvaluatedKey")
            if not start:
                return


def _condition_failed(error: ClientError) -> bool:
    reasons = error.response.get("CancellationReasons") or []
    return any(isinstance(r, dict) and r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons
