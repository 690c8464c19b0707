"""The embedded AWS runs state machines, and their Lambda tasks reach in-process callables (extensions)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.core import aws
from tollgate.embedded_aws import extensions

ROLE = "arn:aws:iam::123456789012:role/local"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:task"


def _definition() -> str:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": FUNCTION, "Payload": {"n.$": "$.n"}},
        "ResultSelector": {"doubled.$": "$.Payload.doubled"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught", "ResultPath": "$.error"}],
        "End": True,
    }
    return json.dumps({"StartAt": "Double", "States": {"Double": task, "Caught": {"Type": "Pass", "End": True}}})


@pytest.fixture
def invoked(embedded_aws: Any) -> Iterator[list[tuple[str, Any]]]:
    calls: list[tuple[str, Any]] = []

    def invoke(function: str, payload: Any) -> tuple[Any, str | None]:
        calls.append((function, payload))
        if payload["n"] < 0:
            return {"errorType": "NegativeError", "errorMessage": "no negatives"}, "Unhandled"
        return {"doubled": payload["n"] * 2}, None

    extensions.set_lambda_invoker(invoke)
    yield calls
    extensions.set_lambda_invoker(None)


def _run(n: int) -> dict[str, Any]:
    stepfunctions = aws.client("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name=f"double-{abs(n)}-{n < 0}", definition=_definition(), roleArn=ROLE
    )
    execution = stepfunctions.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"n": n}))
    for _ in range(100):
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError("the execution did not end")


def test_a_lambda_task_reaches_the_in_process_invoker(invoked: list[tuple[str, Any]]) -> None:
    described = _run(21)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"doubled": 42}
    assert invoked == [(FUNCTION, {"n": 21})]


def test_a_function_error_is_the_task_error_a_catch_sees(invoked: list[tuple[str, Any]]) -> None:
    described = _run(-1)
    assert described["status"] == "SUCCEEDED"  # caught, as Step Functions catches a Lambda function error
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "NegativeError"
    assert json.loads(error["Cause"])["errorMessage"] == "no negatives"


def test_without_an_invoker_the_task_fails_instead_of_reaching_a_real_lambda(embedded_aws: Any) -> None:
    extensions.set_lambda_invoker(None)
    described = _run(3)
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "ResourceNotFoundException"
