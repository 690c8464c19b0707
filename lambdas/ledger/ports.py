"""What the ledger's use cases need from AWS (Protocols); adapters/ implements them, tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from lambdas.ledger.model import BuildRecord, DecisionRecord, DeploymentRecord

Value = str | float | bool | datetime


@dataclass(frozen=True)
class DeploymentUpdate:
    """What one event adds to a deployment's record.

    Every field is written only if absent, and state times are per state, so the same update applied
    twice, or updates applied in any order, give the same record (at-least-once, out-of-order delivery).
    """

    deployment_id: str
    environment: str
    states: Mapping[str, datetime] = field(default_factory=dict)
    fields: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentInfo:
    """What CodeDeploy says about a deployment (GetDeployment)."""

    deployment_id: str
    status: str
    created_at: datetime | None
    completed_at: datetime | None
    description: str | None
    creator: str | None
    rollback_of: str | None  # rollbackInfo.rollbackTriggeringDeploymentId
    rollback_deployment_id: str | None  # rollbackInfo.rollbackDeploymentId


class DeploymentReader(Protocol):
    def describe(self, deployment_id: str) -> DeploymentInfo | None:
        """None when CodeDeploy does not know the deployment or cannot be asked (the next event retries)."""
        ...


class LedgerWriter(Protocol):
    def merge_deployment(self, update: DeploymentUpdate) -> None: ...

    def put_decision(self, decision: DecisionRecord) -> None: ...


class LedgerReader(Protocol):
    def deployment(self, deployment_id: str) -> DeploymentRecord | None: ...

    def decisions_of(self, deployment_id: str) -> Sequence[DecisionRecord]: ...

    def deployments(self, environment: str, since: datetime, until: datetime) -> Sequence[DeploymentRecord]: ...

    def decisions(self, environment: str, since: datetime, until: datetime) -> Sequence[DecisionRecord]: ...

    def builds(self, environment: str, since: datetime, until: datetime) -> Sequence[BuildRecord]: ...


class BuildWriter(Protocol):
    def put_build_once(self, build: BuildRecord, *, environment: str, delivery_id: str) -> bool:
        """Record the build and its delivery together; False when that delivery was already recorded."""
        ...
