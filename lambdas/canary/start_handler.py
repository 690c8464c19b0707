"""BeforeAllowTraffic of a canary environment: start the canary execution for this deployment and return.

The execution reports the hook; this function reports only when there is nothing to canary.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.canary.adapters.codedeploy import CodeDeployDeployments, CodeDeployHookReporter
from lambdas.canary.adapters.stepfunctions import StepFunctionsExecutions
from lambdas.canary.start import start_canary
from lambdas.canary.wiring import state_machine_arn
from lambdas.core.errors import error_code
from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import ReportError

# CodeDeploy's answers for a deployment or hook execution that does not exist (a hand-made invocation):
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html#API_PutLifecycleEventHookExecutionStatus_Errors
NO_SUCH_HOOK = frozenset(
    {"DeploymentDoesNotExistException", "InvalidDeploymentIdException", "InvalidLifecycleEventHookExecutionIdException"}
)


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
    try:
        outcome = start_canary(
            invocation.deployment_id,
            invocation.execution_id,
            config=config,
            deployments=CodeDeployDeployments(),
            executions=StepFunctionsExecutions(state_machine_arn()),
            reporter=CodeDeployHookReporter(deadline),
        )
    except (ClientError, ReportError) as error:
        permanent = getattr(error, "permanent", False) and not getattr(error, "access_denied", False)
        if not permanent and error_code(error) not in NO_SUCH_HOOK:
            raise  # throttled, refused, out of time: Lambda retries and the health alarm pages
        # No retry can report to a deployment or hook execution that does not exist: say so and stop.
        logger.error("Nothing to report to", extra={"error": str(error)[:500]})
        return {"decision": "unreported", "reason": f"{invocation.deployment_id}: {str(error)[:500]}"}
    logger.info("Canary start", extra={"decision": outcome.decision, "reason": outcome.reason})
    return {"decision": outcome.decision, "reason": outcome.reason, "execution_arn": outcome.execution_arn}
