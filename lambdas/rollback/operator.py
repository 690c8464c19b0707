"""The operator rollback: what an operator asked for and the plan that answers it (pure).

The ``tollgate rollback`` command and the operator-rollback function share this module: both plan with
``plan_operator_rollback`` and carry the plan out with ``lambdas.rollback.operator_run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdas.core.config import EnvironmentConfig, Severity, Strategy
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.rollback.decision import rollback_of
from lambdas.rollback.models import (
    DeploymentPhase,
    DeploymentRecord,
    DeploymentState,
    Outcome,
    RollbackDecision,
)

# Restore the database to this long before the deployment started, so no write of the new version is kept.
RESTORE_MARGIN = timedelta(minutes=1)
RDS_IDENTIFIER_MAX = 63


class RollbackType(StrEnum):
    SERVICE = "service"
    DATABASE = "database"
    FULL = "full"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class OperatorRollbackRequest(_Frozen):
    """The flags of ``tollgate rollback`` (and of the seed's rollback.sh), as sent on Tollgate's bus."""

    environment: str
    type: RollbackType
    services: tuple[str, ...] = Field(min_length=1)
    to: str | None = None
    dry_run: bool = False
    confirmed: bool = False
    requested_by: str = "operator"

    @field_validator("services")
    @classmethod
    def _named_services(cls, services: tuple[str, ...]) -> tuple[str, ...]:
        if not services or any(not s.strip() for s in services):
            raise ValueError("services: name at least one service, and no empty names (e.g. -s backend,frontend)")
        return tuple(s.strip() for s in services)

    @field_validator("requested_by")
    @classmethod
    def _named_requester(cls, requested_by: str) -> str:
        if not requested_by.strip():
            raise ValueError("requested_by: say who asks (--by NAME)")
        return requested_by.strip()

    @model_validator(mode="after")
    def _time_with_zone(self) -> OperatorRollbackRequest:
        if self.type is RollbackType.DATABASE and self.to is not None and self.restore_time is None:
            raise ValueError(
                f"--to {self.to!r}: -t database needs an ISO-8601 time with a zone, e.g. 2026-03-12T14:00:00+00:00"
            )
        return self

    @property
    def touches_database(self) -> bool:
        return self.type in (RollbackType.DATABASE, RollbackType.FULL)

    @property
    def touches_services(self) -> bool:
        return self.type in (RollbackType.SERVICE, RollbackType.FULL)

    @property
    def restore_time(self) -> datetime | None:
        """``--to`` read as a time (database rollbacks only); None when it is a revision."""
        if self.type is not RollbackType.DATABASE or not self.to:
            return None
        if "T" not in self.to.upper() and " " not in self.to:
            return None  # a bare date (2020-01-01) or number is not a point in time
        try:
            parsed = datetime.fromisoformat(self.to)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else None


class DatabaseState(_Frozen):
    cluster: str
    found: bool
    engine: str | None = None
    earliest_restorable: datetime | None = None
    latest_restorable: datetime | None = None


class DatabaseRestore(_Frozen):
    """RestoreDBClusterToPointInTime into a NEW cluster; the original is never touched."""

    source_cluster: str
    target_cluster: str
    restore_to: datetime
    reason: str


class OperatorRollbackPlan(_Frozen):
    request: OperatorRollbackRequest
    database: DatabaseRestore | None = None
    services: tuple[RollbackDecision, ...] = ()
    refusal: str | None = None
    cut_over: tuple[str, ...] = ()

    @property
    def acts(self) -> bool:
        return self.refusal is None and not self.request.dry_run


# "-rollback-" and a minute's timestamp (%Y%m%d%H%M, 12 characters).
ROLLBACK_SUFFIX_LENGTH = len("-rollback-") + 12


def rollback_cluster_prefix(cluster: str) -> str:
    """What every restored cluster's name starts with: the source's name cut to fit, then ``-rollback-``.

    The operator function may create only clusters named so (its IAM grant is ``<prefix>*``): for a source name
    longer than 41 characters the prefix is the *cut* name, which ``<cluster>-rollback-*`` would not match.
    """
    return f"{cluster[: RDS_IDENTIFIER_MAX - ROLLBACK_SUFFIX_LENGTH].rstrip('-')}-rollback-"


def rollback_cluster_name(cluster: str, now: datetime) -> str:
    return f"{rollback_cluster_prefix(cluster)}{now:%Y%m%d%H%M}"


def plan_operator_rollback(
    request: OperatorRollbackRequest,
    states: Mapping[str, DeploymentState],
    database: DatabaseState | None,
    config: EnvironmentConfig,
    now: datetime,
    *,
    targets: Mapping[str, str] | None = None,
) -> OperatorRollbackPlan:
    """Plan an operator's rollback: database first (for ``full``), then each service.

    ``states`` holds each requested service's deployments; ``targets`` the task definitions ``--to``
    resolved to. The plan refuses (and nothing acts) when the request cannot be carried out safely.
    """
    unknown = [s for s in request.services if s not in config.lms.services]
    if request.environment != config.name:
        return OperatorRollbackPlan(request=request, refusal=f"request is for {request.environment}, not {config.name}")
    if unknown:
        known = ", ".join(config.lms.services)
        return OperatorRollbackPlan(request=request, refusal=f"unknown service(s) {', '.join(unknown)}; known: {known}")
    plan_db: DatabaseRestore | None = None
    cut_over: tuple[str, ...] = ()
    if request.touches_database:
        restore_or_refusal = _plan_database(request, states, database, config, now)
        if isinstance(restore_or_refusal, str):
            return OperatorRollbackPlan(request=request, refusal=restore_or_refusal)
        plan_db = restore_or_refusal
        cut_over = cut_over_steps(plan_db, database, config)
    services: tuple[RollbackDecision, ...] = ()
    if request.touches_services:
        why = f"{request.requested_by} asked for a {request.type.value} rollback"
        services = tuple(
            _plan_service(service, states.get(service), config, why=why, target=(targets or {}).get(service))
            for service in request.services
        )
    refusal = None
    if request.touches_database and not request.confirmed and not request.dry_run:
        refusal = (
            f"a {request.type.value} rollback restores {config.lms.rds_cluster} into a new cluster and needs "
            "explicit confirmation: run again with --yes (or --dry-run to see the plan)"
        )
    return OperatorRollbackPlan(
        request=request, database=plan_db, services=services, refusal=refusal, cut_over=cut_over
    )


def _plan_service(
    service: str, state: DeploymentState | None, config: EnvironmentConfig, *, why: str, target: str | None
) -> RollbackDecision:
    common = {"environment": config.name, "service": service, "severity": Severity.CRITICAL}
    state = state or DeploymentState(service=service)
    latest = state.latest
    if target is not None:
        if latest is not None and latest.phase is DeploymentPhase.IN_FLIGHT and not _rolling(config):
            return RollbackDecision(
                outcome=Outcome.SKIPPED,
                reason=f"deployment {latest.deployment_id} is in flight: roll back without --to to stop it, "
                "then redeploy the revision you want",
                deployment_id=latest.deployment_id,
                **common,
            )
        # An explicit revision is redeployed whatever the latest deployment was, even a rollback.
        standing = (latest or _standing_deployment(state)).model_copy(
            update={"phase": DeploymentPhase.SUCCEEDED, "is_rollback": False}
        )
        to_target = state.model_copy(update={"previous_task_definition": target})
        return rollback_of(standing, to_target, config, service=service, why=f"{why} to {target}")
    if latest is not None and latest.is_rollback:
        return RollbackDecision(
            outcome=Outcome.SKIPPED,
            reason=f"the latest deployment {latest.deployment_id} of {service} is already a rollback: "
            "give --to REVISION to choose the revision",
            deployment_id=latest.deployment_id,
            **common,
        )
    return rollback_of(latest or _standing_deployment(state), state, config, service=service, why=why)


def _rolling(config: EnvironmentConfig) -> bool:
    return config.deployment.strategy is Strategy.ROLLING


def _standing_deployment(state: DeploymentState) -> DeploymentRecord:
    """What runs now when no deployment to roll back is known: keyed by its task definition."""
    current = state.current_task_definition or f"{state.service}@unknown"
    return DeploymentRecord(
        deployment_id=current, phase=DeploymentPhase.SUCCEEDED, created_at=datetime.min, task_definition=current
    )


def _plan_database(
    request: OperatorRollbackRequest,
    states: Mapping[str, DeploymentState],
    database: DatabaseState | None,
    config: EnvironmentConfig,
    now: datetime,
) -> DatabaseRestore | str:
    cluster = config.lms.rds_cluster
    if database is None or not database.found:
        return f"RDS cluster {cluster} not found: nothing to restore from"
    restore_to = request.restore_time
    reason = f"the time given with --to ({request.to})"
    if restore_to is None:
        started = [s.latest.created_at for s in states.values() if s.latest and s.latest.created_at.tzinfo]
        if not started:
            return (
                f"no deployment of {', '.join(request.services)} is known to restore before: "
                "give -t database --to <ISO-8601 time with zone>"
            )
        first = min(started)
        restore_to = first - RESTORE_MARGIN
        reason = f"just before the deployment started at {first.isoformat()}"
    if database.latest_restorable and restore_to > database.latest_restorable:
        return f"{restore_to.isoformat()} is after the latest restorable time {database.latest_restorable.isoformat()}"
    if database.earliest_restorable and restore_to < database.earliest_restorable:
        return (
            f"{restore_to.isoformat()} is before the earliest restorable time "
            f"{database.earliest_restorable.isoformat()} (backup retention)"
        )
    return DatabaseRestore(
        source_cluster=cluster,
        target_cluster=rollback_cluster_name(cluster, now),
        restore_to=restore_to,
        reason=f"restore {cluster} to {restore_to.isoformat()}, {reason}",
    )


def cut_over_steps(
    restore: DatabaseRestore, database: DatabaseState | None, config: EnvironmentConfig
) -> tuple[str, ...]:
    """What the operator does after the restore: Tollgate never repoints or deletes databases itself."""
    target, source = restore.target_cluster, restore.source_cluster
    engine = (database.engine if database else None) or "<engine of the original>"
    return (
        f"1. Wait for the new cluster: aws rds wait db-cluster-available --db-cluster-identifier {target}",
        f"2. Give it a writer: aws rds create-db-instance --db-cluster-identifier {target} "
        f"--db-instance-identifier {target}-1 --engine {engine} --db-instance-class <class of {source}'s writer>",
        f"3. Check the data in {target} (restored to {restore.restore_to.isoformat()}).",
        f"4. Point the LMS's database endpoint/secret at {target}'s endpoint and redeploy "
        f"{', '.join(config.lms.services)} (or run the service rollback).",
        f"5. Keep {source} until the cut-over is verified; Tollgate never modifies or deletes it.",
    )


def request_event(request: OperatorRollbackRequest, now: datetime) -> TollgateEvent:
    """The custom event ``Operator Rollback Requested`` on Tollgate's bus (the function's trigger)."""
    return TollgateEvent(
        detail_type=DetailType.OPERATOR_ROLLBACK_REQUESTED,
        environment=request.environment,
        severity=Severity.WARNING,
        summary=f"{request.requested_by} requested a {request.type.value} rollback of {', '.join(request.services)}",
        reason="operator request",
        occurred_at=now,
        evidence={"request": request.model_dump(mode="json")},
    )


def request_from_detail(detail: Mapping[str, Any]) -> OperatorRollbackRequest:
    """The request inside an ``Operator Rollback Requested`` detail (raises pydantic's ValidationError)."""
    evidence = detail.get("evidence") or {}
    return OperatorRollbackRequest.model_validate(evidence.get("request"))
