"""tollgate approve|reject and tollgate canary status|promote|abort on the embedded AWS (real DynamoDB calls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.state_table import StateTable, key
from lambdas.hooks.state import find_approval
from tollgate.cli import main
from tollgate.embedded_aws.tables import STATE_TABLE, create_tollgate_tables

DEPLOYMENT = "d-CANARY0001"


@pytest.fixture
def tables(embedded_aws: Any) -> StateTable:
    create_tollgate_tables(aws.client("dynamodb"))
    return StateTable(STATE_TABLE)


def test_an_approver_approves_once_and_a_second_decision_is_refused(
    tables: StateTable, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an approver approves, then another rejects the same deployment
    first = main(["approve", "--env", "production", "--deployment-id", DEPLOYMENT, "--by", "release-manager"])
    out = capsys.readouterr().out
    second = main(["reject", "--env", "production", "--deployment-id", DEPLOYMENT, "--by", "lms-lead"])
    err = capsys.readouterr().err
    # Then the first decision stands, with who and when, and the second says so in one line
    assert first == 0 and "approved production/" in out and "announced Approval Given" in out
    assert second == 2 and "already approved by release-manager" in err and err.count("\n") == 1
    approval = find_approval(STATE_TABLE, DEPLOYMENT)
    assert approval is not None and approval.approved_by == "release-manager"


@pytest.mark.parametrize(
    ("by", "message"),
    [
        ("mallory", "mallory may not approve deployments in production; approvers: release-manager, lms-lead"),
        ("", "--by must be a name"),
        ("two words", "--by must be a name"),
    ],
)
def test_strangers_and_empty_names_are_refused(
    tables: StateTable, capsys: pytest.CaptureFixture[str], by: str, message: str
) -> None:
    code = main(["approve", "--env", "production", "--deployment-id", DEPLOYMENT, "--by", by])
    assert code == 2
    assert message in capsys.readouterr().err
    assert tables.get(key("approval", DEPLOYMENT, "approval")) is None


def test_a_rejection_is_no_approval_for_the_hooks(tables: StateTable, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reject", "--env", "production", "--deployment-id", DEPLOYMENT, "--by", "lms-lead", "--reason", "no"])
    assert code == 0 and "rejected production/" in capsys.readouterr().out
    assert find_approval(STATE_TABLE, DEPLOYMENT) is None


def test_canary_commands_refuse_when_no_canary_runs(tables: StateTable, capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("status", "promote", "abort"):
        code = main(["canary", action, "--env", "production", "--service", "backend", "--by", "lms-lead"])
        assert code == 2
        assert "no canary" in capsys.readouterr().err


def test_promote_and_abort_a_running_canary(tables: StateTable, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a canary of backend baking at 10%
    now = datetime.now(UTC)
    retain = timedelta(days=1)
    tables.put(key("canary", "backend", "current"), {"deployment_id": DEPLOYMENT}, now=now, retain=retain)
    tables.put(
        key("canary", DEPLOYMENT, "progress"),
        {
            "canary_status": "running",
            "step_percent": "10",
            "weights": '{"blue": 90, "green": 10}',
            "bake_started_at": now.isoformat(),
            "bake_until": (now + timedelta(seconds=300)).isoformat(),
        },
        now=now,
        retain=retain,
    )
    # When an operator looks, promotes and aborts
    assert main(["canary", "status", "--env", "production", "--service", "backend"]) == 0
    status = capsys.readouterr().out
    assert main(["canary", "promote", "--env", "production", "--service", "backend", "--by", "lms-lead"]) == 0
    promoted = capsys.readouterr().out
    assert main(["canary", "abort", "--env", "production", "--service", "backend", "--by", "lms-lead"]) == 0
    aborted = capsys.readouterr().out
    # Then each says what it did, and the canary's tasks find the requests where they look
    assert f"{DEPLOYMENT}: running at 10%; split blue 90% / green 10%; bake left" in status
    assert "promote of backend" in promoted and "abort of backend" in aborted
    assert tables.get(key("canary", DEPLOYMENT, "promote#10")) is not None
    assert tables.get(key("canary", DEPLOYMENT, "abort")) is not None
