"""Use case: BeforeAllowTraffic in a canary environment starts the canary execution and returns.

The execution is named after the deployment: Step Functions answers a second StartExecution with the same
name and input with the running execution, and ExecutionAlreadyExists otherwise, so a duplicated hook
invocation never starts a second canary (docs/decisions/0010).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from lambdas.canary.model import CanaryInput
from lambdas.canary.ports import Deployments, Executions, HookReporter
from lambdas.core.config import EnvironmentConfig
from lambdas.core.errors import error_code
from lambdas.hooks.errors import ReportError

# CodeDeploy's own rollbacks: ``creator`` is set by CodeDeploy, never by the caller of CreateDeployment
# (https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html). Tollgate's own
# redeployment of the previous revision never reaches this hook: its AppSpec has no hooks
# (lambdas/rollback/adapters/deployments.py:rollback_appspec). A description is anyone's to write, so it lets
# nothing past the approval and the canary.
ROLLBACK_CREATORS = frozenset({"codeDeployRollback"})


# CodeDeploy's answers for a deployment or hook execution that does not exist (a hand-made invocation):
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html#API_PutLifecycleEventHookExecutionStatus_Errors
NO_SUCH_HOOK = frozenset(
    {"DeploymentDoesNotExistException", "InvalidDeploymentIdException", "InvalidLifecycleEventHookExecutionIdException"}
)


@dataclass(frozen=True)
class StartPorts:
    deployments: Deployments
    executions: Executions
    reporter: HookReporter


@dataclass(frozen=True)
class StartOutcome:
    decision: str  # started | duplicate | failed | rollback | unreported
    reason: str
    execution_arn: str = ""


def start_canary(
    deployment_id: str,
    hook_execution_id: str,
    *,
    config: EnvironmentConfig,
    deployments: Deployments,
    executions: Executions,
    reporter: HookReporter,
) -> StartOutcome:
    facts = deployments.describe(deployment_id)
    service = config.service_for_deployment_group(facts.deployment_group)
    if service is None or facts.application != config.lms.codedeploy_application:
        # Nothing to canary: fail the hook (CodeDeploy rolls back) rather than let traffic move unjudged.
        reason = f"{deployment_id} ({facts.application}/{facts.deployment_group}) is no LMS service of {config.name}"
        reporter.report(deployment_id, hook_execution_id, succeeded=False)
        return StartOutcome("failed", reason)
    if facts.creator in ROLLBACK_CREATORS:
        # A rollback restores what ran before: waiting for an approval or baking it would keep the broken
        # release serving longer.
        reporter.report(deployment_id, hook_execution_id, succeeded=True)
        return StartOutcome("rollback", f"{deployment_id} rolls {service} back to the previous revision: no canary")
    payload = CanaryInput(deployment_id=deployment_id, hook_execution_id=hook_execution_id, service=service)
    arn, started = executions.start(deployment_id, payload.model_dump())
    if not started:
        return StartOutcome("duplicate", f"the canary of {deployment_id} already runs or ran ({arn})", arn)
    return StartOutcome("started", f"canary of {service} started; the execution reports the hook", arn)


def start_for_hook(
    deployment_id: str, hook_execution_id: str, *, config: EnvironmentConfig, ports: StartPorts
) -> StartOutcome:
    """``start_canary`` for one hook invocation; a deployment or execution that does not exist is answered.

    Throttled, refused or out of time: the error propagates, Lambda retries and the health alarm pages. No
    retry can report to a deployment or hook execution that does not exist: say so and stop."""
    try:
        return start_canary(
            deployment_id,
            hook_execution_id,
            config=config,
            deployments=ports.deployments,
            executions=ports.executions,
            reporter=ports.reporter,
        )
    except (ClientError, ReportError) as error:
        permanent = getattr(error, "permanent", False) and not getattr(error, "access_denied", False)
        if not permanent and error_code(error) not in NO_SUCH_HOOK:
            raise
        return StartOutcome("unreported", f"{deployment_id}: {str(error)[:500]}")
