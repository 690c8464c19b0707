"""Use cases: an operator's approve/reject of a deployment and promote/abort/status of a running canary.

The same use cases serve the CLI and the bus events (APPROVE_REQUESTED, REJECT_REQUESTED,
CANARY_PROMOTE_REQUESTED, CANARY_ABORT_REQUESTED). Every decision is recorded once (only_if_absent), so a
duplicated request changes nothing and says what was recorded first. ``writer`` is the invocation's id (the
Lambda request id, which Lambda's retry of the invocation keeps): the writer's own record, whose PutItem answer
was lost or whose invocation died before announcing, is its own to finish, not a duplicate's "already".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lambdas.canary import domain
from lambdas.canary.controller import (
    ABORT,
    APPROVAL,
    CANARY,
    CURRENT,
    DECISION,
    PROGRESS,
    WAITING,
    RequestPorts,
    release_wait,
)
from lambdas.canary.model import OperatorRequest
from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.tollgate_events import DetailType, TollgateEvent

RequestKind = Literal["approve", "reject", "promote", "abort"]
# The operator requests on Tollgate's bus, by detail type.
REQUEST_KINDS: dict[str, RequestKind] = {
    DetailType.APPROVE_REQUESTED.value: "approve",
    DetailType.REJECT_REQUESTED.value: "reject",
    DetailType.CANARY_PROMOTE_REQUESTED.value: "promote",
    DetailType.CANARY_ABORT_REQUESTED.value: "abort",
}


@dataclass(frozen=True)
class RequestOutcome:
    outcome: str  # recorded | already | refused | no_canary | status | ignored
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def handle_request(
    kind: RequestKind,
    request: OperatorRequest,
    *,
    config: EnvironmentConfig,
    ports: RequestPorts,
    now: datetime,
    writer: str,
) -> RequestOutcome:
    """One operator request: approve/reject names a deployment, promote/abort a service."""
    if kind == "approve" or kind == "reject":  # noqa: PLR1714 - two comparisons narrow the Literal for mypy
        if not request.deployment_id:
            return RequestOutcome("ignored", f"{kind} request without deployment_id")
        return decide_approval(
            kind,
            deployment_id=request.deployment_id,
            by=request.by,
            reason=request.reason,
            config=config,
            ports=ports,
            now=now,
            writer=writer,
        )
    if not request.service:
        return RequestOutcome("ignored", f"{kind} request without service")
    return operate_canary(
        kind,
        service=request.service,
        by=request.by,
        reason=request.reason,
        config=config,
        ports=ports,
        now=now,
        writer=writer,
    )


def decide_approval(
    kind: Literal["approve", "reject"],
    *,
    deployment_id: str,
    by: str,
    reason: str,
    config: EnvironmentConfig,
    ports: RequestPorts,
    now: datetime,
    writer: str,
) -> RequestOutcome:
    if domain.judge_approver(config.deployment.approvers, by) is domain.ApprovalOutcome.REFUSED:
        allowed = ", ".join(config.deployment.approvers) or "nobody (deployment.approvers is empty)"
        message = f"{by} may not {kind} deployments in {config.name}; approvers: {allowed}"
        _announce(
            ports,
            config,
            DetailType.APPROVAL_REFUSED,
            Severity.WARNING,
            deployment_id,
            now,
            summary=f"Approval refused: {by} is not an approver in {config.name}",
            reason=message,
            evidence={"by": by, "request": kind},
        )
        return RequestOutcome("refused", message)
    decision = "approved" if kind == "approve" else "rejected"
    attributes = {
        "decision": decision,
        "environment": config.name,
        "approved_by": by,
        "approved_at": now.isoformat(),
        "reason": reason,
    }
    if not ports.records.put(
        APPROVAL, deployment_id, DECISION, attributes, now=now, only_if_absent=True, writer=writer
    ):
        first = ports.records.get(APPROVAL, deployment_id, DECISION) or {}
        # The first decision's invocation may have died between its record and the release: a wait still
        # open is released with the decision recorded first, so the canary never waits on a lost release.
        released = _release_waiting(ports, deployment_id, first) if first else False
        return RequestOutcome(
            "already",
            f"{deployment_id} was already {first.get('decision', 'approved')} by {first.get('approved_by', '?')} "
            f"at {first.get('approved_at', '?')}; nothing changed"
            + (" (the waiting canary was released with it)" if released else ""),
            details={**first, "released_wait": released},
        )
    approved = decision == "approved"
    _announce(
        ports,
        config,
        DetailType.APPROVAL_GIVEN if approved else DetailType.APPROVAL_REJECTED,
        Severity.INFO if approved else Severity.WARNING,
        deployment_id,
        now,
        summary=f"{deployment_id} {decision} by {by} in {config.name}",
        reason=reason,
        evidence={"by": by, "at": now.isoformat()},
    )
    released = _release_waiting(ports, deployment_id, attributes)
    return RequestOutcome(
        "recorded",
        f"{deployment_id} {decision} by {by}" + (" (the waiting canary goes on)" if released else ""),
        details={**attributes, "released_wait": released},
    )


def _release_waiting(ports: RequestPorts, deployment_id: str, decision: dict[str, str]) -> bool:
    """Release the canary waiting on this deployment's approval, if one is (a second release is refused)."""
    waiting = ports.records.get(APPROVAL, deployment_id, WAITING)
    return bool(
        waiting and waiting.get("task_token") and release_wait(ports.executions, waiting["task_token"], decision)
    )


