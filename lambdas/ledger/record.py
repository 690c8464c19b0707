"""Use case: record one delivered event in the ledger (idempotent, order-independent)."""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.core.config import EnvironmentConfig
from lambdas.ledger.description import parse_description
from lambdas.ledger.facts import DecisionFact, StateFact, to_fact
from lambdas.ledger.model import SUCCESS
from lambdas.ledger.ports import DeploymentInfo, DeploymentReader, DeploymentUpdate, LedgerWriter, Value

SUCCEEDED_STATUS = "Succeeded"  # GetDeployment deploymentInfo.status


@dataclass(frozen=True)
class LedgerPorts:
    ledger: LedgerWriter
    deployments: DeploymentReader


@dataclass(frozen=True)
class RecordResult:
    decision: str  # recorded | ignored
    reason: str
    deployment_id: str | None = None
    updates: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "reason": self.reason,
            "deployment_id": self.deployment_id,
            "updates": self.updates,
        }


def record_event(event: object, config: EnvironmentConfig, ports: LedgerPorts) -> RecordResult:
    fact, reason = to_fact(event, config)
    if fact is None:
        return RecordResult("ignored", reason)
    updates = state_updates(fact, ports.deployments) if isinstance(fact, StateFact) else decision_updates(fact)
    if isinstance(fact, DecisionFact):
        ports.ledger.put_decision(fact.decision)
    for update in updates:
        ports.ledger.merge_deployment(update)
    deployment_id: str | None
    if isinstance(fact, StateFact):
        deployment_id, what = fact.deployment_id, fact.state or "rollback"
    else:
        deployment_id, what = fact.decision.deployment_id, fact.decision.what
    return RecordResult("recorded", f"{what} recorded", deployment_id, len(updates))


def state_updates(fact: StateFact, reader: DeploymentReader) -> list[DeploymentUpdate]:
    """The deployment's own update, plus what CodeDeploy says about the rollback it is part of."""
    fields: dict[str, Value] = {}
    if fact.service:
        fields["service"] = fact.service
    if fact.rolling_back:
        fields["rolled_back"] = True
    states = {fact.state: fact.at} if fact.state else {}
    updates = [DeploymentUpdate(fact.deployment_id, fact.environment, states, fields)]
    info = reader.describe(fact.deployment_id) if fact.from_codedeploy else None
    if info is None:
        return updates
    fields.update(release_fields(info))
    if info.rollback_of:
        restored: dict[str, Value] = {"rolled_back": True, "rollback_deployment_id": fact.deployment_id}
        if fact.state == SUCCESS:
            restored["restored_at"] = fact.at
        updates.append(DeploymentUpdate(info.rollback_of, fact.environment, fields=restored))
    if info.rollback_deployment_id:
        fields.update(rolled_back=True, rollback_deployment_id=info.rollback_deployment_id)
        rollback = reader.describe(info.rollback_deployment_id)
        if rollback is not None:
            updates.append(rollback_update(rollback, fact))
            if rollback.status == SUCCEEDED_STATUS and rollback.completed_at:
                fields["restored_at"] = rollback.completed_at
    return updates


def release_fields(info: DeploymentInfo) -> dict[str, Value]:
    """Version, commit, commit time and who deployed, from the description the LMS workflow writes."""
    release = parse_description(info.description)
    candidates: dict[str, Value | None] = {
        "created_at": info.created_at,
        "description": info.description,
        "version": release.version,
        "commit": release.commit,
        "committed_at": release.committed_at,
        "started_by": release.actor,
    }
    if info.rollback_of:
        candidates.update(is_rollback=True, rollback_of=info.rollback_of, started_by=info.creator or "CodeDeploy")
    return {k: v for k, v in candidates.items() if v is not None}


def rollback_update(rollback: DeploymentInfo, fact: StateFact) -> DeploymentUpdate:
    """CodeDeploy's rollback deployment, as GetDeployment describes it (its own events may never come)."""
    states = {SUCCESS: rollback.completed_at} if rollback.status == SUCCEEDED_STATUS and rollback.completed_at else {}
    fields: dict[str, Value] = {"is_rollback": True, "rollback_of": fact.deployment_id, **release_fields(rollback)}
    if fact.service:
        fields["service"] = fact.service
    return DeploymentUpdate(rollback.deployment_id, fact.environment, states, fields)


def decision_updates(fact: DecisionFact) -> list[DeploymentUpdate]:
    decision = fact.decision
    if not decision.deployment_id:
        return []
    fields: dict[str, Value] = {}
    if decision.service:
        fields["service"] = decision.service
    if fact.marks_rolled_back:
        fields["rolled_back"] = True
        if fact.rollback_deployment_id:
            fields["rollback_deployment_id"] = fact.rollback_deployment_id
    if fact.time_to_restore_seconds is not None:
        fields["time_to_restore_seconds"] = fact.time_to_restore_seconds
        fields["restored_at"] = decision.occurred_at
    updates = [DeploymentUpdate(decision.deployment_id, decision.environment, fields=fields)]
    if fact.marks_rolled_back and fact.rollback_deployment_id:
        marks: dict[str, Value] = {"is_rollback": True, "rollback_of": decision.deployment_id}
        if decision.service:
            marks["service"] = decision.service
        updates.append(DeploymentUpdate(fact.rollback_deployment_id, decision.environment, fields=marks))
    return updates
