"""Adapter: Tollgate's state table, one key scheme and one TTL for every function.

Keys are ``pk = "<kind>#<id>"`` and a sort key naming the record inside it (``key("rollback", id)``).
Every item carries ``expires_at`` (epoch seconds, the table's TTL attribute).

Claims are leases, never bare markers: a function can be killed between any two AWS calls (a Lambda
timeout) and retried, so a claim written before the work it guards must not strand that work.
``claim`` writes ``status = leased`` with ``lease_until``; the owner marks it ``done`` only after the
guarded AWS call succeeded. A later invocation that finds a leased item whose lease ran out takes it
over (``TAKEN_OVER``) and is expected to check the real state in AWS before acting again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import CONDITION_FAILED, StateTableError, describe, error_code

LEASED = "leased"
DONE = "done"
_RESERVED = frozenset({"pk", "sk", "status", "owner", "lease_until", "expires_at", "writer"})


@dataclass(frozen=True)
class StateKey:
    pk: str
    sk: str

    def dynamodb(self) -> dict[str, Any]:
        return {"pk": {"S": self.pk}, "sk": {"S": self.sk}}


def key(kind: str, identifier: str, record: str = "-") -> StateKey:
    """The one key scheme: ``<kind>#<identifier>`` / ``<record>``."""
    return StateKey(pk=f"{kind}#{identifier}", sk=record)


class ClaimState(StrEnum):
    WON = "won"  # nobody held it: this invocation does the work
    TAKEN_OVER = "taken_over"  # an earlier owner's lease ran out unfinished: check real state, then finish
    HELD = "held"  # another invocation holds a live lease: it is doing the work now
    DONE = "done"  # the work was done (by whoever): do not do it again


@dataclass(frozen=True)
class StateItem:
    status: str
    owner: str
    lease_until: float | None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status == DONE


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    key: StateKey
    owner: str
    previous: StateItem | None = None  # what was there before (taken over, held or done)

    @property
    def acts(self) -> bool:
        """Whether this invocation now owns the work (won or took over an expired lease)."""
        return self.state in (ClaimState.WON, ClaimState.TAKEN_OVER)


def _epoch(moment: datetime) -> float:
    return round(moment.timestamp(), 3)


def _attribute_values(attributes: Mapping[str, str]) -> dict[str, Any]:
    clash = _RESERVED.intersection(attributes)
    if clash:
        raise ValueError(f"reserved state-table attribute names: {sorted(clash)}")
    return {name: {"S": str(value)} for name, value in attributes.items()}


def _state_item(item: Mapping[str, Any]) -> StateItem:
    lease = item.get("lease_until", {}).get("N")
    return StateItem(
        status=str(item.get("status", {}).get("S", "")),
        owner=str(item.get("owner", {}).get("S", "")),
        lease_until=float(lease) if lease is not None else None,
        attributes={k: v["S"] for k, v in item.items() if k not in _RESERVED and isinstance(v, dict) and "S" in v},
    )


