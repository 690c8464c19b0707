"""Use case: an alarm state change -> decision -> at most one rollback per deployment -> one page.

Talks to AWS only through ports. Round trips before StopDeployment for a Tollgate-named alarm: the
deployment group (GetDeploymentGroup), the latest deployment (GetDeployment), the lease (PutItem) — the
lease is also the idempotency record, so there is no separate one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.observability import logger
from lambdas.core.state_table import Claim, ClaimState
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.rollback.alarms import AlarmStateChange, needs_tags
from lambdas.rollback.announcements import decision_event
from lambdas.rollback.decision import decide_rollback, service_to_inspect
from lambdas.rollback.errors import AlarmTagsError
from lambdas.rollback.execute import Execution, RollbackPorts, carry_out, finish
from lambdas.rollback.models import DeploymentState, Outcome, RollbackAction, RollbackDecision
from lambdas.rollback.ports import AlarmTagsPort, AnnouncerPort, LedgerPort


@dataclass(frozen=True)
class Invocation:
    """Who is asking: the event's id, this invocation's id (the lease owner), where it runs, its deadline."""

    event_id: str
    owner: str
    account: str | None
    region: str | None
    now: datetime
    lease: timedelta  # until this invocation's deadline: a killed invocation's lease runs out with it


@dataclass
class AlarmPorts:
    rollback: RollbackPorts
    announce: AnnouncerPort
    alarm_tags: AlarmTagsPort


def ignored(reason: str, **extra: Any) -> dict[str, Any]:
    logger.info("event ignored", extra={"reason": reason, **extra})
    return {"decision": "ignored", "reason": reason, **extra}


def handle_alarm(
    event: dict[str, Any], config: EnvironmentConfig, ports: AlarmPorts, invocation: Invocation
) -> dict[str, Any]:
    try:
        alarm = AlarmStateChange.model_validate(event)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}"[:200] for e in error.errors()[:3]]
        return ignored(f"malformed alarm state change: {error.error_count()} error(s)", errors=problems)
    foreign = _foreign(alarm, invocation)
    if foreign:
        return ignored(foreign)
    if needs_tags(alarm, config) and alarm.alarm_arn:
        try:
            alarm = alarm.with_tags(ports.alarm_tags(alarm.alarm_arn))
        except AlarmTagsError as error:
            logger.warning("alarm tags unreadable; treating the alarm as untagged", extra={"error": str(error)})
    logger.append_keys(alarm_name=alarm.detail.alarm_name[:200], environment=config.name)
    deployments, ledger = ports.rollback.deployments, ports.rollback.ledger
    service = service_to_inspect(alarm, config)
    state = deployments.state(service, is_tollgate_rollback=ledger.is_rollback) if service else None
    decision = decide_rollback(alarm, state, config, invocation.now)
    if decision.outcome is Outcome.IGNORED:
        return ignored(decision.reason, service=decision.service)
    evidence = {
        "alarm_name": alarm.detail.alarm_name,
        "alarm_state": alarm.detail.state.value.value,
        "alarm_reason": alarm.detail.state.reason[:500],
        "alarm_time": alarm.detail.state.timestamp.isoformat(),
    }
    decision = _resume_stranded(decision, state, ledger)
    if decision.acts:
        execution = carry_out(
            decision,
            ports.rollback,
            trigger=alarm.detail.alarm_name,
            trigger_time=alarm.detail.state.timestamp,
            now=invocation.now,
            owner=invocation.owner,
            lease=invocation.lease,
            event_id=invocation.event_id,
        )
        return _after_claim(execution, ports, invocation, evidence)
    return _once_per_event(decision, ports, invocation, evidence)


def _resume_stranded(decision: RollbackDecision, state: DeploymentState | None, ledger: LedgerPort) -> RollbackDecision:
    """The latest deployment is one Tollgate claimed (it stopped it), or a rollback of one: go back through
    that claim, so a retry of a killed (or unannounced) rollback finishes it and a duplicate answers as the
    first did. A duplicate that reads the deployment just after the first invocation stopped it lands here
    too, and must not announce a second, different decision."""
    latest = state.latest if state else None
    if decision.outcome not in (Outcome.SKIPPED, Outcome.ANNOUNCED) or latest is None:
        return decision
    claimed_id = latest.rolls_back if latest.is_rollback and latest.rolls_back else latest.deployment_id
    claimed = ledger.find_claim(claimed_id)
    if claimed is None or claimed.service != decision.service:
        return decision
    return decision.model_copy(
        update={
            "outcome": Outcome.ROLLBACK,
            "action": RollbackAction(claimed.action),
            "severity": Severity.CRITICAL,
            "deployment_id": claimed.deployment_id,
            "target_task_definition": latest.task_definition if latest.is_rollback else decision.target_task_definition,
            "reason": f"alarm {claimed.alarm_name or 'request'}: rollback of deployment {claimed.deployment_id} "
            f"({claimed.action}) under way since {claimed.started_at.isoformat()}",
        }
    )


def _foreign(alarm: AlarmStateChange, invocation: Invocation) -> str | None:
    """Only the environment's own account and region act (the function runs in that account)."""
    if invocation.account and alarm.account != invocation.account:
        return f"alarm from account {alarm.account[:20]!r}, not this environment's account {invocation.account}"
    if invocation.region and alarm.region != invocation.region:
        return f"alarm from region {alarm.region[:30]!r}, not this environment's region {invocation.region}"
    return None


