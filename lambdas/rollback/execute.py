"""Carry out a rollback decision through the adapters: claim the deployment once, act, remember the rollback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lambdas.core.observability import logger
from lambdas.rollback.adapters.deployments import Deployments
from lambdas.rollback.adapters.ledger import RollbackLedger
from lambdas.rollback.models import Outcome, RollbackAction, RollbackDecision, RollbackRecord
from lambdas.rollback.ports import NoCanaryController, TrafficRestorer


@dataclass
class RollbackPorts:
    deployments: Deployments
    ledger: RollbackLedger
    traffic: TrafficRestorer = field(default_factory=NoCanaryController)


@dataclass(frozen=True)
class Execution:
    """A decision as carried out: possibly turned into a skip when another rollback won the claim."""

    decision: RollbackDecision
    rollback_deployment_id: str | None = None
    stop_status: str | None = None
    restored_blue: bool = False

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
) -> Execution:
    """Act on ``decision`` at most once per deployment, however many alarms or requests ask."""
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
    )
    existing = ports.ledger.claim(record, now)
    if existing is not None:
        return Execution(
            decision.model_copy(
                update={
                    "outcome": Outcome.SKIPPED,
                    "action": RollbackAction.NONE,
                    "reason": f"deployment {decision.deployment_id} was already rolled back "
                    f"({existing.action} at {existing.started_at.isoformat()}, "
                    f"for {existing.alarm_name or 'an operator request'}): one rollback per deployment",
                }
            )
        )
    done = False
    try:
        execution = _act(decision, ports, record)
        done = True
    finally:
        if not done:
            # Give the claim back so the retried event (EventBridge retries failed invocations) can act.
            ports.ledger.release(decision.deployment_id)
    if execution.rollback_deployment_id:
        ports.ledger.remember_rollback(
            record.model_copy(update={"rollback_deployment_id": execution.rollback_deployment_id}), now
        )
    logger.info("rollback started", extra={"decision": decision.model_dump(mode="json"), **execution.evidence()})
    return execution


def _act(decision: RollbackDecision, ports: RollbackPorts, record: RollbackRecord) -> Execution:
    deployment_id, service = record.deployment_id, record.service
    restored_blue = decision.restore_blue_first and ports.traffic.restore_blue(
        environment=decision.environment, service=service, deployment_id=deployment_id
    )
    if decision.action is RollbackAction.STOP_DEPLOYMENT:
        status = ports.deployments.stop_with_rollback(deployment_id)
        return Execution(decision, stop_status=status, restored_blue=restored_blue)
    target = decision.target_task_definition
    if target is None:  # the decision always names a target for these actions
        raise ValueError(f"{decision.action.value} without a target task definition")
    if decision.action is RollbackAction.REDEPLOY_PREVIOUS:
        new_id = ports.deployments.redeploy(
            service, target, rolled_back=deployment_id, why=record.alarm_name or "operator request"
        )
    else:
        new_id = ports.deployments.update_service(service, target)
    return Execution(decision, rollback_deployment_id=new_id, restored_blue=restored_blue)
