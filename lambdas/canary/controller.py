"""Use case: the tasks of the canary state machine (decision 0010), each one step of the controller.

The state machine owns the order and the waits; each task reads and writes the canary's record in the
state table, so an operator's promote/abort (written by another function) is seen at the next bake poll,
and a task killed and retried by Step Functions finds what its earlier attempt did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lambdas.canary import domain
from lambdas.canary.model import Action, TaskRequest, TaskResult
from lambdas.canary.ports import (
    Announcer,
    Deployments,
    Executions,
    Flows,
    HookReporter,
    Judge,
    Metrics,
    Records,
    Traffic,
)
from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.tollgate_events import DetailType, TollgateEvent

CANARY = "canary"
APPROVAL = "approval"
PROGRESS = "progress"
CURRENT = "current"
WAITING = "waiting"
DECISION = "approval"  # the hooks' approval record: pk approval#<deployment>, sk approval
ABORT = "abort"
REJECTED_ERROR = "Tollgate.ApprovalRejected"
# Errors the state machine's Pass states set on the way into the failure task (stacks/constructs/canary.py).
APPROVAL_TIMED_OUT_ERROR = "Tollgate.ApprovalTimedOut"
STEP_FAILED_ERROR = "Tollgate.StepFailed"
ABORTED_ERROR = "Tollgate.Aborted"


class CanaryStateError(Exception):
    """The canary's record is missing or inconsistent; the task fails and the failure path reports."""


@dataclass(frozen=True)
class ControllerPorts:
    traffic: Traffic
    metrics: Metrics
    judge: Judge
    reporter: HookReporter
    announcer: Announcer
    records: Records
    deployments: Deployments
    flows: Flows
    executions: Executions


@dataclass(frozen=True)
class RequestPorts:
    """What an operator's request (approve/reject, promote/abort/status) needs: no traffic, metrics or reports."""

    announcer: Announcer
    records: Records
    executions: Executions


