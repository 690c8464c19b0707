"""The state table's leases on the embedded AWS: a claim never strands the work it guards."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from lambdas.core import aws
from lambdas.core.errors import StateTableError
from lambdas.core.state_table import ClaimState, StateTable, key
from tollgate.embedded_aws.tables import STATE_TABLE, create_tollgate_tables

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
RETAIN = timedelta(days=7)


@pytest.fixture
def table(embedded_aws: Any) -> StateTable:
    aws.reset()
    create_tollgate_tables(aws.client("dynamodb"))
    return StateTable(STATE_TABLE)


def test_the_first_claim_wins_and_a_second_finds_it_held(table: StateTable) -> None:
    # Given nobody holds the rollback of d-1
    first = table.claim(key("rollback", "d-1"), owner="a", lease=LEASE, now=NOW, retain=RETAIN)
    # When another invocation claims it while the lease is live
    second = table.claim(key("rollback", "d-1"), owner="b", lease=LEASE, now=NOW + timedelta(seconds=5), retain=RETAIN)
    # Then the first acts and the second stands down, seeing who holds it
    assert first.state is ClaimState.WON and first.acts
    assert second.state is ClaimState.HELD and not second.acts
    assert second.previous is not None and second.previous.owner == "a"


def test_an_expired_unfinished_lease_is_taken_over(table: StateTable) -> None:
    # Given an owner that claimed and died before finishing (no complete, no release)
    table.claim(key("hook", "d-1", "e-1"), owner="dead", lease=LEASE, now=NOW, retain=RETAIN, attributes={"x": "1"})
    # When a retry arrives after the lease ran out
    retry = table.claim(key("hook", "d-1", "e-1"), owner="retry", lease=LEASE, now=NOW + LEASE * 2, retain=RETAIN)
    # Then it takes the work over and learns what the dead owner had recorded
    assert retry.state is ClaimState.TAKEN_OVER and retry.acts
    assert retry.previous is not None and retry.previous.owner == "dead"
    assert retry.previous.attributes["x"] == "1"
    # And the dead owner can no longer complete it
    dead = table.claim(key("hook", "d-1", "e-1"), owner="dead", lease=LEASE, now=NOW + LEASE * 2, retain=RETAIN)
    assert not table.complete(dead, now=NOW)


def _lose_the_first_answer(lost: list[str]) -> Any:
    """A before-send hook: DynamoDB applies the first request, its answer is lost (a read timeout), botocore retries."""

    def apply_then_time_out(request: Any, **_: Any) -> None:
        if lost:
            return
        lost.append(request.url)
        forwarded = urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method="POST")
        with urllib.request.urlopen(forwarded, timeout=10):
            pass
        raise ReadTimeoutError(endpoint_url=request.url)

    return apply_then_time_out


def test_a_claim_whose_answer_was_lost_is_still_its_owners(table: StateTable) -> None:
    # Given DynamoDB applies the claim's PutItem but its answer is lost (a read timeout), so botocore retries it
    lost: list[str] = []
    dynamodb = aws.client("dynamodb")
    hook = _lose_the_first_answer(lost)
    dynamodb.meta.events.register("before-send.dynamodb.PutItem", hook, unique_id="lose-answer")
    try:
        # When the owner claims: the retry finds the condition failed on the item its own first attempt wrote
        claim = table.claim(key("hook-report", "d-1", "e-1"), owner="me", lease=LEASE, now=NOW, retain=RETAIN)
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.PutItem", unique_id="lose-answer")
    # Then the lease is its own (never "held" by itself, which would strand the work until the lease ends)
    assert lost, "the first attempt's answer was not lost"
    assert claim.state is ClaimState.TAKEN_OVER and claim.acts
    assert claim.previous is not None and claim.previous.owner == "me"
    assert table.complete(claim, now=NOW)


def test_a_first_only_record_whose_answer_was_lost_is_still_its_writers(table: StateTable) -> None:
    # Given DynamoDB applies the record's PutItem but its answer is lost, so botocore retries it
    lost: list[str] = []
    dynamodb = aws.client("dynamodb")
    hook = _lose_the_first_answer(lost)
    dynamodb.meta.events.register("before-send.dynamodb.PutItem", hook, unique_id="lose-put-answer")
    record = key("approval", "d-lost", "approval")
    try:
        # When the writer records it: the retry fails the condition on the item its own first attempt wrote
        written = table.put(record, {"by": "ana"}, now=NOW, retain=RETAIN, only_if_absent=True, writer="inv-1")
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.PutItem", unique_id="lose-put-answer")
    # Then the record is the writer's own (it goes on to announce it), and another invocation's is refused
    assert lost, "the first attempt's answer was not lost"
    assert written
    assert not table.put(record, {"by": "bob"}, now=NOW, retain=RETAIN, only_if_absent=True, writer="inv-2")
    assert not table.put(record, {"by": "bob"}, now=NOW, retain=RETAIN, only_if_absent=True)
    item = table.get(record)
    assert item is not None and item.attributes == {"by": "ana"}


def test_done_work_is_never_done_again_even_after_the_lease(table: StateTable) -> None:
    claim = table.claim(key("rollback", "d-2"), owner="a", lease=LEASE, now=NOW, retain=RETAIN)
    assert table.complete(claim, now=NOW, attributes={"stopped": "yes"})
    later = table.claim(key("rollback", "d-2"), owner="b", lease=LEASE, now=NOW + timedelta(hours=1), retain=RETAIN)
    assert later.state is ClaimState.DONE
    assert later.previous is not None and later.previous.attributes["stopped"] == "yes"


def test_a_released_claim_can_be_won_again_at_once(table: StateTable) -> None:
    claim = table.claim(key("rollback", "d-3"), owner="a", lease=LEASE, now=NOW, retain=RETAIN)
    table.release(claim)
    again = table.claim(key("rollback", "d-3"), owner="b", lease=LEASE, now=NOW, retain=RETAIN)
    assert again.state is ClaimState.WON


def test_release_by_someone_else_leaves_the_lease(table: StateTable) -> None:
    held = table.claim(key("rollback", "d-4"), owner="a", lease=LEASE, now=NOW, retain=RETAIN)
    other = table.claim(key("rollback", "d-4"), owner="b", lease=LEASE, now=NOW, retain=RETAIN)
    table.release(other)
    assert table.get(held.key) is not None
    assert table.get(held.key).owner == "a"  # type: ignore[union-attr]


def test_put_only_if_absent_keeps_the_first_record(table: StateTable) -> None:
    assert table.put(key("approval", "d-5"), {"by": "ana"}, now=NOW, retain=RETAIN, only_if_absent=True)
    assert not table.put(key("approval", "d-5"), {"by": "bob"}, now=NOW, retain=RETAIN, only_if_absent=True)
    item = table.get(key("approval", "d-5"))
    assert item is not None and item.attributes == {"by": "ana"} and item.done


def test_reserved_names_are_refused(table: StateTable) -> None:
    with pytest.raises(ValueError, match="reserved"):
        table.put(key("x", "y"), {"owner": "me"}, now=NOW, retain=RETAIN)


def test_a_missing_table_is_a_state_table_error_naming_the_step(embedded_aws: Any) -> None:
    aws.reset()
    with pytest.raises(StateTableError, match="claim rollback#d-6: ResourceNotFoundException"):
        StateTable("no-such-table").claim(key("rollback", "d-6"), owner="a", lease=LEASE, now=NOW, retain=RETAIN)
