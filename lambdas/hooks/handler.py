"""CodeDeploy ECS lifecycle hook: run the checks configured for this hook and report exactly once.

CodeDeploy sends only DeploymentId and LifecycleEventHookExecutionId; which hook this is comes from the
function's TOLLGATE_HOOK. Whatever happens after the ids are known, the function reports: Succeeded only
when every configured check passed, otherwise Failed with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.core.bus import AnnounceError, announce
from lambdas.core.config import ConfigError, EnvironmentConfig, Hook, Severity
from lambdas.core.observability import logger
from lambdas.core.settings import FunctionSettings, settings
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.hooks import codedeploy, state
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.evaluate import HookPorts, evaluate_hook, evaluate_within_deadline
from lambdas.hooks.model import HookVerdict, ReportStatus, failed_verdict


class HookInvocation(BaseModel):
    """The whole payload CodeDeploy sends to a hook function."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: str = Field(alias="DeploymentId", pattern=r"^d-[A-Z0-9]{1,32}$")
    execution_id: str = Field(alias="LifecycleEventHookExecutionId", min_length=1, max_length=2048)


class HookSetupError(Exception):
    """The function's settings, config or hook name are missing or invalid."""


def _load_setup() -> tuple[FunctionSettings, EnvironmentConfig, Hook]:
    try:
        function_settings = settings()
        config = function_settings.config
    except ConfigError as error:
        raise HookSetupError(str(error)) from error
    try:
        hook = Hook(function_settings.hook or "")
    except ValueError as error:
        raise HookSetupError(
            f"TOLLGATE_HOOK is {function_settings.hook!r}; expected one of {', '.join(h.value for h in Hook)}"
        ) from error
    return function_settings, config, hook


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        invocation = HookInvocation.model_validate(event)
    except ValidationError as error:
        # Without both ids there is nothing to report to; CodeDeploy never sends such an event.
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        logger.error("Ignoring an invocation that is not a CodeDeploy hook", extra={"problems": problems})
        return {"decision": "ignored", "reason": f"not a CodeDeploy hook invocation: {'; '.join(problems)}"}
    logger.append_keys(deployment_id=invocation.deployment_id)
    return answer_hook(invocation, context=context, ports=HookPorts())


def answer_hook(invocation: HookInvocation, *, context: Any, ports: HookPorts) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        function_settings, config, hook = _load_setup()
    except HookSetupError as error:
        return _report(invocation, failed_verdict(str(error)), hook=None, function_settings=None, now=now)
    logger.append_keys(environment=config.name, hook=hook.value)
    deadline = Deadline.from_context(context, margin_ms=config.checks.safety_margin_ms)
    table = function_settings.state_table
    if table:
        try:
            earlier = state.find_report(table, invocation.deployment_id, invocation.execution_id)
        except state.StateError as error:
            # CodeDeploy itself refuses a second report, so checking and reporting is still safe.
            logger.warning("Could not look up an earlier report", extra={"error": str(error)})
            earlier = None
        if earlier is not None:
            reason = f"already reported {earlier.status} at {earlier.reported_at}: {earlier.reason}"
            logger.info("Duplicate hook invocation", extra={"earlier_status": earlier.status})
            return {"decision": "duplicate", "reason": reason, "hook": hook.value, "status": earlier.status}
    verdict = evaluate_within_deadline(
        lambda: evaluate_hook(
            config=config,
            hook=hook,
            deployment_id=invocation.deployment_id,
            state_table=table,
            deadline=deadline,
            now=now,
            ports=ports,
            base_url_override=function_settings.synthetics_base_url,
        ),
        deadline,
    )
    return _report(invocation, verdict, hook=hook, function_settings=function_settings, now=now)


def _report(
    invocation: HookInvocation,
    verdict: HookVerdict,
    *,
    hook: Hook | None,
    function_settings: FunctionSettings | None,
    now: datetime,
) -> dict[str, Any]:
    hook_name = hook.value if hook else "unknown"
    table = function_settings.state_table if function_settings else None
    claimed = False
    if table:
        try:
            claimed = state.claim_report(
                table,
                invocation.deployment_id,
                invocation.execution_id,
                status=verdict.status.value,
                reason=verdict.reason,
                hook=hook_name,
                now=now,
            )
        except state.StateError as error:
            logger.warning("Could not record the report; reporting anyway", extra={"error": str(error)})
            claimed = True
        if not claimed:
            logger.info("Another invocation already reported this hook execution")
            return {"decision": "duplicate", "reason": "another invocation reported this execution", "hook": hook_name}
    try:
        outcome = codedeploy.report_hook_status(
            deployment_id=invocation.deployment_id, execution_id=invocation.execution_id, status=verdict.status
        )
    except codedeploy.ReportError as error:
        if table:
            try:
                state.release_report(table, invocation.deployment_id, invocation.execution_id)
            except state.StateError as release_error:
                logger.warning("Could not release the report record", extra={"error": str(release_error)})
        logger.exception("Could not report the hook status", extra={"status": verdict.status.value})
        if error.permanent:
            # No retry can report to an unknown deployment or execution: say so and stop.
            return {"decision": "unreported", "reason": f"{error}; verdict was {verdict.status}: {verdict.reason}"}
        # Raising makes Lambda retry the asynchronous invocation, which reports again.
        raise
    _log_and_announce(invocation, verdict, hook_name=hook_name, function_settings=function_settings, now=now)
    decision = verdict.status.value if outcome == "reported" else "duplicate"
    reason = verdict.reason if outcome == "reported" else f"CodeDeploy already had a status; ours was {verdict.status}"
    return {"decision": decision, "reason": reason, "hook": hook_name, "service": verdict.service, "report": outcome}


def _log_and_announce(
    invocation: HookInvocation,
    verdict: HookVerdict,
    *,
    hook_name: str,
    function_settings: FunctionSettings | None,
    now: datetime,
) -> None:
    evidence = {
        "hook": hook_name,
        "status": verdict.status.value,
        "lifecycle_event_hook_execution_id": invocation.execution_id,
        "checks": [check.model_dump(mode="json") for check in verdict.checks],
    }
    logger.info(
        "Hook verdict",
        extra={"status": verdict.status.value, "reason": verdict.reason, "service": verdict.service, **evidence},
    )
    if function_settings is None:
        return
    succeeded = verdict.status is ReportStatus.SUCCEEDED
    event = TollgateEvent(
        detail_type=DetailType.HOOK_VERDICT,
        environment=function_settings.environment,
        severity=Severity.INFO if succeeded else Severity.WARNING,
        summary=f"{hook_name} {verdict.status.value} for {verdict.service or 'an unknown service'}"[:500],
        reason=verdict.reason,
        service=verdict.service,
        deployment_id=invocation.deployment_id,
        occurred_at=now,
        evidence=evidence,
    )
    try:
        announce(event, bus_name=function_settings.event_bus)
    except (AnnounceError, ClientError, BotoCoreError) as error:
        # The report is what CodeDeploy waits for; a lost announcement is logged, not fatal.
        logger.warning("Could not announce the hook verdict", extra={"error": str(error)})
