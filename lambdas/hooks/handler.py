"""CodeDeploy ECS lifecycle hook: parse the invocation, run the hook (``run_hook``), return what it did.

CodeDeploy sends only DeploymentId and LifecycleEventHookExecutionId; which hook this is comes from the
function's TOLLGATE_HOOK. Without both ids there is nothing to report to: the event is logged and ignored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.hooks.adapters.wiring import aws_ports
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.log import logger
from lambdas.hooks.run_hook import HookInvocation, HookOutcome, HookTimes, run_hook
from lambdas.hooks.settings import hook_setup


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, str]:
    try:
        invocation = HookInvocation.model_validate(event)
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        logger.error("Ignoring an invocation that is not a CodeDeploy hook", extra={"problems": problems[:10]})
        reason = f"not a CodeDeploy hook invocation: {'; '.join(problems)}"[:1000]
        return HookOutcome(decision="ignored", reason=reason).to_json()
    logger.append_keys(deployment_id=invocation.deployment_id)
    setup = hook_setup()
    times = HookTimes(now=datetime.now(UTC), end=Deadline.from_context(context, margin_ms=0))
    owner = uuid.uuid4().hex  # unique per attempt: a retry of the same request must not pass as its owner
    return run_hook(invocation, setup=setup, ports=aws_ports(setup), times=times, owner=owner).to_json()