def operate_canary(
    kind: Literal["status", "promote", "abort"],
    *,
    service: str,
    by: str,
    reason: str,
    config: EnvironmentConfig,
    ports: RequestPorts,
    now: datetime,
    writer: str,
) -> RequestOutcome:
    current = ports.records.get(CANARY, service, CURRENT)
    deployment_id = (current or {}).get("deployment_id", "")
    progress = ports.records.get(CANARY, deployment_id, PROGRESS) if deployment_id else None
    if kind == "status":
        if progress is None:
            return RequestOutcome("no_canary", f"no canary has run for {service} in {config.name}")
        return RequestOutcome(
            "status",
            describe_progress(deployment_id, progress, now=now),
            details={"deployment_id": deployment_id, **progress},
        )
    if progress is None or progress.get("canary_status") != "running":
        return RequestOutcome("no_canary", f"no canary is running for {service} in {config.name}: nothing to {kind}")
    step = progress.get("step_percent", "")
    record = f"promote#{step}" if kind == "promote" else ABORT
    attributes = {"by": by, "at": now.isoformat(), "reason": reason}
    if not ports.records.put(CANARY, deployment_id, record, attributes, now=now, only_if_absent=True, writer=writer):
        first = ports.records.get(CANARY, deployment_id, record) or {}
        return RequestOutcome(
            "already",
            f"{kind} of {deployment_id} at {step}% was already asked by "
            f"{first.get('by', '?')} at {first.get('at', '?')}",
        )
    if kind == "abort":
        _announce(
            ports,
            config,
            DetailType.CANARY_ABORTED,
            Severity.WARNING,
            deployment_id,
            now,
            summary=f"Canary abort requested: {service} at {step}% by {by}",
            reason=reason,
            evidence={"by": by, "step_percent": step},
            service=service,
        )
    what = (
        "the bake ends at the next poll and the step is analysed"
        if kind == "promote"
        else "blue gets 100% back and the hook fails at the next poll"
    )
    return RequestOutcome(
        "recorded",
        f"{kind} of {service} ({deployment_id}) at {step}% recorded: {what}",
        details={"deployment_id": deployment_id, **attributes},
    )


def describe_progress(deployment_id: str, progress: dict[str, str], *, now: datetime) -> str:
    weights = json.loads(progress.get("weights", "{}") or "{}")
    parts = [
        f"{deployment_id}: {progress.get('canary_status', '?')} at {progress.get('step_percent', '?')}%",
        f"split blue {weights.get('blue', '?')}% / green {weights.get('green', '?')}%",
    ]
    if progress.get("canary_status") == "running" and "bake_until" in progress:
        left = max(0, int((datetime.fromisoformat(progress["bake_until"]) - now).total_seconds()))
        parts.append(f"bake left {left} s")
    if "last_verdict" in progress:
        verdict = json.loads(progress["last_verdict"])
        parts.append(
            f"last verdict at {verdict.get('step_percent')}%: {verdict.get('verdict')} ({verdict.get('reason', '')})"
        )
    if progress.get("last_reason"):
        parts.append(progress["last_reason"])
    return "; ".join(parts)


def _announce(  # noqa: PLR0917 - the event's parts, named at every call site
    ports: RequestPorts,
    config: EnvironmentConfig,
    detail_type: DetailType,
    severity: Severity,
    deployment_id: str,
    now: datetime,
    *,
    summary: str,
    reason: str,
    evidence: dict[str, Any],
    service: str | None = None,
) -> None:
    ports.announcer.announce(
        TollgateEvent(
            detail_type=detail_type,
            environment=config.name,
            severity=severity,
            summary=summary[:500],
            reason=reason,
            service=service,
            deployment_id=deployment_id or None,
            occurred_at=now,
            evidence=evidence,
        )
    )
