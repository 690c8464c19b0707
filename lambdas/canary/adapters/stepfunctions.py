"""Adapter: Step Functions calls of the canary: start the execution, release the approval wait."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from lambdas.core import aws
from lambdas.core.errors import error_code

# SendTask* answer these when the wait is over (execution ended, timed out, or the token was used).
WAIT_OVER = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class StepFunctionsExecutions:
    def __init__(self, state_machine_arn: str, *, client: Any | None = None) -> None:
        self._arn = state_machine_arn
        self._client = client

    @property
    def _sfn(self) -> Any:
        return self._client or aws.client("stepfunctions")

    def start(self, name: str, payload: Mapping[str, str]) -> tuple[str, bool]:
        """Start the execution named ``name`` once; ``(arn, False)`` when it exists already.

        StartExecution with the name and input of a running execution answers that execution (its own ARN and
        startDate), so the answer cannot tell a duplicate; DescribeExecution first does. Two concurrent first
        calls both "start", and Step Functions still runs one execution.
        https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
        """
        arn = f"{self._arn.replace(':stateMachine:', ':execution:')}:{name}"
        try:
            self._sfn.describe_execution(executionArn=arn)
            return arn, False
        except ClientError as error:
            if error_code(error) != "ExecutionDoesNotExist":
                raise
        try:
            started = self._sfn.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(dict(payload)))
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            # Same name, other input, or a closed execution: either way, not a second canary.
            return arn, False
        return str(started["executionArn"]), True

    def succeed_task(self, token: str, output: Mapping[str, str]) -> bool:
        try:
            self._sfn.send_task_success(taskToken=token, output=json.dumps(dict(output)))
        except ClientError as error:
            if error_code(error) in WAIT_OVER:
                return False
            raise
        return True

    def fail_task(self, token: str, *, error: str, cause: str) -> bool:
        try:
            self._sfn.send_task_failure(taskToken=token, error=error, cause=cause)
        except ClientError as failure:
            if error_code(failure) in WAIT_OVER:
                return False
            raise
        return True
