"""The fault-injection harness itself: each fault reaches the caller as the real one would."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from hypothesis import HealthCheck, given, settings

from lambdas.core import aws
from lambdas.core.errors import error_code
from tests.faults import FaultKind, SimulatedKill, injected_faults
from tests.fuzz import hostile_events


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (FaultKind.THROTTLE, "ThrottlingException"),
        (FaultKind.ACCESS_DENIED, "AccessDeniedException"),
        (FaultKind.SERVER_ERROR, "InternalFailure"),
    ],
)
def test_error_faults_answer_once_then_the_call_goes_through(embedded_aws: Any, kind: FaultKind, code: str) -> None:
    with injected_faults() as faults:
        faults.inject("sqs:ListQueues", kind)
        with pytest.raises(ClientError) as raised:
            aws.client("sqs").list_queues()
        assert error_code(raised.value) == code
        aws.client("sqs").list_queues()  # only the first call was hit
        assert faults.operations == ["sqs:ListQueues", "sqs:ListQueues"]


def test_timeout_and_kills(embedded_aws: Any) -> None:
    with injected_faults() as faults:
        faults.inject("CreateQueue", FaultKind.TIMEOUT).inject("CreateQueue", FaultKind.KILL_AFTER, nth=2)
        with pytest.raises(ReadTimeoutError):
            aws.client("sqs").create_queue(QueueName="q")
        with pytest.raises(SimulatedKill):
            aws.client("sqs").create_queue(QueueName="q")  # reached AWS, then the function died
        assert aws.client("sqs").list_queues().get("QueueUrls")
        faults.inject("ListQueues", FaultKind.KILL_BEFORE)
        with pytest.raises(SimulatedKill):
            aws.client("sqs").list_queues()
        assert faults.hit() == 3


def test_hostile_events_mutate_samples_and_include_non_objects() -> None:
    # Given one sample, When many hostile events are drawn, Then both mutations and non-objects appear
    sample = {"detail": {"state": {"value": "ALARM"}, "alarmName": "a"}, "account": "1"}
    seen: dict[str, int] = {"object": 0, "other": 0, "changed": 0}

    @settings(max_examples=200, database=None, suppress_health_check=list(HealthCheck), deadline=None)
    @given(hostile_events([sample]))
    def draw(event: Any) -> None:
        seen["object" if isinstance(event, dict) else "other"] += 1
        if isinstance(event, dict) and event != sample:
            seen["changed"] += 1

    draw()
    assert seen["other"] > 0
    assert seen["changed"] > 0