def run_task(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    task = {
        Action.AWAIT_APPROVAL: await_approval,
        Action.SHIFT: shift,
        Action.BAKE: bake,
        Action.ANALYSE: analyse,
        Action.SUCCEED: succeed,
        Action.FAIL: fail,
    }[request.action]
    return task(request, config=config, ports=ports, now=now)


# -- approval ------------------------------------------------------------------------------------------


def await_approval(
    request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime
) -> TaskResult:
    """Leave the task token where an approval will find it, then look for an approval given earlier.

    Token first, decision second; the approver writes the decision first and reads the token second, so
    whichever comes last sees the other and releases the wait (a second release is refused harmlessly).
    """
    if not request.task_token:
        raise CanaryStateError("await_approval needs the task token ($$.Task.Token)")
    ports.records.put(
        APPROVAL,
        request.deployment_id,
        WAITING,
        {"task_token": request.task_token, "since": now.isoformat()},
        now=now,
        only_if_absent=False,
    )
    decision = ports.records.get(APPROVAL, request.deployment_id, DECISION)
    if decision is not None:
        release_wait(ports.executions, request.task_token, decision)
        return TaskResult(outcome="released", reason=f"already {decision.get('decision', 'approved')}")
    facts = ports.deployments.describe(request.deployment_id)
    how = (
        f"tollgate approve --env {config.name} --deployment-id {request.deployment_id} --by NAME "
        f"(or reject); approvers: {', '.join(config.deployment.approvers)}"
    )
    _announce(
        ports,
        config,
        DetailType.APPROVAL_NEEDED,
        Severity.WARNING,
        request,
        now,
        summary=f"Approval needed: {request.service} {facts.version} to {config.name}",
        reason=f"waiting up to {config.deployment.approval_timeout_seconds} s for an approval",
        evidence={
            "version": facts.version,
            "started_by": facts.creator,
            "description": facts.description,
            "how_to_approve": how,
            "approvers": list(config.deployment.approvers),
        },
    )
    return TaskResult(outcome="waiting", reason=how)


def release_wait(executions: Executions, token: str, decision: dict[str, str]) -> bool:
    if decision.get("decision", "approved") == "rejected":
        cause = f"rejected by {decision.get('approved_by', '?')}: {decision.get('reason', '')}".strip()
        return bool(executions.fail_task(token, error=REJECTED_ERROR, cause=cause[:30000]))
    output = {"approved_by": decision.get("approved_by", ""), "approved_at": decision.get("approved_at", "")}
    return bool(executions.succeed_task(token, output))


# -- steps -----------------------------------------------------------------------------------------------


def shift(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    step = _step(request)
    weights = domain.weights_for(step)
    rule = ports.traffic.shift(request.service, weights)
    bake_until = now + timedelta(seconds=request.bake_seconds or 0)
    progress = {
        "service": request.service,
        "step_percent": str(step),
        "canary_status": "running",
        "weights": json.dumps({"blue": weights.original, "green": weights.replacement}),
        "bake_started_at": now.isoformat(),
        "bake_until": bake_until.isoformat(),
        "extended_seconds": "0",
        "rule_arn": rule,
    }
    earlier = ports.records.get(CANARY, request.deployment_id, PROGRESS)
    if earlier and earlier.get("step_percent") == str(step) and earlier.get("canary_status") == "running":
        # A retried shift keeps the bake it started: the weights changed then.
        progress.update({k: earlier[k] for k in ("bake_started_at", "bake_until", "extended_seconds") if k in earlier})
    if earlier and "last_verdict" in earlier:
        progress["last_verdict"] = earlier["last_verdict"]
    ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)
    ports.records.put(
        CANARY, request.service, CURRENT, {"deployment_id": request.deployment_id}, now=now, only_if_absent=False
    )
    if earlier is None:
        _announce(
            ports,
            config,
            DetailType.CANARY_STARTED,
            Severity.INFO,
            request,
            now,
            summary=f"Canary started: {request.service} {step}% in {config.name}",
            reason=f"blue {weights.original}% / green {weights.replacement}%",
            evidence={"steps": list(config.deployment.canary_steps), "rule_arn": rule},
        )
    return TaskResult(
        outcome="shifted",
        reason=f"blue {weights.original}% / green {weights.replacement}%",
        details={"rule_arn": rule, "bake_until": progress["bake_until"]},
    )


def bake(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    step = _step(request)
    progress = _progress(ports, request)
    current_bake = _bake_of(progress)
    promoted = ports.records.get(CANARY, request.deployment_id, f"promote#{step}")
    if promoted is not None and current_bake.extended_seconds:
        # A promote ends the step's bake, not the extension the analysis asked for after it: cutting that
        # too would leave the step inconclusive for want of traffic, and inconclusive fails.
        promoted = None
    aborted = ports.records.get(CANARY, request.deployment_id, ABORT)
    state = domain.bake_state(current_bake, now=now, promoted=promoted is not None, aborted=aborted is not None)
    if state is domain.BakeState.BAKING:
        # The synthetic flows send the canary traffic even when the service is quiet.
        flows = ports.flows.run(request.service)
        progress["flows"] = json.dumps(flows)[:20000]
        ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)
        left = domain.bake_left_seconds(current_bake, now=now)
        return TaskResult(outcome="baking", reason=f"{left} s of the bake left", details={"bake_left_seconds": left})
    if state is domain.BakeState.ABORTED and aborted is not None:
        return TaskResult(outcome="aborted", reason=f"aborted by {aborted.get('by', '?')}: {aborted.get('reason', '')}")
    if promoted is not None and progress.get("promoted_step") != str(step):
        progress["promoted_step"] = str(step)
        ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)
        _announce(
            ports,
            config,
            DetailType.CANARY_PROMOTED,
            Severity.INFO,
            request,
            now,
            summary=f"Canary promoted: {request.service} {step}% bake ended early by {promoted.get('by', '?')}",
            reason="the step is still analysed",
            evidence={"step_percent": step, "by": promoted.get("by", "")},
        )
    return TaskResult(outcome="done", reason="bake over" if promoted is None else "bake ended early (promoted)")


