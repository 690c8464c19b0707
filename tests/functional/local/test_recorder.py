"""The call recorder: every AWS call in order, with its error code and when it was answered."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdas.core import aws
from tollgate.local.recorder import CallRecorder


def test_each_call_is_recorded_with_its_error_code_and_its_answer_time(embedded_aws: Any) -> None:
    # Given a recorder on a fresh session
    recorder = CallRecorder(current_function="tollgate-test")
    recorder.attach()
    try:
        dynamodb = aws.client("dynamodb")
        # When one call fails and the next succeeds
        with pytest.raises(ClientError):
            dynamodb.describe_table(TableName="no-such-table")
        dynamodb.list_tables()
    finally:
        recorder.detach()
    # Then both are recorded in order, the failure with its code, each answered after it was made
    assert [(c.operation, c.error) for c in recorder.calls] == [
        ("DescribeTable", "ResourceNotFoundException"),
        ("ListTables", None),
    ]
    assert all(c.answered_at is not None and c.answered_at >= c.at for c in recorder.calls)
    assert recorder.calls[0].as_dict()["function"] == "tollgate-test"


def test_a_record_cleared_while_a_call_is_in_flight_is_left_alone(embedded_aws: Any) -> None:
    # Given a recorder whose record is cleared between a call's request and its answer
    recorder = CallRecorder()
    recorder.attach()
    aws.session().events.register("before-send.dynamodb", lambda **_: recorder.clear(), unique_id="clear-mid-call")
    try:
        aws.client("dynamodb").list_tables()
    finally:
        aws.session().events.unregister("before-send.dynamodb", unique_id="clear-mid-call")
        recorder.detach()
    # Then the answer finds nothing to update, and the record stays empty
    assert recorder.calls == []


def test_clients_made_before_the_recorder_attached_are_recorded_until_it_detaches(embedded_aws: Any) -> None:
    # Given two clients that exist before the recorder attaches: a shared one and one with its own timeouts
    dynamodb = aws.client("dynamodb")
    short = aws.client("dynamodb", Config(read_timeout=1, retries={"max_attempts": 1}), variant="short")
    recorder = CallRecorder()
    # When it attaches, each calls, a new client calls, it detaches, and all of them call again
    recorder.attach()
    try:
        dynamodb.list_tables()
        short.describe_limits()
        aws.client("sqs").list_queues()
    finally:
        recorder.detach()
    dynamodb.list_tables()
    short.describe_limits()
    aws.client("sqs").list_queues()
    # Then exactly the calls made while it was attached are recorded, from the same cached clients
    assert [c.operation for c in recorder.calls] == ["ListTables", "DescribeLimits", "ListQueues"]
    assert aws.client("dynamodb") is dynamodb and short is not dynamodb
    assert aws.client("dynamodb", Config(read_timeout=5), variant="short") is short


def test_a_client_with_its_own_config_must_be_named() -> None:
    # A config without a variant would share the cache slot of the default client (and poison it)
    with pytest.raises(ValueError, match="needs a variant"):
        aws.client("dynamodb", Config(read_timeout=1))
