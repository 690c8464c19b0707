"""Carry out an operator's rollback: read state, plan (pure), then act through the adapters.

Shared by the operator-rollback function and the ``tollgate rollback`` command, so the command on the
embedded AWS runs exactly what the function runs in AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.rollback.adapters.database import Database
from lambdas.rollback.adapters.deployments import RollbackActionError
from lambdas.rollback.announcements import decision_event
from lambdas.rollback.execute import Execution, RollbackPorts, carry_out
from lambdas.rollback.models import DeploymentState
from lambdas.rollback.operator import (
    DatabaseState,
    OperatorRollbackPlan,
    OperatorRollbackRequest,
    plan_operator_rollback,
)

_REPORTED = {"service", "outcome", "action", "reason"}


@dataclass
class OperatorResult:
    plan: OperatorRollbackPlan
    restored_cluster_arn: str | None = None
    executions: list[Execution] = field(default_factory=list)
    error: str | None = None

    @property
    def decision(self) -> str:
        if self.plan.refusal or self.error:
            return "refused"
        return "planned" if self.plan.request.dry_run else "rolled_back"

    @property
    def reason(self) -> str:
        if self.error or self.plan.refusal:
            return str(self.error or self.plan.refusal)
        steps = [d.reason for d in self.plan.services] + ([self.plan.database.reason] if self.plan.database else [])
        return "; ".join(steps) or "nothing to do"

    def announcements(self, now: datetime) -> list[TollgateEvent]:
        """What goes on the bus: a refusal, the database restore, and each service's decision."""
        request, plan = self.plan.request, self.plan
        base = {"environment": request.environment, "occurred_at": now, "severity": Severity.CRITICAL}
        evidence: dict[str, Any] = {"requested_by": request.requested_by, "type": request.type.value}
        events: list[TollgateEvent] = []
        if plan.refusal or self.error:
            events.append(
                TollgateEvent(
                    detail_type=DetailType.ROLLBACK_SKIPPED,
                    summary=f"Operator {request.type.value} rollback refused in {request.environment}",
                    reason=self.reason[:2000],
                    evidence=evidence,
                    **base,
                )
            )
        if self.restored_cluster_arn and plan.database:
            events.append(
                TollgateEvent(
                    detail_type=DetailType.ROLLBACK_STARTED,
                    summary=f"Database restore started: {plan.database.target_cluster}",
                    reason=plan.database.reason,
                    evidence={**evidence, "cluster_arn": self.restored_cluster_arn, "cut_over": list(plan.cut_over)},
                    **base,
                )
            )
        for execution in self.executions:
            event = decision_event(execution.decision, now=now, evidence={**evidence, **execution.evidence()})
            if event:
                events.append(event)
        return events

    def report(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "plan": self.plan.model_dump(mode="json"),
            "restored_cluster_arn": self.restored_cluster_arn,
            "services": [
                {
                    **e.decision.model_dump(mode="json", include={"service", "outcome", "action", "reason"}),
                    **e.evidence(),
                }
                for e in self.executions
            ],
        }


def plan_request(
    request: OperatorRollbackRequest,
    config: EnvironmentConfig,
    ports: RollbackPorts,
    database: Database,
    now: datetime,
) -> OperatorRollbackPlan:
    """Read what the plan needs (deployments, the database, ``--to``) and plan; changes nothing."""
    known = [s for s in request.services if s in config.lms.services]
    states: dict[str, DeploymentState] = {
        s: ports.deployments.state(s, is_tollgate_rollback=ports.ledger.is_rollback) for s in known
    }
    db_state: DatabaseState | None = database.state(config.lms.rds_cluster) if request.touches_database else None
    targets: dict[str, str] = {}
    if request.to and request.touches_services:
        try:
            targets = {s: ports.deployments.resolve_task_definition(s, request.to) for s in known}
        except RollbackActionError as error:
            plan = plan_operator_rollback(request, states, db_state, config, now)
            return plan.model_copy(update={"refusal": f"--to {request.to}: {error}"})
    return plan_operator_rollback(request, states, db_state, config, now, targets=targets)


def run_operator_rollback(
    request: OperatorRollbackRequest,
    config: EnvironmentConfig,
    ports: RollbackPorts,
    database: Database,
    now: datetime,
) -> OperatorResult:
    """Plan, and unless refused or a dry run, restore the database first and then roll back each service."""
    plan = plan_request(request, config, ports, database, now)
    result = OperatorResult(plan=plan)
    if not plan.acts:
        return result
    if plan.database is not None:
        result.restored_cluster_arn = database.restore(plan.database)
    trigger = f"operator rollback by {request.requested_by}"
    for decision in plan.services:
        result.executions.append(carry_out(decision, ports, trigger=trigger, trigger_time=now, now=now))
    return result
