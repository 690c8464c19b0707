"""``tollgate rollback`` on the embedded AWS: the plan, the calls, dry runs and the database confirmation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lambdas.core.tollgate_events import DetailType, TollgateEvent
from tollgate.cli import main

MUTATING = ("StopDeployment", "CreateDeployment", "UpdateService", "RestoreDBClusterToPointInTime")
NEVER = ("DeleteDBCluster", "ModifyDBCluster", "DeleteDBInstance", "ModifyDBInstance")


def _rollback(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["rollback", *args])
    captured = capsys.readouterr()
    stdout = "\n".join(line for line in captured.out.splitlines() if not line.startswith('{"level"'))
    return code, stdout, captured.err


def _calls(stdout: str) -> list[str]:
    block = stdout.split("AWS calls made on the embedded AWS", 1)[1]
    return [line.split()[1] for line in block.splitlines()[1:] if line.startswith("  ") and len(line.split()) > 1]


def test_dry_run_prints_the_plan_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # When an operator asks for a dry run of a production service rollback
    code, out, _ = _rollback(capsys, "-e", "production", "-t", "service", "-s", "backend,frontend", "--dry-run")

    # Then the plan names each service's previous revision, and only reads were made
    assert code == 0
    assert re.search(r"service  backend: redeploy_previous -> \S+lms-production-backend:1", out)
    assert re.search(r"service  frontend: redeploy_previous -> \S+lms-production-frontend:1", out)
    assert "Dry run: nothing was changed." in out
    calls = _calls(out)
    assert calls, "the plan reads the deployments"
    assert not set(calls) & set(MUTATING)


def test_service_rollback_redeploys_each_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _rollback(capsys, "-e", "staging", "-t", "service", "-s", "backend,frontend")
    assert code == 0
    assert _calls(out).count("CreateDeployment") == 2
    assert "RestoreDBClusterToPointInTime" not in _calls(out)


def test_database_rollback_without_yes_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    # When a database rollback is asked for without --yes
    code, out, err = _rollback(capsys, "-e", "production", "-t", "database", "-s", "backend")

    # Then it exits non-zero with a clear message, and restores nothing
    assert code != 0
    assert "explicit confirmation" in err
    assert "--yes" in err
    assert "RestoreDBClusterToPointInTime" not in _calls(out)


def test_database_rollback_with_yes_restores_into_a_new_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    # When the operator confirms a database rollback
    code, out, _ = _rollback(capsys, "-e", "production", "-t", "database", "-s", "backend", "--yes")

    # Then the cluster is restored into a new cluster named for the rollback, with the cut-over steps
    assert code == 0
    assert _calls(out).count("RestoreDBClusterToPointInTime") == 1
    assert re.search(
        r"DBClusterIdentifier=lms-production-db-rollback-\d{12} SourceDBClusterIdentifier=lms-production-db", out
    )
    assert "Cut-over steps" in out
    assert not set(_calls(out)) & set(NEVER)
    assert not {"CreateDeployment", "StopDeployment"} & set(_calls(out))


def test_full_rollback_restores_the_database_then_the_services(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _rollback(capsys, "-e", "staging", "-t", "full", "-s", "backend", "--yes")
    assert code == 0
    calls = _calls(out)
    assert calls.index("RestoreDBClusterToPointInTime") < calls.index("CreateDeployment")


def test_full_dry_run_plans_both_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _rollback(capsys, "-e", "production", "-t", "full", "--dry-run")
    assert code == 0
    assert "NEW cluster lms-production-db-rollback-" in out
    assert "service  backend" in out
    assert not set(_calls(out)) & set(MUTATING)


def test_to_a_revision_updates_the_development_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _rollback(capsys, "-e", "development", "-t", "service", "-s", "frontend", "--to", "1")
    assert code == 0
    assert re.search(r"UpdateService .*taskDefinition=\S+lms-development-frontend:1", out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "payments"], "unknown service"),
        (["--to", "99"], "not found"),
    ],
)
def test_impossible_requests_are_refused(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = _rollback(capsys, "-e", "staging", "-t", "service", *args)
    assert code != 0
    assert message in err
    assert not set(_calls(out)) & set(MUTATING)


def test_live_database_rollback_without_yes_refuses_before_sending(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    sent: list[Any] = []
    monkeypatch.setattr("lambdas.core.bus.announce", lambda event, **_: sent.append(event) or "id")
    code, _, err = _rollback(capsys, "-e", "production", "-t", "full", "--live")
    assert code != 0
    assert "--yes" in err
    assert sent == []


def test_live_sends_the_operator_rollback_request_to_tollgates_bus(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the real account (no embedded AWS endpoint) and Tollgate's bus
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    sent: list[tuple[TollgateEvent, str]] = []
    monkeypatch.setattr("lambdas.core.bus.announce", lambda event, bus_name: sent.append((event, bus_name)) or "e-1")

    # When the operator asks for a live service rollback
    code, out, _ = _rollback(capsys, "-e", "production", "-t", "service", "-s", "backend", "--live", "--by", "ana")

    # Then one Operator Rollback Requested event carries the request to the bus
    assert code == 0
    [(event, bus)] = sent
    assert bus == "tollgate-production"
    assert event.detail_type is DetailType.OPERATOR_ROLLBACK_REQUESTED
    assert event.evidence["request"]["services"] == ["backend"]
    assert event.evidence["request"]["requested_by"] == "ana"
    assert "e-1" in out
