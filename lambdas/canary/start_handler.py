"""BeforeAllowTraffic of a canary environment: start the canary execution for this deployment and return.

The execution reports the hook; this function reports only when there is nothing to canary.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.canary.adapters.codedeploy import CodeDeployDeployments, CodeDeployHookReporter
from lambdas.canary.adapters.stepfunctions import StepFunctionsExecutions
from lambdas.canary.start import start_canary
from lambdas.canary.wiring import state_machine_arn
from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.hooks.deadline import Deadline


class HookInvocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: str = Field(alias="DeploymentId", pattern=r"^d-[A-Z0-9]{1,32}$")
    execution_id: str = Field(alias="LifecycleEventHookExecutionId", min_length=1, max_length=2048)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        invocation = HookInvocation.model_validate(event)
    except ValidationError as error:
        logger.error("Ignoring an invocation that is not a CodeDeploy hook", extra={"problems": error.errors()})
        return {"decision": "ignored", "reason": "not a CodeDeploy hook invocation"}
    logger.append_keys(deployment_id=invocation.deployment_id)
    config = settings().config
    deadline = Deadline.from_context(context, margin_ms=config.checks.safety_margin_ms)
    outcome = start_canary(
        invocation.deployment_id,
        invocation.execution_id,
        config=config,
        deployments=CodeDeployDeployments(),
        executions=StepFunctionsExecutions(state_machine_arn()),
        reporter=CodeDeployHookReporter(deadline),
    )
    logger.info("Canary start", extra={"decision": outcome.decision, "reason": outcome.reason})
    return {"decision": outcome.decision, "reason": outcome.reason, "execution_arn": outcome.execution_arn}
