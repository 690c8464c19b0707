"""BeforeAllowTraffic of a canary environment: start the canary execution for this deployment and return.

The execution reports the hook; this function reports only when there is nothing to canary.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.canary.start import start_for_hook
from lambdas.canary.wiring import start_ports
from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.hooks.run_hook import HookInvocation  # the payload CodeDeploy sends every hook


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        invocation = HookInvocation.model_validate(event)
    except ValidationError as error:
        logger.error("Ignoring an invocation that is not a CodeDeploy hook", extra={"problems": error.errors()})
        return {"decision": "ignored", "reason": "not a CodeDeploy hook invocation"}
    logger.append_keys(deployment_id=invocation.deployment_id)
    config = settings().config
    outcome = start_for_hook(
        invocation.deployment_id, invocation.execution_id, config=config, ports=start_ports(config, context=context)
    )
    logger.info("Canary start", extra={"decision": outcome.decision, "reason": outcome.reason})
    return {"decision": outcome.decision, "reason": outcome.reason, "execution_arn": outcome.execution_arn}
