"""In-memory fakes for every port of the ledger (writer, reader, CodeDeploy, metrics sink)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lambdas.ledger.model import BuildRecord, DecisionRecord, DeploymentRecord
from lambdas.ledger.ports import DeploymentInfo, DeploymentUpdate

_FIELDS = {f for f in DeploymentRecord.__dataclass_fields__} - {"deployment_id", "environment", "states"}


@dataclass
class FakeLedger:
    """Applies updates with the table's semantics: every field and state time written only if absent."""

    records: dict[str, DeploymentRecord] = field(default_factory=dict)
    decisions_by_id: dict[str, DecisionRecord] = field(default_factory=dict)
    built: dict[str, BuildRecord] = field(default_factory=dict)
    deliveries: set[str] = field(default_factory=set)

    def merge_deployment(self, update: DeploymentUpdate) -> None:
        current = self.records.get(update.deployment_id) or DeploymentRecord(update.deployment_id, update.environment)
        states = {**update.states, **current.states}
        fields = {k: v for k, v in update.fields.items() if k in _FIELDS and getattr(current, k) in (None, False)}
        self.records[update.deployment_id] = replace(current, states=states, **fields)

    def put_decision(self, decision: DecisionRecord) -> None:
        self.decisions_by_id[decision.event_id] = decision

    def put_build_once(self, build: BuildRecord, *, environment: str, delivery_id: str) -> bool:
        if delivery_id in self.deliveries:
            return False
        self.deliveries.add(delivery_id)
        self.built[f"{build.repository}#{build.run_id}#{build.run_attempt}"] = build
        return True

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return self.records.get(deployment_id)

    def decisions_of(self, deployment_id: str) -> Sequence[DecisionRecord]:
        return sorted(
            (d for d in self.decisions_by_id.values() if d.deployment_id == deployment_id), key=lambda d: d.occurred_at
        )

    def deployments(self, environment: str, since: datetime, until: datetime) -> Sequence[DeploymentRecord]:
        return [d for d in self.records.values() if d.started_at and since <= d.started_at <= until]

    def decisions(self, environment: str, since: datetime, until: datetime) -> Sequence[DecisionRecord]:
        return [d for d in self.decisions_by_id.values() if since <= d.occurred_at <= until]

    def builds(self, environment: str, since: datetime, until: datetime) -> Sequence[BuildRecord]:
        return [b for b in self.built.values() if since <= b.completed_at <= until]


@dataclass
class FakeDeployments:
    infos: dict[str, DeploymentInfo] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def describe(self, deployment_id: str) -> DeploymentInfo | None:
        self.calls.append(deployment_id)
        return self.infos.get(deployment_id)


@dataclass
class FakeMetrics:
    published: list[dict[str, Any]] = field(default_factory=list)

    def publish(self, *, environment: str, service: str, values: Mapping[str, tuple[str, float]]) -> None:
        self.published.append(
            {"environment": environment, "service": service, **{k: v for k, (_, v) in values.items()}}
        )
