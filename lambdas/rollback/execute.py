"""Carry out a rollback decision at most once per deployment, on a lease that cannot strand the work.

claim (lease until this invocation's deadline) -> act (StopDeployment / CreateDeployment / UpdateService)
-> complete. An invocation killed in between leaves a lease that runs out; the platform's retry (Lambda
retries a failed asynchronous invocation after 1 and 2 minutes) takes it over and checks CodeDeploy
(or ECS) before acting again, so the rollback happens exactly once. See docs/decisions/0030.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lambdas.core.config import Severity
from lambdas.core.observability import logger
from lambdas.core.state_table import Claim, ClaimState
from lambdas.rollback.models import Outcome, RollbackAction, RollbackDecision, RollbackRecord
from lambdas.rollback.ports import DeploymentsPort, LedgerPort, NoCanaryController, TrafficRestorer

# A deployment CodeDeploy no longer runs: a stop that landed before a kill, or a deployment that ended.
FINISHED = frozenset({"Stopped", "Failed", "Succeeded"})


@dataclass
class RollbackPorts:
    deployments: DeploymentsPort
    ledger: LedgerPort
    traffic: TrafficRestorer = field(default_factory=NoCanaryController)


@dataclass(frozen=True)
class Execution:
    """A decision as carried out: possibly turned into a join when another rollback holds the claim."""

    decision: RollbackDecision
    rollback_deployment_id: str | None = None
    stop_status: str | None = None
    restored_blue: bool = False
    claim: Claim | None = None
    record: RollbackRecord | None = None
    # The claim was won by this same event (a duplicate delivery): its stored answer, if finished.
    duplicate_of: str | None = None
    joined: RollbackRecord | None = None

    @property
    def duplicate(self) -> bool:
        return self.claim is not None and self.duplicate_of is not None

    def evidence(self) -> dict[str, object]:
        return {
            "rollback_deployment_id": self.rollback_deployment_id,
            "stop_status": self.stop_status,
            "restored_blue_first": self.restored_blue,
        }


def carry_out(
    decision: RollbackDecision,
    ports: RollbackPorts,
    *,
    trigger: str | None,
    trigger_time: datetime | None,
    now: datetime,
    owner: str,
    lease: timedelta,
    event_id: str | None = None,
    reclaim_own: bool = False,
) -> Execution:
    """Act on ``decision`` at most once per deployment, however many alarms, retries or requests ask.

    ``reclaim_own``: ``owner`` is the Lambda request id, so Lambda's retry of this invocation takes over
    its own unfinished lease at once (and checks the real state first, as for any taken-over lease)."""
    if not decision.acts or decision.deployment_id is None or decision.service is None:
        return Execution(decision)
    record = RollbackRecord(
        environment=decision.environment,
        service=decision.service,
        deployment_id=decision.deployment_id,
        action=decision.action.value,
        alarm_name=trigger,
        alarm_time=trigger_time,
        started_at=now,
        event_id=event_id,
    )
    claim = ports.ledger.claim(record, owner=owner, lease=lease, now=now, reclaim_own=reclaim_own)
    if not claim.acts:
        return _not_ours(decision, claim, record)
    # No release on failure: the call may have landed in AWS even though it failed here (a timeout after
    # CodeDeploy accepted it). The lease runs out at this invocation's deadline, before Lambda's retry
    # (1 minute later at the earliest), and the retry takes it over and checks CodeDeploy first.
    execution = _act(decision, ports, record, taken_over=claim.state is ClaimState.TAKEN_OVER)
    done = record.model_copy(
        update={"rollback_deployment_id": execution.rollback_deployment_id, "stop_status": execution.stop_status}
    )
    if execution.rollback_deployment_id:
        ports.ledger.remember_rollback(done, now)
    logger.info("rollback started", extra={"decision": decision.model_dump(mode="json"), **execution.evidence()})
    return Execution(
        execution.decision,
        rollback_deployment_id=execution.rollback_deployment_id,
        stop_status=execution.stop_status,
        restored_blue=execution.restored_blue,
        claim=claim,
        record=done,
    )


def finish(ports: RollbackPorts, execution: Execution, *, now: datetime, result: str | None) -> None:
    """Mark the claim done with the answer (the guarded AWS call succeeded)."""
    if execution.claim is not None and execution.record is not None and execution.claim.acts:
        ports.ledger.complete(execution.claim, execution.record, now=now, result=result)


def _not_ours(decision: RollbackDecision, claim: Claim, record: RollbackRecord) -> Execution:
    from lambdas.rollback.adapters.ledger import record_of  # noqa: PLC0415 - the attribute mapping lives there

    previous = record_of(claim.previous) or record
    if previous.event_id is not None and previous.event_id == record.event_id:
        return Execution(decision, claim=claim, record=previous, duplicate_of=previous.event_id)
    who = previous.alarm_name or "an operator request"
    under_way = "under way" if claim.state is ClaimState.HELD else "done"
    joined = decision.model_copy(
        update={
            "outcome": Outcome.JOINED,
            "action": RollbackAction.NONE,
            "severity": Severity.INFO,
            "reason": f"deployment {decision.deployment_id} was already rolled back ({previous.action} at "
            f"{previous.started_at.isoformat()}, for {who}, {under_way}): one rollback per deployment; "
            f"{record.alarm_name or 'this request'} joined it",
        }
    )
    return Execution(joined, claim=claim, record=previous, joined=previous)


def _act(decision: RollbackDecision, ports: RollbackPorts, record: RollbackRecord, *, taken_over: bool) -> Execution:
    deployment_id, service = record.deployment_id, record.service
    restored_blue = decision.restore_blue_first and ports.traffic.restore_blue(
        environment=decision.environment, service=service, deployment_id=deployment_id
    )
    if decision.action is RollbackAction.STOP_DEPLOYMENT:
        if taken_over:
            status = ports.deployments.status(deployment_id)
            if status in FINISHED:
                logger.info("taken-over rollback: the deployment is already " + str(status))
                return Execution(decision, stop_status=f"already {status}", restored_blue=restored_blue)
        status = ports.deployments.stop_with_rollback(deployment_id)
        return Execution(decision, stop_status=status, restored_blue=restored_blue)
    target = decision.target_task_definition
    if target is None:  # the decision always names a target for these actions
        raise ValueError(f"{decision.action.value} without a target task definition")
    if taken_over:
        started = ports.deployments.rollback_in_progress(service, target, rolled_back=deployment_id)
        if started:
            return Execution(decision, rollback_deployment_id=started, restored_blue=restored_blue)
    if decision.action is RollbackAction.REDEPLOY_PREVIOUS:
        new_id = ports.deployments.redeploy(
            service, target, rolled_back=deployment_id, why=record.alarm_name or "operator request"
        )
    else:
        new_id = ports.deployments.update_service(service, target)
    return Execution(decision, rollback_deployment_id=new_id, restored_blue=restored_blue)
