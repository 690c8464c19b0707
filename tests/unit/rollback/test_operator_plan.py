"""plan_operator_rollback: services, database (new cluster, explicit confirmation) and full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.core.config import load_environment
from lambdas.rollback.models import DeploymentPhase, DeploymentRecord, DeploymentState, Outcome, RollbackAction
from lambdas.rollback.operator import (
    RESTORE_MARGIN,
    DatabaseState,
    OperatorRollbackRequest,
    RollbackType,
    plan_operator_rollback,
    request_event,
    request_from_detail,
    rollback_cluster_name,
)

NOW = datetime(2026, 3, 12, 15, 2, tzinfo=UTC)
STARTED = NOW - timedelta(minutes=40)
PRODUCTION = load_environment("production")
DEVELOPMENT = load_environment("development")
DB = DatabaseState(cluster="lms-production-db", found=True, engine="aurora-postgresql")


def _td(service: str, revision: int, env: str = "production") -> str:
    return f"arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-{env}-{service}:{revision}"


def _state(service: str, phase: DeploymentPhase = DeploymentPhase.SUCCEEDED, **latest: Any) -> DeploymentState:
    record = DeploymentRecord(
        deployment_id=f"d-{service.upper()[:9]:0<9}",
        phase=phase,
        created_at=STARTED,
        completed_at=NOW - timedelta(minutes=30),
        task_definition=_td(service, 7),
        **latest,
    )
    return DeploymentState(
        service=service,
        latest=record,
        current_task_definition=_td(service, 7),
        previous_task_definition=_td(service, 6),
    )


STATES = {s: _state(s) for s in ("backend", "frontend")}


def _request(type_: RollbackType = RollbackType.SERVICE, **fields: Any) -> OperatorRollbackRequest:
    values: dict[str, Any] = {"environment": "production", "type": type_, "services": ("backend", "frontend")}
    return OperatorRollbackRequest(**{**values, **fields})


def test_service_rollback_redeploys_each_previous_revision_however_long_ago() -> None:
    # Given releases that finished long outside the alarm watch window
    # When an operator asks for a service rollback three days later
    plan = plan_operator_rollback(_request(), STATES, None, PRODUCTION, NOW + timedelta(days=3))

    # Then every service goes back to its previous revision
    assert [(d.service, d.action, d.target_task_definition) for d in plan.services] == [
        ("backend", RollbackAction.REDEPLOY_PREVIOUS, _td("backend", 6)),
        ("frontend", RollbackAction.REDEPLOY_PREVIOUS, _td("frontend", 6)),
    ]
    assert plan.database is None
    assert plan.acts


def test_in_flight_deployment_is_stopped() -> None:
    states = {**STATES, "backend": _state("backend", DeploymentPhase.IN_FLIGHT)}
    plan = plan_operator_rollback(_request(), states, None, PRODUCTION, NOW)
    assert plan.services[0].action is RollbackAction.STOP_DEPLOYMENT


def test_to_a_revision_redeploys_it_even_after_a_rollback() -> None:
    states = {"backend": _state("backend", is_rollback=True)}
    request = _request(services=("backend",), to="4")
    plan = plan_operator_rollback(request, states, None, PRODUCTION, NOW, targets={"backend": _td("backend", 4)})
    assert plan.services[0].action is RollbackAction.REDEPLOY_PREVIOUS
    assert plan.services[0].target_task_definition == _td("backend", 4)


def test_to_a_revision_while_a_deployment_is_in_flight_is_skipped() -> None:
    states = {"backend": _state("backend", DeploymentPhase.IN_FLIGHT)}
    request = _request(services=("backend",), to="4")
    plan = plan_operator_rollback(request, states, None, PRODUCTION, NOW, targets={"backend": _td("backend", 4)})
    assert plan.services[0].outcome is Outcome.SKIPPED
    assert "in flight" in plan.services[0].reason


def test_latest_rollback_without_to_is_skipped() -> None:
    plan = plan_operator_rollback(_request(), {**STATES, "backend": _state("backend", is_rollback=True)}, None,
                                  PRODUCTION, NOW)  # fmt: skip
    assert plan.services[0].outcome is Outcome.SKIPPED
    assert "--to" in plan.services[0].reason


def test_service_without_known_deployment_goes_back_from_what_runs_now() -> None:
    state = DeploymentState(
        service="frontend",
        current_task_definition=_td("frontend", 2, "development"),
        previous_task_definition=_td("frontend", 1, "development"),
    )
    request = _request(environment="development", services=("frontend",))
    plan = plan_operator_rollback(request, {"frontend": state}, None, DEVELOPMENT, NOW)
    assert plan.services[0].action is RollbackAction.UPDATE_SERVICE
    assert plan.services[0].deployment_id == _td("frontend", 2, "development")


def test_database_rollback_restores_just_before_the_deployment_into_a_new_cluster() -> None:
    plan = plan_operator_rollback(_request(RollbackType.DATABASE, confirmed=True), STATES, DB, PRODUCTION, NOW)
    assert plan.database is not None
    assert plan.database.source_cluster == "lms-production-db"
    assert plan.database.target_cluster == "lms-production-db-rollback-202603121502"
    assert plan.database.restore_to == STARTED - RESTORE_MARGIN
    assert plan.services == ()
    assert any("wait db-cluster-available" in step for step in plan.cut_over)
    assert plan.acts


@pytest.mark.parametrize("type_", [RollbackType.DATABASE, RollbackType.FULL])
def test_database_rollback_without_confirmation_refuses(type_: RollbackType) -> None:
    plan = plan_operator_rollback(_request(type_), STATES, DB, PRODUCTION, NOW)
    assert not plan.acts
    assert plan.refusal is not None and "--yes" in plan.refusal


def test_dry_run_plans_without_confirmation_and_does_not_act() -> None:
    plan = plan_operator_rollback(_request(RollbackType.FULL, dry_run=True), STATES, DB, PRODUCTION, NOW)
    assert plan.refusal is None
    assert plan.database is not None and len(plan.services) == 2
    assert not plan.acts


@pytest.mark.parametrize(
    ("request_fields", "states", "database", "words"),
    [
        ({"services": ("payments",)}, STATES, DB, "unknown service"),
        ({"environment": "staging"}, STATES, DB, "not production"),
        ({}, STATES, DatabaseState(cluster="lms-production-db", found=False), "not found"),
        ({}, {}, DB, "no deployment"),
        ({}, STATES, DB.model_copy(update={"earliest_restorable": NOW}), "earliest restorable"),
        ({}, STATES, DB.model_copy(update={"latest_restorable": STARTED - timedelta(hours=1)}), "latest restorable"),
    ],
)
def test_database_plans_that_cannot_be_carried_out_refuse(
    request_fields: dict[str, Any], states: dict[str, DeploymentState], database: DatabaseState, words: str
) -> None:
    plan = plan_operator_rollback(_request(RollbackType.DATABASE, confirmed=True, **request_fields), states,
                                  database, PRODUCTION, NOW)  # fmt: skip
    assert plan.refusal is not None and words in plan.refusal
    assert not plan.acts


def test_database_to_an_explicit_time() -> None:
    at = "2026-03-12T09:00:00+00:00"
    plan = plan_operator_rollback(_request(RollbackType.DATABASE, confirmed=True, to=at), {}, DB, PRODUCTION, NOW)
    assert plan.database is not None
    assert plan.database.restore_to == datetime.fromisoformat(at)


def test_cluster_name_fits_rds_limits() -> None:
    name = rollback_cluster_name("x" * 63, NOW)
    assert len(name) <= 63
    assert name.endswith("-rollback-202603121502")


def test_request_round_trips_through_the_bus_event() -> None:
    request = _request(RollbackType.FULL, confirmed=True, to="5", requested_by="ana")
    assert request_from_detail(request_event(request, NOW).detail()) == request


@settings(max_examples=200, deadline=None)
@given(
    type_=st.sampled_from(list(RollbackType)),
    confirmed=st.booleans(),
    dry_run=st.booleans(),
    started_ago=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=6)),
)
def test_the_original_database_is_never_the_target_and_confirmation_is_required(
    type_: RollbackType, confirmed: bool, dry_run: bool, started_ago: timedelta
) -> None:
    states = {s: _state(s).model_copy(update={"latest": _state(s).latest.model_copy(  # type: ignore[union-attr]
        update={"created_at": NOW - started_ago})}) for s in STATES}  # fmt: skip
    plan = plan_operator_rollback(_request(type_, confirmed=confirmed, dry_run=dry_run), states, DB, PRODUCTION, NOW)
    if plan.database is not None:
        assert plan.database.target_cluster != plan.database.source_cluster
        assert plan.database.restore_to < NOW - started_ago
    if plan.acts and type_ is not RollbackType.SERVICE:
        assert confirmed and not dry_run
