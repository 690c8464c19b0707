"""The delivery ledger on the embedded AWS's DynamoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from lambdas.notifier.delivery_ledger import DeliveryLedger, LedgerError
from lambdas.notifier.notification import Delivery, DeliveryChannel
from tollgate.embedded_aws.tables import create_tollgate_tables

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
SLACK = Delivery(channel=DeliveryChannel.SLACK, to=("#lms-releases",))


@pytest.fixture
def ledger(embedded_aws: Any) -> DeliveryLedger:
    return DeliveryLedger(create_tollgate_tables(boto3.client("dynamodb"))["state"])


def test_the_first_thread_of_a_deployment_is_kept(ledger: DeliveryLedger) -> None:
    ledger.remember_thread("d-1", "#lms-releases", "1.1", now=NOW)
    ledger.remember_thread("d-1", "#lms-releases", "2.2", now=NOW)
    assert ledger.thread_ts("d-1", "#lms-releases") == "1.1"
    assert ledger.thread_ts("d-1", "#other") is None


def test_sent_is_remembered_per_event_and_delivery(ledger: DeliveryLedger) -> None:
    ledger.record_failed("e-1", SLACK, now=NOW, error="Slack server error (500)")
    assert not ledger.already_sent("e-1", SLACK)
    ledger.record_sent("e-1", SLACK, now=NOW, receipt=None)
    assert ledger.already_sent("e-1", SLACK)
    assert not ledger.already_sent("e-2", SLACK)


def test_a_missing_table_is_a_ledger_error(embedded_aws: Any) -> None:
    ledger = DeliveryLedger("no-such-table")
    with pytest.raises(LedgerError):
        ledger.already_sent("e-1", SLACK)
    with pytest.raises(LedgerError):
        ledger.record_sent("e-1", SLACK, now=NOW, receipt="ok")
    with pytest.raises(LedgerError):
        ledger.remember_thread("d-1", "#x", "1.1", now=NOW)