class StateTable:
    """Reads and writes Tollgate's state table; every failure is a ``StateTableError`` naming the step."""

    def __init__(self, table_name: str, *, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def table_name(self) -> str:
        return self._table

    @property
    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def _fail(self, what: str, error: BaseException) -> StateTableError:
        return StateTableError(f"state table: {what}: {describe(error)}")

    def claim(
        self,
        state_key: StateKey,
        *,
        owner: str,
        lease: timedelta,
        now: datetime,
        retain: timedelta,
        attributes: Mapping[str, str] | None = None,
        reclaim_own: bool = False,
    ) -> Claim:
        """Take the lease on ``state_key`` unless a live lease or a done record is there.

        With ``reclaim_own``, a live lease of the same ``owner`` is taken over too: the owner is then the
        Lambda request id, which Lambda's retry of a failed or timed-out asynchronous invocation keeps (a
        duplicate delivery gets a new one), so the retry resumes its own dead attempt at once instead of
        finding it "held" until the lease ends:
        https://repost.aws/knowledge-center/lambda-function-duplicate-invocations
        """
        item = {
            **state_key.dynamodb(),
            "status": {"S": LEASED},
            "owner": {"S": owner},
            "lease_until": {"N": str(_epoch(now + lease))},
            "expires_at": {"N": str(int((now + retain).timestamp()))},
            **_attribute_values(attributes or {}),
        }
        condition = "attribute_not_exists(pk) OR (#status = :leased AND lease_until < :now)"
        names = {"#status": "status"}
        values: dict[str, Any] = {":leased": {"S": LEASED}, ":now": {"N": str(_epoch(now))}}
        if reclaim_own:
            condition += " OR (#status = :leased AND #owner = :owner)"
            names["#owner"] = "owner"
            values[":owner"] = {"S": owner}
        try:
            answer = self._dynamodb.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != CONDITION_FAILED:
                raise self._fail(f"claim {state_key.pk}", error) from error
            existing = error.response.get("Item") or {}
            previous = _state_item(existing) if existing else self.get(state_key)
            if previous is None:  # deleted between the write and the read: try once more
                return self.claim(
                    state_key,
                    owner=owner,
                    lease=lease,
                    now=now,
                    retain=retain,
                    attributes=attributes,
                    reclaim_own=reclaim_own,
                )
            if not previous.done and previous.owner == owner:
                # Our own write, applied on an attempt whose answer was lost (a read timeout, then botocore's retry
                # found the condition failed): the lease is ours. Taken over, so the caller checks what was done.
                return Claim(state=ClaimState.TAKEN_OVER, key=state_key, owner=owner, previous=previous)
            state = ClaimState.DONE if previous.done else ClaimState.HELD
            return Claim(state=state, key=state_key, owner=owner, previous=previous)
        except BotoCoreError as error:
            raise self._fail(f"claim {state_key.pk}", error) from error
        old = answer.get("Attributes")
        if old:
            return Claim(state=ClaimState.TAKEN_OVER, key=state_key, owner=owner, previous=_state_item(old))
        return Claim(state=ClaimState.WON, key=state_key, owner=owner)

    def complete(self, claim: Claim, *, now: datetime, attributes: Mapping[str, str] | None = None) -> bool:
        """Mark the claimed work done; False when another owner took the lease over meanwhile."""
        values = _attribute_values({"completed_at": now.isoformat(), **(attributes or {})})
        names = {f"#a{i}": name for i, name in enumerate(values)}
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=claim.key.dynamodb(),
                UpdateExpression=f"SET #status = :done, {sets} REMOVE lease_until",
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#status": "status", "#owner": "owner", **names},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    ":owner": {"S": claim.owner},
                    **{f":a{i}": value for i, value in enumerate(values.values())},
                },
            )
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return False
            raise self._fail(f"complete {claim.key.pk}", error) from error
        except BotoCoreError as error:
            raise self._fail(f"complete {claim.key.pk}", error) from error
        return True

    def release(self, claim: Claim) -> None:
        """Give an unfinished lease back early (the work failed); the lease's expiry covers a failed release."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key=claim.key.dynamodb(),
                ConditionExpression="#owner = :owner AND #status = :leased",
                ExpressionAttributeNames={"#owner": "owner", "#status": "status"},
                ExpressionAttributeValues={":owner": {"S": claim.owner}, ":leased": {"S": LEASED}},
            )
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return
            raise self._fail(f"release {claim.key.pk}", error) from error
        except BotoCoreError as error:
            raise self._fail(f"release {claim.key.pk}", error) from error

    def get(self, state_key: StateKey) -> StateItem | None:
        try:
            item = self._dynamodb.get_item(TableName=self._table, Key=state_key.dynamodb(), ConsistentRead=True).get(
                "Item"
            )
        except (ClientError, BotoCoreError) as error:
            raise self._fail(f"read {state_key.pk}", error) from error
        return _state_item(item) if item else None

    def put(
        self,
        state_key: StateKey,
        attributes: Mapping[str, str],
        *,
        now: datetime,
        retain: timedelta,
        only_if_absent: bool = False,
        writer: str | None = None,
    ) -> bool:
        """Write a plain record (status ``done``); with ``only_if_absent`` False when one was there already.

        ``writer`` (the invocation's id) tells the writer's own record from another's: when DynamoDB applied the
        PutItem but its answer was lost, botocore's retry fails the condition on the item the first attempt wrote,
        and that record is the writer's, not "already there". Without it such a writer would never finish the
        work the record stands for (announce an approval, release the wait). A duplicate event is another
        invocation, with another id, and still finds the record someone else's.
        """
        item = {
            **state_key.dynamodb(),
            "status": {"S": DONE},
            "expires_at": {"N": str(int((now + retain).timestamp()))},
            **_attribute_values(attributes),
            **({"writer": {"S": writer}} if writer else {}),
        }
        extra: dict[str, Any] = {}
        if only_if_absent:
            extra = {"ConditionExpression": "attribute_not_exists(pk)"}
            if writer:
                extra["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self._dynamodb.put_item(TableName=self._table, Item=item, **extra)
        except ClientError as error:
            if only_if_absent and error_code(error) == CONDITION_FAILED:
                existing = error.response.get("Item") or {}
                return bool(writer) and existing.get("writer", {}).get("S") == writer
            raise self._fail(f"write {state_key.pk}", error) from error
        except BotoCoreError as error:
            raise self._fail(f"write {state_key.pk}", error) from error
        return True

    def give_back(self, claim: Claim, *, now: datetime, attributes: Mapping[str, str]) -> None:
        """End an unfinished lease now, keeping ``attributes`` (e.g. why it failed) for the next claimer.

        The next ``claim`` finds an expired lease and takes it over with these attributes as ``previous``:
        unlike ``release``, it can tell "failed for sure" from "died without a word" (the notifier's case).
        """
        values = _attribute_values(attributes)
        names = {f"#a{i}": name for i, name in enumerate(values)}
        sets = "".join(f", #a{i} = :a{i}" for i in range(len(values)))
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=claim.key.dynamodb(),
                UpdateExpression=f"SET lease_until = :expired{sets}",
                ConditionExpression="#owner = :owner AND #status = :leased",
                ExpressionAttributeNames={"#owner": "owner", "#status": "status", **names},
                ExpressionAttributeValues={
                    ":expired": {"N": str(round(_epoch(now) - 0.001, 3))},
                    ":owner": {"S": claim.owner},
                    ":leased": {"S": LEASED},
                    **{f":a{i}": value for i, value in enumerate(values.values())},
                },
            )
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return
            raise self._fail(f"give back {claim.key.pk}", error) from error
        except BotoCoreError as error:
            raise self._fail(f"give back {claim.key.pk}", error) from error

    def update_if(self, state_key: StateKey, attributes: Mapping[str, str], *, expected: Mapping[str, str]) -> bool:
        """Set ``attributes`` on a done record whose ``expected`` attributes still hold (optimistic concurrency);
        False when they do not (another writer got there first) or the record is not done."""
        values = _attribute_values(attributes)
        wanted = _attribute_values(expected)
        names = {f"#a{i}": name for i, name in enumerate(values)}
        names.update({f"#e{i}": name for i, name in enumerate(wanted)})
        sets = ", ".join(f"#a{i} = :a{i}" for i in range(len(values)))
        checks = " AND ".join(["#status = :done", *(f"#e{i} = :e{i}" for i in range(len(wanted)))])
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=state_key.dynamodb(),
                UpdateExpression=f"SET {sets}",
                ConditionExpression=checks,
                ExpressionAttributeNames={"#status": "status", **names},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    **{f":a{i}": value for i, value in enumerate(values.values())},
                    **{f":e{i}": value for i, value in enumerate(wanted.values())},
                },
            )
        except ClientError as error:
            if error_code(error) == CONDITION_FAILED:
                return False
            raise self._fail(f"update {state_key.pk}", error) from error
        except BotoCoreError as error:
            raise self._fail(f"update {state_key.pk}", error) from error
        return True
