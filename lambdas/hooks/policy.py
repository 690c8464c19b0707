"""Policy gates: change-freeze windows and manual approval (pure decisions)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from lambdas.core.config import ChangeFreeze
from lambdas.hooks.model import CheckKind, CheckResult


class Approval(BaseModel):
    """An operator's approval of one deployment, as recorded by ``tollgate approve``."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str
    environment: str
    approved_by: str
    approved_at: datetime
    reason: str = ""


def judge_change_freeze(freezes: tuple[ChangeFreeze, ...], *, now: datetime) -> CheckResult:
    active = [freeze for freeze in freezes if freeze.start <= now < freeze.end]
    if active:
        freeze = active[0]
        return CheckResult(
            name="change freeze",
            kind=CheckKind.CHANGE_FREEZE,
            passed=False,
            reason=f"change freeze in effect until {freeze.end.isoformat()}: {freeze.reason}",
            details={"start": freeze.start.isoformat(), "end": freeze.end.isoformat(), "freeze_reason": freeze.reason},
        )
    return CheckResult(
        name="change freeze",
        kind=CheckKind.CHANGE_FREEZE,
        passed=True,
        reason="no change freeze in effect",
        details={"configured_freezes": len(freezes)},
    )


def judge_approval(approval: Approval | None, *, deployment_id: str, environment: str) -> CheckResult:
    if approval is None:
        return CheckResult(
            name="approval",
            kind=CheckKind.APPROVAL,
            passed=False,
            reason=f"deployment {deployment_id} has no approval (tollgate approve --env {environment} "
            f"--deployment-id {deployment_id} --by NAME)",
        )
    if approval.deployment_id != deployment_id or approval.environment != environment:
        return CheckResult(
            name="approval",
            kind=CheckKind.APPROVAL,
            passed=False,
            reason=f"the approval is for {approval.environment}/{approval.deployment_id}, "
            f"not {environment}/{deployment_id}",
        )
    return CheckResult(
        name="approval",
        kind=CheckKind.APPROVAL,
        passed=True,
        reason=f"approved by {approval.approved_by}",
        details={
            "approved_by": approval.approved_by,
            "approved_at": approval.approved_at.isoformat(),
            "approval_reason": approval.reason,
        },
    )
