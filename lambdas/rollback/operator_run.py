"""Carry out an operator's rollback: read state, plan (pure), then act through the adapters.

Shared by the operator-rollback function and the ``tollgate rollback`` command, so the command on the
embedded AWS runs exactly what the function runs in AWS.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.state_table import ClaimState
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.rollback.announcements import decision_event
from lambdas.rollback.errors import RollbackActionError
from lambdas.rollback.execute import Execution, RollbackPorts, carry_out, finish
from lambdas.rollback.models import DeploymentState
from lambdas.rollback.operator import (
    RDS_IDENTIFIER_MAX,
    DatabaseRestore,
    DatabaseState,
    OperatorRollbackPlan,
    OperatorRollbackRequest,
    plan_operator_rollback,
)
from lambdas.rollback.ports import DatabasePort, StepsPort

# The operator function's timeout: a killed invocation's leases run out with it.
OPERATOR_LEASE = timedelta(seconds=120)
MAX_SAME_MINUTE = 9


@dataclass
class OperatorResult:
    plan: OperatorRollbackPlan
    restored_cluster_arn: str | None = None
    # The restore was done by another invocation of this request (a duplicate delivery): it announced it.
    restore_announced_elsewhere: bool = False
    executions: list[Execution] = field(default_factory=list)
    error: str | None = None
    # Another invocation (a duplicate delivery of the request) is carrying the plan out right now.
    in_progress: str | None = None

    @property
    def decision(self) -> str:
        if self.in_progress:
            return "in_progress"
        if self.plan.refusal or self.error:
            return "refused"
        return "planned" if self.plan.request.dry_run else "rolled_back"

    @property
    def reason(self) -> str:
        if self.in_progress:
            return self.in_progress
        if self.error or self.plan.refusal:
            return str(self.error or self.plan.refusal)
        steps = [d.reason for d in self.plan.services] + ([self.plan.database.reason] if self.plan.database else [])
        return "; ".join(steps) or "nothing to do"

    def announcements(self, now: datetime) -> list[TollgateEvent]:
        """What goes on the bus: a refusal, the database restore, and each service's decision (nothing for
        a duplicate while the first delivery is under way: that one announces)."""
        request, plan = self.plan.request, self.plan
        if self.in_progress:
            return []
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
        if self.restored_cluster_arn and plan.database and not self.restore_announced_elsewhere:
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
            if _carried_out_elsewhere(execution):
                continue
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
    database: DatabasePort,
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
    database: DatabasePort,
    now: datetime,
    *,
    steps: StepsPort | None = None,
    request_id: str | None = None,
    lease: timedelta = OPERATOR_LEASE,
    owner: str | None = None,
) -> OperatorResult:
    """Plan, and unless refused or a dry run, restore the database first and then roll back each service.

    With ``steps`` and ``request_id`` (the event id), the first attempt's plan is kept and each step is a
    lease: a retry of the same request resumes that plan after the steps already done (the restore is
    never repeated; a service the killed attempt already redeployed is found, not redeployed), instead of
    planning again from the state the first attempt changed. ``owner`` is the Lambda request id, which
    Lambda's retries keep: a retry takes its own attempt's leases over at once.
    """
    plan = _kept_plan(steps, request_id)
    if plan is None:
        plan = plan_request(request, config, ports, database, now)
        if plan.acts and steps is not None and request_id is not None:
            kept = steps.keep_plan(request_id, plan.model_dump_json(), now=now)
            plan = OperatorRollbackPlan.model_validate_json(kept)
    result = OperatorResult(plan=plan)
    if not plan.acts:
        return result
    owner = owner or f"{request_id or 'operator'}@{uuid.uuid4()}"
    if plan.database is not None:
        restored = _restore_once(plan.database, database, steps, request_id, owner, lease, now)
        result.restored_cluster_arn, result.restore_announced_elsewhere = restored
        if result.restored_cluster_arn is None:
            result.in_progress = "the database restore of this request is under way in another invocation"
            return result
    trigger = f"operator rollback by {plan.request.requested_by}"
    for decision in plan.services:
        execution = carry_out(
            decision,
            ports,
            trigger=trigger,
            trigger_time=now,
            now=now,
            owner=owner,
            lease=lease,
            event_id=request_id,
            reclaim_own=True,
        )
        finish(ports, execution, now=now, result=None)
        result.executions.append(execution)
    if result.executions and all(
        _carried_out_elsewhere(e) and e.claim is not None and e.claim.state is ClaimState.HELD
        for e in result.executions
    ):
        result.in_progress = "the rollback of this request is under way in another invocation"
    return result


def _carried_out_elsewhere(execution: Execution) -> bool:
    """A duplicate delivery of this request, whose step another invocation holds or did: that one announces it.
    The step's own owner (Lambda's retry of its invocation, which keeps the request id) still announces."""
    claim = execution.claim
    return (
        execution.duplicate and claim is not None and claim.previous is not None and claim.previous.owner != claim.owner
    )


def _kept_plan(steps: StepsPort | None, request_id: str | None) -> OperatorRollbackPlan | None:
    """The plan an earlier attempt of this request kept (Lambda's retry, or a duplicate delivery)."""
    if steps is None or request_id is None:
        return None
    kept = steps.kept_plan(request_id)
    return OperatorRollbackPlan.model_validate_json(kept) if kept else None


def _restore_once(  # noqa: PLR0917 - one step's inputs, called once
    restore: DatabaseRestore,
    database: DatabasePort,
    steps: StepsPort | None,
    request_id: str | None,
    owner: str,
    lease: timedelta,
    now: datetime,
) -> tuple[str | None, bool]:
    """The restore, at most once per request: a retry after it finds the step done (or the new cluster).

    Returns the restored cluster (None while another invocation holds the step) and whether another
    invocation of the request did it (so it, not this duplicate, announces it)."""
    if steps is None or request_id is None:
        return database.restore(_free_target(restore, database)), False
    target = _free_target(restore, database)
    claim = steps.claim(
        request_id, "database", owner=owner, lease=lease, now=now, attributes={"target_cluster": target.target_cluster}
    )
    previous = claim.previous.attributes if claim.previous else {}
    if claim.state is ClaimState.DONE:
        elsewhere = claim.previous is not None and claim.previous.owner != owner
        return previous.get("cluster_arn") or previous.get("target_cluster"), elsewhere
    if claim.state is ClaimState.HELD:
        return None, True
    if claim.state is ClaimState.TAKEN_OVER and previous.get("target_cluster"):
        earlier = previous["target_cluster"]
        if database.state(earlier).found:  # the killed attempt's restore landed: do not restore again
            steps.complete(claim, now=now, attributes={"target_cluster": earlier, "cluster_arn": earlier})
            return earlier, False
    arn = database.restore(target)  # on failure the lease runs out and the retry checks the new cluster first
    steps.complete(claim, now=now, attributes={"target_cluster": target.target_cluster, "cluster_arn": arn})
    return arn, False


def _free_target(restore: DatabaseRestore, database: DatabasePort) -> DatabaseRestore:
    """A second request in the same minute gets its own cluster name (``-2``, ``-3``...) instead of a clash."""
    name, n = restore.target_cluster, 1
    while database.state(name).found and n < MAX_SAME_MINUTE:
        n += 1
        name = f"{restore.target_cluster[: RDS_IDENTIFIER_MAX - 3]}-{n}"
    return restore.model_copy(update={"target_cluster": name})
