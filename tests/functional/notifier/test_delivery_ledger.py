"""The delivery ledger on the embedded AWS's DynamoDB: leases per delivery, outcomes, threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lambdas.core.errors import StateTableError
from lambdas.core.state_table import StateTable
from lambdas.notifier.adapters.delivery_ledger import StateTableDeliveryLedger
from lambdas.notifier.ports import ClaimOutcome
from tollgate.embedded_aws.tables import create_tollgate_tables

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
LEASE = timedelta(seconds=60)
SLACK = "slack##lms-releases"


@pytest.fixture
def ledger(embedded_aws: Any) -> StateTableDeliveryLedger:
    return StateTableDeliveryLedger(StateTable(create_tollgate_tables(boto3.client("dynamodb"))["state"]))


def test_the_first_thread_of_a_deployment_is_kept(ledger: StateTableDeliveryLedger) -> None:
    ledger.remember_thread("d-1", "#lms-releases", "1.1", now=NOW)
    ledger.remember_thread("d-1", "#lms-releases", "2.2", now=NOW)
    assert ledger.thread_ts("d-1", "#lms-releases") == "1.1"
    assert ledger.thread_ts("d-1", "#other") is None


def test_sent_is_remembered_per_event_and_delivery(ledger: StateTableDeliveryLedger) -> None:
    # Given a first attempt that failed for sure and was given back
    first = ledger.claim("e-1", SLACK, owner="a", now=NOW, lease=LEASE)
    assert first.outcome is ClaimOutcome.WON
    ledger.give_back(first, now=NOW, error="Slack server error (500)")
    # When the retry claims it, it knows the failure and sends; once done nobody sends again
    retry = ledger.claim("e-1", SLACK, owner="b", now=NOW + timedelta(seconds=1), lease=LEASE)
    assert (retry.outcome, retry.attempts, retry.previous["detail"]) == (
        ClaimOutcome.RETRY,
        2,
        "Slack server error (500)",
    )
    ledger.complete(retry, now=NOW, outcome="sent", detail="1.1")
    assert ledger.claim("e-1", SLACK, owner="c", now=NOW, lease=LEASE).outcome is ClaimOutcome.DONE
    assert ledger.claim("e-2", SLACK, owner="c", now=NOW, lease=LEASE).outcome is ClaimOutcome.WON


def test_a_live_lease_is_in_flight_and_an_expired_one_abandoned(ledger: StateTableDeliveryLedger) -> None:
    ledger.claim("e-1", SLACK, owner="a", now=NOW, lease=LEASE)
    assert ledger.claim("e-1", SLACK, owner="b", now=NOW + timedelta(seconds=5), lease=LEASE).outcome is (
        ClaimOutcome.IN_FLIGHT
    )
    late = NOW + LEASE + timedelta(seconds=1)
    assert ledger.claim("e-1", SLACK, owner="c", now=late, lease=LEASE).outcome is ClaimOutcome.ABANDONED


def test_a_missing_table_is_a_state_table_error(embedded_aws: Any) -> None:
    ledger = StateTableDeliveryLedger(StateTable("no-such-table"))
    with pytest.raises(StateTableError):
        ledger.claim("e-1", SLACK, owner="a", now=NOW, lease=LEASE)
    with pytest.raises(StateTableError):
        ledger.thread_ts("d-1", "#x")
    with pytest.raises(StateTableError):
        ledger.remember_thread("d-1", "#x", "1.1", now=NOW)
