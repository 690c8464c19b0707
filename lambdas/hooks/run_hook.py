"""The use case: answer one CodeDeploy hook invocation — check, then report exactly once — through ports.

Reporting is a lease (``hook-report#<deployment>``/``<execution>``): claim → PutLifecycleEventHookExecutionStatus
→ complete. A claim whose owner died is expired by the time Lambda retries (the lease ends with the
invocation), so the retry takes it over and reports; CodeDeploy's own idempotence
(LifecycleEventAlreadyCompletedException, treated as done) makes a report after an unknown earlier one safe.
A report that cannot be made for a reason a retry or a person can fix (refused, throttled, out of time)
raises, so the invocation errors, Lambda retries it and Tollgate's health alarm pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lambdas.core.config import Hook, Severity
from lambdas.core.errors import StateTableError
from lambdas.core.state_table import Claim, ClaimState
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.hooks.checks import CheckPorts, Secrets, evaluate_hook, evaluate_within_deadline
from lambdas.hooks.deadline import TAIL_SECONDS, Deadline, plan_report
from lambdas.hooks.errors import (
    AnnounceFailedError,
    HookSetupError,
    ReportError,
    UnreportableHookError,
    WatchError,
)
from lambdas.hooks.flows import redact_json, redact_text
from lambdas.hooks.log import logger
from lambdas.hooks.model import CheckResult, HookVerdict, ReportStatus, failed_verdict
from lambdas.hooks.ports import AfterShiftWatch, Announcer, HookReporter, ReportClaims
from lambdas.hooks.settings import HookSetup

# How long the early look for an earlier report may take (it only saves running the checks twice).
FIND_SECONDS = 1.0


class HookInvocation(BaseModel):
    """The whole payload CodeDeploy sends to a hook function."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: str = Field(alias="DeploymentId", pattern=r"^d-[A-Z0-9]{1,32}$")
    execution_id: str = Field(alias="LifecycleEventHookExecutionId", pattern=r"^[!-~]{1,2048}$")
    # Only the post-shift watch sends it (CodeDeploy never does): when AllowTraffic moved the traffic.
    shifted_at: AwareDatetime | None = Field(default=None, alias="ShiftedAt")


