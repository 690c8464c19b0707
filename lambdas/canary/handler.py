"""Canary state machine task: one step of the controller (approval wait, shift, bake, analyse, report).

Errors are raised on purpose: Step Functions retries the task and, when retries run out, its Catch sends
the execution down the one reporting path (restore 100% blue, report Failed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.canary.controller import run_task
from lambdas.canary.model import TaskRequest
from lambdas.canary.wiring import controller_ports
from lambdas.core.observability import logger
from lambdas.core.settings import settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    request = TaskRequest.model_validate(event)  # a malformed task input is a task error: the Catch reports
    logger.append_keys(deployment_id=request.deployment_id, action=request.action.value)
    function_settings = settings()
    config = function_settings.config
    result = run_task(
        request,
        config=config,
        ports=controller_ports(function_settings, config, context=context),
        now=datetime.now(UTC),
    )
    logger.info("Canary task", extra={"outcome": result.outcome, "reason": result.reason})
    return result.model_dump(mode="json")