def analyse(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    step = _step(request)
    progress = _progress(ports, request)
    current_bake = _bake_of(progress)
    targets = ports.traffic.targets(request.service)
    period = request.period_seconds
    start = current_bake.started_at
    # Only periods CloudWatch has had time to fill: a period still arriving would look like missing traffic.
    end = max(now - timedelta(seconds=request.reporting_delay_seconds), start + timedelta(seconds=period))
    analysis = {
        "service": request.service,
        "step_percent": step,
        "period_seconds": period,
        "baseline": ports.metrics.series(targets.original, start=start, end=end, period_seconds=period),
        "canary": ports.metrics.series(targets.replacement, start=start, end=end, period_seconds=period),
    }
    verdict = ports.judge.judge(analysis)
    decision = domain.decide_step(
        verdict,
        bake=current_bake,
        max_extension_seconds=request.max_extension_seconds,
        extension_seconds=request.extension_seconds,
    )
    evidence = {
        "step_percent": step,
        "decision": decision.value,
        "verdict": verdict,
        "analysis": analysis,
        "targets": {"baseline": targets.original, "canary": targets.replacement},
    }
    progress["last_verdict"] = json.dumps({"step_percent": step, "decision": decision.value, **verdict})[:60000]
    if decision is domain.StepDecision.EXTEND:
        longer = domain.extended(current_bake, request.extension_seconds)
        progress.update({"bake_until": longer.until.isoformat(), "extended_seconds": str(longer.extended_seconds)})
        ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)
        return TaskResult(
            outcome="extend",
            reason=f"too little traffic: bake extended by {request.extension_seconds} s",
            details=evidence,
        )
    if decision is domain.StepDecision.FAILED:
        progress["last_reason"] = f"{step}% step failed: {verdict.get('reason', '')}"
    ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)
    passed = decision is domain.StepDecision.PASSED
    _announce(
        ports,
        config,
        DetailType.CANARY_STEP_PASSED if passed else DetailType.CANARY_STEP_FAILED,
        Severity.INFO if passed else Severity.CRITICAL,
        request,
        now,
        summary=f"Canary step {'passed' if passed else 'failed'}: {request.service} at {step}% in {config.name}",
        reason=str(verdict.get("reason", "")),
        evidence=evidence,
    )
    return TaskResult(outcome=decision.value, reason=str(verdict.get("reason", "")))


# -- the one reporting path ------------------------------------------------------------------------------