def _answer(decision: RollbackDecision, execution: Execution | None, announced: bool) -> dict[str, Any]:
    return {
        "decision": decision.outcome.value,
        "reason": decision.reason,
        "action": decision.action.value,
        "service": decision.service,
        "deployment_id": decision.deployment_id,
        "announced": announced,
        **(execution or Execution(decision)).evidence(),
    }


def _after_claim(
    execution: Execution, ports: AlarmPorts, invocation: Invocation, evidence: dict[str, Any]
) -> dict[str, Any]:
    ledger, now = ports.rollback.ledger, invocation.now
    claim = execution.claim
    if execution.duplicate and claim is not None:
        # The same event again (a duplicate delivery or the platform's retry): answer as the first did,
        # and send "Rollback Started" if the first invocation could not.
        stored = _stored(claim)
        if claim.state is ClaimState.HELD or stored is None:
            return {"decision": "in_progress", "reason": "this event's rollback is under way in another invocation"}
        _announce_started_once(ports, stored, execution, now)
        return dict(stored["result"])
    if execution.joined is not None and claim is not None:
        stored = _stored(claim)
        if claim.state is ClaimState.DONE and stored is not None:
            _announce_started_once(ports, stored, execution, now)
        return _once_per_event(execution.decision, ports, invocation, evidence)
    decision = execution.decision
    announcement = decision_event(decision, now=now, evidence={**evidence, **execution.evidence()})
    answer = _answer(decision, execution, announced=announcement is not None)
    payload = {"result": answer, "announcement": announcement.model_dump(mode="json") if announcement else None}
    finish(ports.rollback, execution, now=now, result=json.dumps(payload, default=str))
    if announcement is not None:
        event_id = ports.announce(announcement)
        if decision.deployment_id:
            ledger.mark_announced(decision.deployment_id, now)
        logger.info("alarm decided", extra={"decision": decision.model_dump(mode="json"), "announcement_id": event_id})
    return answer


def _stored(claim: Claim) -> dict[str, Any] | None:
    raw = claim.previous.attributes.get("result") if claim.previous else None
    if not raw:
        return None
    try:
        stored = json.loads(raw)
    except ValueError:
        return None
    return stored if isinstance(stored, dict) and isinstance(stored.get("result"), dict) else None


def _announce_started_once(ports: AlarmPorts, stored: dict[str, Any], execution: Execution, now: datetime) -> None:
    """A stop is always announced as critical, even when the first announcement failed (sent again here)."""
    ledger = ports.rollback.ledger
    deployment_id = execution.decision.deployment_id
    if not stored.get("announcement") or deployment_id is None or ledger.announced(deployment_id):
        return
    if _just_completed(execution.claim, now):
        return  # the invocation that completed the claim is announcing right now; Lambda retries a dead one later
    announcement = TollgateEvent.model_validate(stored["announcement"])
    ports.announce(announcement)
    ledger.mark_announced(deployment_id, now)
    logger.info("rollback started announced by a later invocation", extra={"deployment_id": deployment_id})


# Lambda retries a failed asynchronous invocation after a minute or more
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a claim completed less
# than this ago belongs to an invocation that is still running, between its completion and its announcement.
ANNOUNCE_GRACE = timedelta(seconds=60)


def _just_completed(claim: Claim | None, now: datetime) -> bool:
    completed = claim.previous.attributes.get("completed_at") if claim and claim.previous else None
    try:
        at = datetime.fromisoformat(str(completed)) if completed else None
    except ValueError:
        return False
    return at is not None and at.tzinfo is not None and now - at < ANNOUNCE_GRACE


def _once_per_event(
    decision: RollbackDecision, ports: AlarmPorts, invocation: Invocation, evidence: dict[str, Any]
) -> dict[str, Any]:
    """Announce a decision that does not act, once per event (a lease on the event id)."""
    ledger = ports.rollback.ledger
    claim = ledger.claim_event(invocation.event_id, owner=invocation.owner, lease=invocation.lease, now=invocation.now)
    if not claim.acts:
        stored = _stored(claim)
        if stored is None:
            return {"decision": "in_progress", "reason": "this event is being handled by another invocation"}
        return dict(stored["result"])
    extra = {}
    if decision.outcome is Outcome.JOINED:
        extra = {"joined_rollback_of": decision.deployment_id}
    announcement = decision_event(decision, now=invocation.now, evidence={**evidence, **extra})
    answer = _answer(decision, None, announced=announcement is not None)
    if announcement is not None:
        ports.announce(announcement)
    ledger.complete_event(claim, now=invocation.now, result=json.dumps({"result": answer}, default=str))
    logger.info("alarm decided", extra={"decision": decision.model_dump(mode="json")})
    return answer
