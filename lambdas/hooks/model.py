"""What the hooks decide: each check's result and the hook's verdict."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class CheckKind(StrEnum):
    SYNTHETIC_FLOW = "synthetic_flow"
    METRIC_GATE = "metric_gate"
    APPROVAL = "approval"
    CHANGE_FREEZE = "change_freeze"
    SETUP = "setup"


class ReportStatus(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class CheckResult(BaseModel):
    """One check's outcome; ``details`` is evidence (never a secret)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: CheckKind
    passed: bool
    reason: str
    details: dict[str, JsonValue] = Field(default_factory=dict)


class HookVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ReportStatus
    reason: str
    checks: tuple[CheckResult, ...] = ()
    service: str | None = None


def decide_verdict(checks: tuple[CheckResult, ...], *, service: str | None = None) -> HookVerdict:
    """Succeeded only when every configured check passed; the reason names each failed check."""
    failed = [check for check in checks if not check.passed]
    if failed:
        reason = "; ".join(f"{check.name}: {check.reason}" for check in failed)
        return HookVerdict(status=ReportStatus.FAILED, reason=reason, checks=checks, service=service)
    reason = f"all {len(checks)} checks passed" if checks else "no checks are configured for this hook"
    return HookVerdict(status=ReportStatus.SUCCEEDED, reason=reason, checks=checks, service=service)


def failed_verdict(reason: str, *, service: str | None = None, checks: tuple[CheckResult, ...] = ()) -> HookVerdict:
    """A verdict for when the checks could not run at all (bad input, missing config, timeout)."""
    setup = CheckResult(name="setup", kind=CheckKind.SETUP, passed=False, reason=reason)
    return HookVerdict(status=ReportStatus.FAILED, reason=reason, checks=(*checks, setup), service=service)
