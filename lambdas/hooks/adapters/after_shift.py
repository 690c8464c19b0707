"""Adapter: start the post-shift watch, one Standard execution per deployment (named after it).

The watch waits ``thresholds.evaluation_window_minutes`` after CodeDeploy's AllowTraffic, then invokes the
AfterAllowTraffic hook function again with ``ShiftedAt``, so the metric gate judges the minutes after the
shift; that invocation reports the hook (docs/decisions/0011). A duplicated hook invocation finds the
execution by name and starts nothing.
https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
"""

from __future__ import annotations

import json
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.errors import error_code
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import WatchError


class StepFunctionsAfterShiftWatch:
    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    def start(self, deployment_id: str, execution_id: str, *, shifted_at: datetime, deadline: Deadline) -> bool:
        payload = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}
        try:
            budgeted_client("stepfunctions", deadline).start_execution(
                stateMachineArn=self._arn,
                name=deployment_id,
                input=json.dumps({**payload, "ShiftedAt": shifted_at.isoformat()}),
            )
        except ClientError as error:
            if error_code(error) == "ExecutionAlreadyExists":
                return False
            raise WatchError(f"StartExecution of the post-shift watch failed: {error_code(error)}") from error
        except BotoCoreError as error:
            raise WatchError(f"StartExecution of the post-shift watch failed: {error}") from error
        return True