def succeed(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    # Tollgate's rule goes before the report, so CodeDeploy's AllowTraffic alone owns the listener.
    ports.traffic.restore(request.service)
    outcome = ports.reporter.report(request.deployment_id, request.hook_execution_id, succeeded=True)
    _finish_record(ports, request, now, status="succeeded", reason="every canary step passed")
    _announce(
        ports,
        config,
        DetailType.HOOK_VERDICT,
        Severity.INFO,
        request,
        now,
        summary=f"BeforeAllowTraffic Succeeded for {request.service}: canary passed every step",
        reason="every canary step passed; CodeDeploy shifts the rest",
        evidence={"report": outcome},
    )
    return TaskResult(outcome="reported", reason="Succeeded", details={"report": outcome})


def fail(request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts, now: datetime) -> TaskResult:
    """Restore 100% blue and report Failed, whatever failed; a failing restore is retried after the report."""
    reason, detail_type = failure_reason(request, config=config, ports=ports)
    restore_error: Exception | None = None
    try:
        ports.traffic.restore(request.service)
    except Exception as error:
        restore_error = error
    outcome = ports.reporter.report(request.deployment_id, request.hook_execution_id, succeeded=False)
    _finish_record(ports, request, now, status="failed", reason=reason)
    _announce(
        ports,
        config,
        detail_type,
        Severity.CRITICAL if detail_type is DetailType.CANARY_STEP_FAILED else Severity.WARNING,
        request,
        now,
        summary=f"BeforeAllowTraffic Failed for {request.service}: {reason}"[:500],
        reason=reason,
        evidence={"report": outcome, "error": request.error or {}},
    )
    if restore_error is not None:
        raise restore_error
    return TaskResult(outcome="reported", reason=f"Failed: {reason}", details={"report": outcome})


def failure_reason(
    request: TaskRequest, *, config: EnvironmentConfig, ports: ControllerPorts
) -> tuple[str, DetailType]:
    """Why the canary failed, from the state machine's error (Catch output or a failed decision)."""
    error = request.error or {}
    code = str(error.get("Error", ""))
    cause = str(error.get("Cause", ""))
    aborted = ports.records.get(CANARY, request.deployment_id, ABORT)
    if aborted is not None:
        return f"aborted by {aborted.get('by', '?')}: {aborted.get('reason', '')}".strip(), DetailType.CANARY_ABORTED
    if code == APPROVAL_TIMED_OUT_ERROR:
        deadline = config.deployment.approval_timeout_seconds
        return f"no approval within deployment.approval_timeout_seconds ({deadline} s)", DetailType.APPROVAL_TIMED_OUT
    if code == REJECTED_ERROR:
        return cause or "rejected", DetailType.APPROVAL_REJECTED
    progress = ports.records.get(CANARY, request.deployment_id, PROGRESS) or {}
    if code in ("", STEP_FAILED_ERROR):
        return progress.get("last_reason", "the canary failed"), DetailType.CANARY_STEP_FAILED
    return f"task error {code}: {_short(cause)}", DetailType.HOOK_VERDICT


def _short(cause: str) -> str:
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause[:500]
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage", cause))[:500]
    return cause[:500]


def _finish_record(ports: ControllerPorts, request: TaskRequest, now: datetime, *, status: str, reason: str) -> None:
    progress = ports.records.get(CANARY, request.deployment_id, PROGRESS) or {"service": request.service}
    progress.update({"canary_status": status, "finished_at": now.isoformat(), "last_reason": reason[:2000]})
    ports.records.put(CANARY, request.deployment_id, PROGRESS, progress, now=now, only_if_absent=False)


# -- helpers ---------------------------------------------------------------------------------------------


def _step(request: TaskRequest) -> int:
    if request.step_percent is None:
        raise CanaryStateError(f"{request.action.value} needs step_percent")
    return request.step_percent


def _progress(ports: ControllerPorts, request: TaskRequest) -> dict[str, str]:
    progress = ports.records.get(CANARY, request.deployment_id, PROGRESS)
    if progress is None or "bake_until" not in progress:
        raise CanaryStateError(f"no canary record for {request.deployment_id}: the shift did not run")
    return progress


def _bake_of(progress: dict[str, str]) -> domain.Bake:
    return domain.Bake(
        started_at=datetime.fromisoformat(progress["bake_started_at"]),
        until=datetime.fromisoformat(progress["bake_until"]),
        extended_seconds=int(progress.get("extended_seconds", "0")),
    )


def _announce(  # noqa: PLR0917 - the event's parts, named at every call site
    ports: ControllerPorts,
    config: EnvironmentConfig,
    detail_type: DetailType,
    severity: Severity,
    request: TaskRequest,
    now: datetime,
    *,
    summary: str,
    reason: str,
    evidence: dict[str, Any],
) -> None:
    ports.announcer.announce(
        TollgateEvent(
            detail_type=detail_type,
            environment=config.name,
            severity=severity,
            summary=summary[:500],
            reason=reason,
            service=request.service,
            deployment_id=request.deployment_id,
            occurred_at=now,
            evidence=evidence,
        )
    )
