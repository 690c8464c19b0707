"""The operator-rollback function on the embedded AWS: the custom event on Tollgate's bus, or a direct invoke."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.rollback.operator import OperatorRollbackRequest, RollbackType, request_event
from tests.functional.rollback.scenario import RollbackScenario
from tollgate.local.context import LocalLambdaContext


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from lambdas.rollback.operator_handler import handler  # noqa: PLC0415

    return handler(event, LocalLambdaContext(function_name="tollgate-operator-rollback"))


def _as_eventbridge(sample: dict[str, Any], scenario: RollbackScenario) -> dict[str, Any]:
    return {**sample, "account": scenario.seeded.account_id}


def _detail_types(scenario: RollbackScenario) -> list[str]:
    return [e["DetailType"] for p in scenario.announcements() for e in p["Entries"]]


def test_service_request_on_the_bus_redeploys_each_service(staging: RollbackScenario, load_event: Any) -> None:
    # Given both staging services were released (previous revision, then current)
    for service in ("backend", "frontend"):
        staging.finished_deployment(service)
    staging.recorder.clear()

    # When the operator's request arrives on Tollgate's bus
    report = _invoke(_as_eventbridge(load_event("tollgate-operator-rollback-service.json"), staging))

    # Then each service's previous revision is redeployed and each rollback is announced
    assert report["decision"] == "rolled_back"
    assert len(staging.recorder.named("CreateDeployment")) == 2
    assert _detail_types(staging) == ["Rollback Started", "Rollback Started"]


def test_confirmed_database_request_restores_into_a_new_cluster(production: RollbackScenario, load_event: Any) -> None:
    # Given a production release whose database changes must be undone
    production.finished_deployment("backend")
    production.recorder.clear()

    # When a confirmed database rollback is requested
    report = _invoke(_as_eventbridge(load_event("tollgate-operator-rollback-database.json"), production))

    # Then a new cluster is restored from the original, which is left as it was
    [restore] = production.recorder.named("RestoreDBClusterToPointInTime")
    assert restore.params["SourceDBClusterIdentifier"] == "lms-production-db"
    assert restore.params["DBClusterIdentifier"].startswith("lms-production-db-rollback-")
    assert report["restored_cluster_arn"]
    assert production.recorder.named("ModifyDBCluster") == []
    clusters = aws.client("rds").describe_db_clusters()["DBClusters"]
    assert {c["DBClusterIdentifier"] for c in clusters} >= {"lms-production-db", restore.params["DBClusterIdentifier"]}
    details = [json.loads(e["Detail"]) for p in production.announcements() for e in p["Entries"]]
    assert details[0]["evidence"]["cut_over"]


def test_unconfirmed_database_request_is_refused_and_announced(production: RollbackScenario) -> None:
    # Given an unconfirmed database rollback sent straight to the function
    production.finished_deployment("backend")
    request = OperatorRollbackRequest(environment="production", type=RollbackType.DATABASE, services=("backend",))
    production.recorder.clear()

    # When the function is invoked directly
    report = _invoke({"request": request.model_dump(mode="json")})

    # Then nothing is restored, and the refusal is announced
    assert report["decision"] == "refused"
    assert "--yes" in report["reason"]
    assert production.recorder.named("RestoreDBClusterToPointInTime") == []
    assert _detail_types(production) == ["Rollback Skipped"]


def test_request_event_built_by_the_command_is_understood(production: RollbackScenario) -> None:
    # Given the event the command's --live sends
    production.in_flight_deployment("frontend")
    request = OperatorRollbackRequest(
        environment="production", type=RollbackType.SERVICE, services=("frontend",), requested_by="ana"
    )
    event = request_event(request, datetime.now(UTC))
    envelope = {
        "version": "0",
        "id": "3f0f3c0e-2f7e-4c8b-9d52-7a1e0b6c5d41",
        "detail-type": event.detail_type.value,
        "source": "tollgate",
        "account": production.seeded.account_id,
        "time": "2026-03-12T15:02:11Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": event.detail(),
    }
    production.recorder.clear()

    # When it arrives
    report = _invoke(envelope)

    # Then the in-flight frontend deployment is stopped with rollback
    assert report["decision"] == "rolled_back"
    assert [c.params["autoRollbackEnabled"] for c in production.recorder.named("StopDeployment")] == [True]


@pytest.mark.parametrize(
    "event",
    [
        {"id": "x", "detail-type": "Something Else", "detail": {}},
        {"id": "y", "detail-type": "Operator Rollback Requested", "detail": {"evidence": {"request": {"type": "?"}}}},
        {"request": {"environment": "production"}},
    ],
)
def test_malformed_or_unknown_events_are_ignored(production: RollbackScenario, event: dict[str, Any]) -> None:
    report = _invoke(event)
    assert report["decision"] == "ignored"
    assert production.recorder.mutating() == []