class HookOutcome(BaseModel):
    """What the invocation did, returned by the handler."""

    model_config = ConfigDict(frozen=True)

    decision: str
    reason: str
    hook: str | None = None
    status: str | None = None
    service: str | None = None
    report: str | None = None

    def to_json(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


@dataclass(frozen=True)
class HookPorts:
    checks: CheckPorts
    reporter: HookReporter
    claims: ReportClaims | None
    announcer: Announcer | None
    watch: AfterShiftWatch | None = None


@dataclass(frozen=True)
class HookTimes:
    """``now`` (wall clock, for records and decisions), the invocation's hard ``end`` and the point the
    checks stop at (``end`` minus the configured safety margin, reserved for the report)."""

    now: datetime
    end: Deadline

    def checks_deadline(self, margin_ms: int) -> Deadline:
        return self.end.before(margin_ms / 1000)


def run_hook(
    invocation: HookInvocation, *, setup: HookSetup | HookSetupError, ports: HookPorts, times: HookTimes, owner: str
) -> HookOutcome:
    if isinstance(setup, HookSetupError):
        logger.error("The hook function is misconfigured", extra={"error": str(setup)})
        verdict = failed_verdict(str(setup))
        return _report(
            invocation, verdict, hook_name="unknown", environment=None, ports=ports, times=times, owner=owner
        )
    hook_name = setup.hook.value
    logger.append_keys(environment=setup.config.name, hook=hook_name)
    checks_deadline = times.checks_deadline(setup.config.checks.safety_margin_ms)
    if ports.claims is not None:
        earlier = _earlier_report(invocation, ports.claims, checks_deadline)
        if earlier is not None:
            return _duplicate(earlier, hook_name)
    if setup.hook is Hook.AFTER_ALLOW_TRAFFIC and invocation.shifted_at is None and ports.watch is not None:
        watched = _start_watch(invocation, ports.watch, times=times, deadline=checks_deadline)
        if isinstance(watched, HookOutcome):
            return watched
        return _report(
            invocation,
            watched,
            hook_name=hook_name,
            environment=setup.config.name,
            ports=ports,
            times=times,
            owner=owner,
        )
    secrets = Secrets()
    verdict = evaluate_within_deadline(
        lambda: evaluate_hook(
            config=setup.config,
            hook=setup.hook,
            deployment_id=invocation.deployment_id,
            state_table=setup.settings.state_table,
            deadline=checks_deadline,
            now=times.now,
            ports=ports.checks,
            secrets=secrets,
            base_url_override=setup.settings.synthetics_base_url,
            metric_window_start=invocation.shifted_at,
        ),
        checks_deadline,
    )
    verdict = redact_verdict(verdict, secrets.values)
    return _report(
        invocation, verdict, hook_name=hook_name, environment=setup.config.name, ports=ports, times=times, owner=owner
    )


def _start_watch(
    invocation: HookInvocation, watch: AfterShiftWatch, *, times: HookTimes, deadline: Deadline
) -> HookOutcome | HookVerdict:
    """AfterAllowTraffic judges the minutes after the shift: the watch waits them out, then runs this hook again
    with ``ShiftedAt`` and that invocation reports. A watch that cannot start fails the hook (CodeDeploy rolls
    back) rather than judge the minutes before the shift."""
    try:
        started = watch.start(
            invocation.deployment_id, invocation.execution_id, shifted_at=times.now, deadline=deadline
        )
    except WatchError as error:
        logger.error("Could not start the post-shift watch", extra={"error": str(error)})
        return failed_verdict(
            f"the post-shift watch could not start, so the traffic after the shift is unjudged: {error}"
        )
    reason = (
        "the post-shift watch started: the checks run once the evaluation window after the shift has passed"
        if started
        else "the post-shift watch of this deployment runs already"
    )
    logger.info("Post-shift watch", extra={"started": started})
    return HookOutcome(
        decision="watching" if started else "duplicate", reason=reason, hook=Hook.AFTER_ALLOW_TRAFFIC.value
    )


def redact_verdict(verdict: HookVerdict, secrets: set[str]) -> HookVerdict:
    """The verdict with every secret (configured or captured) gone from its reason and every check."""
    if not secrets:
        return verdict
    checks = tuple(
        CheckResult(
            name=check.name,
            kind=check.kind,
            passed=check.passed,
            reason=redact_text(check.reason, secrets),
            details={k: redact_json(v, secrets) for k, v in check.details.items()},
        )
        for check in verdict.checks
    )
    return HookVerdict(
        status=verdict.status, reason=redact_text(verdict.reason, secrets), checks=checks, service=verdict.service
    )


def _earlier_report(invocation: HookInvocation, claims: ReportClaims, deadline: Deadline) -> dict[str, str] | None:
    try:
        return claims.find(invocation.deployment_id, invocation.execution_id, deadline=deadline.within(FIND_SECONDS))
    except StateTableError as error:
        # Only saves running the checks twice; the claim and CodeDeploy itself still refuse a second report.
        logger.warning("Could not look up an earlier report", extra={"error": str(error)})
        return None


def _duplicate(earlier: dict[str, str], hook_name: str) -> HookOutcome:
    status = earlier.get("verdict", "")
    logger.info("Duplicate hook invocation", extra={"earlier_status": status})
    return HookOutcome(
        decision="duplicate",
        reason=f"already reported {status} at {earlier.get('reported_at', '')}: {earlier.get('reason', '')}",
        hook=hook_name,
        status=status or None,
    )


def _report(
    invocation: HookInvocation,
    verdict: HookVerdict,
    *,
    hook_name: str,
    environment: str | None,
    ports: HookPorts,
    times: HookTimes,
    owner: str,
) -> HookOutcome:
    plan = plan_report(times.end)
    claim: Claim | None = None
    if ports.claims is not None:
        attributes = {
            "verdict": verdict.status.value,
            "reason": verdict.reason[:2000],
            "hook": hook_name,
            "reported_at": times.now.isoformat(),
        }
        lease = timedelta(seconds=max(1.0, times.end.remaining_seconds()))
        try:
            claim = ports.claims.claim(
                invocation.deployment_id,
                invocation.execution_id,
                owner=owner,
                lease=lease,
                now=times.now,
                attributes=attributes,
                deadline=plan.claim,
            )
        except StateTableError as error:
            # CodeDeploy refuses a second status, so reporting without the record is still exactly once.
            logger.warning("Could not record the report; reporting anyway", extra={"error": str(error)})
        else:
            if claim.state is ClaimState.DONE and claim.previous is not None:
                return _duplicate(dict(claim.previous.attributes), hook_name)
            if claim.state is ClaimState.HELD:
                logger.info("Another invocation is reporting this hook execution")
                return HookOutcome(
                    decision="duplicate", reason="another invocation is reporting this execution", hook=hook_name
                )
            if claim.state is ClaimState.TAKEN_OVER:
                logger.warning("An earlier invocation died before finishing its report; reporting now")
    try:
        outcome = ports.reporter.report(
            invocation.deployment_id, invocation.execution_id, verdict.status, deadline=plan.report
        )
    except ReportError as error:
        _release(claim, ports.claims, plan.complete)
        logger.exception("Could not report the hook status", extra={"status": verdict.status.value})
        if error.permanent and not error.access_denied:
            # No retry can report to an unknown deployment or execution: say so and stop.
            return HookOutcome(
                decision="unreported", reason=f"{error}; verdict was {verdict.status}: {verdict.reason}", hook=hook_name
            )
        raise UnreportableHookError(f"{error}; verdict was {verdict.status}: {verdict.reason}") from error
    if claim is not None and ports.claims is not None:
        try:
            ports.claims.complete(claim, now=times.now, attributes={"report": outcome}, deadline=plan.complete)
        except StateTableError as error:
            # The report landed; a retry finds the lease expired and CodeDeploy answers "already completed".
            logger.warning("Could not mark the report done", extra={"error": str(error)})
    _log_and_announce(invocation, verdict, hook_name=hook_name, environment=environment, ports=ports, times=times)
    reported = outcome == "reported"
    return HookOutcome(
        decision=verdict.status.value if reported else "duplicate",
        reason=verdict.reason if reported else f"CodeDeploy already had a status; ours was {verdict.status}",
        hook=hook_name,
        service=verdict.service,
        report=outcome,
    )


def _release(claim: Claim | None, claims: ReportClaims | None, deadline: Deadline) -> None:
    if claim is None or claims is None:
        return
    try:
        claims.release(claim, deadline=deadline)
    except StateTableError as error:
        # The lease ends with this invocation, so Lambda's retry takes it over anyway.
        logger.warning("Could not release the report record", extra={"error": str(error)})


def _log_and_announce(
    invocation: HookInvocation,
    verdict: HookVerdict,
    *,
    hook_name: str,
    environment: str | None,
    ports: HookPorts,
    times: HookTimes,
) -> None:
    evidence = {
        "hook": hook_name,
        "status": verdict.status.value,
        "lifecycle_event_hook_execution_id": invocation.execution_id,
        "checks": [check.model_dump(mode="json") for check in verdict.checks],
    }
    logger.info("Hook verdict", extra={"reason": verdict.reason, "lms_service": verdict.service, **evidence})
    if ports.announcer is None or environment is None:
        return
    succeeded = verdict.status is ReportStatus.SUCCEEDED
    event = TollgateEvent(
        detail_type=DetailType.HOOK_VERDICT,
        environment=environment,
        severity=Severity.INFO if succeeded else Severity.WARNING,
        summary=f"{hook_name} {verdict.status.value} for {verdict.service or 'an unknown service'}"[:500],
        reason=verdict.reason,
        service=verdict.service,
        deployment_id=invocation.deployment_id,
        occurred_at=times.now,
        evidence=evidence,
    )
    try:
        ports.announcer.announce(event, deadline=times.end.before(TAIL_SECONDS))
    except AnnounceFailedError as error:
        # The report is what CodeDeploy waits for; a lost announcement is logged, not fatal.
        logger.warning("Could not announce the hook verdict", extra={"error": str(error)})
